"""``python -m hourglass ...`` is the ``hourglass`` command (what ``torchrun -m hourglass`` runs)."""

import sys

from .cli import main

sys.exit(main())
