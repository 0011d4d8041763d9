"""Which candidate ranking finds more truly selected structures first, on the audit sets (issue 26).

    .venv/bin/python bench/candidate_ranking.py RESULTS_DIR [--k 10] [--lcb-k 1.0]

RESULTS_DIR: a study's ``results/`` (e.g. a ``bench/e2e.py`` workdir's). For every system's
``candidates.csv`` and mode: the audited screened structures ordered by the selection share
(``share``), the mean prediction (``mean``) and the lower confidence bound mean - k x spread
(``lcb``), and the precision of the first k with its 95 % Wilson interval
(``qcrobust.candidates.ranking_precision``). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    import pandas as pd

    from qcrobust.candidates import ranking_precision

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--lcb-k", type=float, default=1.0)
    args = parser.parse_args()
    print(f"| system | mode | audited (truly selected) | {' | '.join(f'{r}: first {args.k}' for r in ('share', 'mean', 'lcb'))} |")
    print("|---|---|---|---|---|---|")
    for path in sorted(args.results.glob("*/candidates.csv")):
        # plain pandas: tables written before the share intervals lack columns the ranking does not need
        table = pd.read_csv(path, dtype={"id": str, "truly_selected": str, "mode": str})
        result = ranking_precision(table, args.k, args.lcb_k)
        for mode, part in result.groupby("mode", sort=False):
            cells = [f"{r.hits}/{r.k} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in part.itertuples()]
            print(f"| {path.parent.name} | {mode} | {part['n_audited'].iloc[0]} ({part['n_truly'].iloc[0]}) | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
