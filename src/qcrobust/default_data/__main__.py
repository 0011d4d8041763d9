"""Command line for building the shipped default data (see :mod:`qcrobust.default_data.batch`).

    python -m qcrobust.default_data prepare --data data/default [--systems ScPt ...]
    python -m qcrobust.default_data label   --data data/default --workers 2 [--systems ...]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from qcrobust.default_data.batch import label, prepare
from qcrobust.default_data.parent import DEFAULT_DOPANTS


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qcrobust.default_data", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["prepare", "label"])
    parser.add_argument("--data", type=Path, default=Path("data/default"))
    parser.add_argument("--systems", nargs="+", default=list(DEFAULT_DOPANTS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.command == "prepare":
        prepare(args.data, args.systems)
    else:
        label(args.data, args.systems, args.workers)


if __name__ == "__main__":
    main()
