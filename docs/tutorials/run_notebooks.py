"""Executes the tutorials' notebooks (docs/tutorials/*.ipynb, edited as notebooks) top to bottom, each in a fresh
folder, and fails on the first cell that raises.

    .venv/bin/python docs/tutorials/run_notebooks.py            # CI's check (make notebooks): the small size
    .venv/bin/python docs/tutorials/run_notebooks.py --keep     # the tutorial's size, outputs kept for the site

The small size (``TUTORIAL_SIZE=small``) runs the same cells on less data for fewer epochs. ``--keep`` writes each
executed notebook back with its outputs (figures inline), which the site renders as they are (mkdocs-jupyter,
``execute: false``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="the tutorial's size; write the outputs back")
    parser.add_argument("names", nargs="*", help="the notebooks to run (default: all)")
    args = parser.parse_args()
    if args.keep:
        os.environ.pop("TUTORIAL_SIZE", None)
    else:
        os.environ["TUTORIAL_SIZE"] = "small"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [HERE / f"{n}.ipynb" for n in args.names] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": folder}})
            try:
                client.execute()
            except CellExecutionError as e:
                print(f"{path.name}: a cell failed\n{e}", file=sys.stderr)
                return 1
        print(f"{path.name}: every cell ran ({time.perf_counter() - started:.0f} s)")
        if args.keep:
            nbformat.write(nb, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
