"""Command line for building and checking the shipped default data (see :mod:`qcrobust.default_data.batch`).

    python -m qcrobust.default_data prepare --data data/default [--systems ScPt ...]
    python -m qcrobust.default_data label   --data data/default --workers 2 [--systems ...]
    python -m qcrobust.default_data verify  --data data/default [--systems ...] [--n 5] [--shard 0] [--json OUT]

``verify`` recomputes the first ``--n`` labels of each system's shard ``--shard`` on this machine and
compares them with the shipped ones (:func:`qcrobust.default_data.labels.compare_labels`); it
exits with status 1 if one differs beyond the stated tolerance.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from qcrobust.default_data.batch import label, prepare, verify
from qcrobust.default_data.parent import DEFAULT_DOPANTS
from qcrobust.errors import InputError

# the checkout's shipped data, wherever the command runs (an editable install lives in the checkout)
CHECKOUT_DATA = Path(__file__).resolve().parents[3] / "data" / "default"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qcrobust.default_data", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["prepare", "label", "verify"])
    parser.add_argument(
        "--data",
        type=Path,
        default=CHECKOUT_DATA if CHECKOUT_DATA.is_dir() else Path("data/default"),
        help="the shipped data folder (default: data/default of this qcrobust checkout)",
    )
    parser.add_argument("--systems", nargs="+", default=list(DEFAULT_DOPANTS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=5, help="verify: structures per system (the first of --shard)")
    parser.add_argument("--shard", type=int, default=0, help="verify: the shipped shard to recompute from")
    parser.add_argument("--json", type=Path, default=None, help="verify: also write the comparison as JSON records")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        run(args)
    except InputError as err:
        print(f"qcrobust: bad input: {err} (--data names the shipped data folder, data/default of a qcrobust checkout)", file=sys.stderr)
        sys.exit(2)


def run(args) -> None:
    if args.command == "prepare":
        prepare(args.data, args.systems)
    elif args.command == "label":
        label(args.data, args.systems, args.workers)
    else:
        table = verify(args.data, args.systems, args.n, args.shard)
        print(table.to_string(index=False))
        if args.json:
            args.json.write_text(table.to_json(orient="records", indent=1, double_precision=15))
        sys.exit(int((table["status"] == "differs").any()))


if __name__ == "__main__":
    main()
