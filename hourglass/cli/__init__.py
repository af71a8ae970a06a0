"""The ``hourglass`` command: a translation. Each command parses its options, makes one library call and prints
what came back. Library errors name parameters as the Python API does (``latent_dim``); here they are said as the
flags that set them (``--latent-dim``), in one line, with exit status 2.
"""

from __future__ import annotations

import os
import re
import sys

from ..errors import HourglassError
from ..training import distributed
from .parser import build_parser

EXIT_USAGE = 2


def as_flags(error: HourglassError, flags: dict[str, str]) -> str:
    """The error's message with each parameter it names said as the flag that sets it (latent_dim → --latent-dim)."""
    message = str(error)
    for name in error.params:
        if name in flags:
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", flags[name], message)
    return message


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # as typed: what --nproc starts in each process
    try:
        if getattr(args, "config", None) or getattr(args, "like", None):
            args = _with_run_file(parser, args, argv)
        return args.func(args)
    except HourglassError as e:
        if distributed.rank() == 0:  # under torchrun every rank meets the same error: rank 0 says it
            print(f"hourglass: error: {as_flags(e, args.flags)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hourglass: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # a read-only folder, a full disk, a path that cannot be made: the system's own words
        where = f"{e.filename}: " if e.filename else ""
        print(f"hourglass: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - the CLI's promise: one line, not a traceback
        if os.environ.get("HOURGLASS_DEBUG"):
            raise
        if distributed.launched() and distributed.peer_failure(e):
            return 1  # another rank died; the launcher names it
        print(
            f"hourglass: unexpected error: {type(e).__name__}: {e} (set HOURGLASS_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


def _with_run_file(parser, args, argv: list[str]):
    """The arguments again, with the run file's (and the recorded run's) values as the defaults: a flag typed on
    the command line still wins."""
    from ..run import SECTIONS, base

    run = base(args.config, args.like)
    defaults = {k: v for section in SECTIONS for k, v in run.get(section, {}).items()}  # each field is its own flag
    defaults.update({k: run[k] for k in ("data", "stream", "log") if k in run})
    if "out" in run and not args.like:  # a replay writes elsewhere
        defaults["out"] = run["out"]
    defaults.pop("progress", None)  # --quiet says it
    if isinstance(defaults.get("widths"), list):
        defaults["widths"] = tuple(defaults["widths"])
    args.subparser.set_defaults(**defaults)
    again = parser.parse_args(argv)
    again.argv = argv
    return again


if __name__ == "__main__":
    sys.exit(main())
