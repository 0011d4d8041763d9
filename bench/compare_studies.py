"""Two finished runs of a study, side by side: what a change of the workflow did to its numbers.

    .venv/bin/python bench/compare_studies.py BEFORE_FOLDER AFTER_FOLDER [--mode top_5pct]

Per system:
- the classical models' validation error (5-fold CV RMSE over each limit's train+val rows, from
  metrics.json; the test set is never read for it) and test RMSE (rmse_by_limit.csv), mean over
  the limits and models, before and after;
- inference structures the after run left out as already labeled (inference_equivalents.csv);
- screens (model x limit x seed x mode) whose selection changed, and how many of those changed
  only by the structures left out;
- the audit precision of ``--mode`` per family at the largest limit (base seed), with its Wilson
  interval, before and after (the interval as the after run writes it; recomputed for before);
- which result files are byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from qcrobust.metrics import wilson_interval
from qcrobust.screening import modes_from_config


def _cv_rmse(folder: Path, system: str) -> pd.DataFrame:
    rows = []
    for path in sorted((folder / "results" / system / "classical").glob("*/limit_*/seed_*/metrics.json")):
        model, limit, seed = path.parts[-4], int(path.parts[-3][6:]), int(path.parts[-2][5:])
        rows.append({"model": model, "limit": limit, "seed": seed, "cv_rmse": json.loads(path.read_text())["cv_rmse"]})
    return pd.DataFrame(rows)


def _test_rmse(folder: Path, system: str, family: str) -> pd.DataFrame:
    paths = sorted((folder / "results" / system / family).glob("*/summary/rmse_by_limit.csv"))
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True) if paths else pd.DataFrame()


def _screens(folder: Path, system: str, modes) -> dict[tuple, frozenset]:
    """Every screen of the run: the prediction tables (one per (family, model), issue 24) or,
    in a run from before them, one file per (family, model, limit, seed)."""
    out = {}
    tables = {}
    for path in sorted((folder / "results" / system).glob("*/*/predictions_inference.csv")):
        table = pd.read_csv(path, dtype={"id": str})
        for (limit, seed), block in table.groupby(["limit", "seed"]):
            tables[(path.parts[-3], path.parts[-2], f"limit_{limit}", f"seed_{seed}")] = block[["id", "y_pred"]]
    for path in sorted((folder / "results" / system).glob("*/*/limit_*/seed_*/pred_inference.csv")):
        tables[(path.parts[-5], path.parts[-4], path.parts[-3], path.parts[-2])] = pd.read_csv(path, dtype={"id": str})
    for key, table in tables.items():
        for mode in modes:
            out[(*key, mode.name)] = mode.select(table)
    return out


def _audit_precision(folder: Path, system: str, mode_name: str) -> pd.DataFrame:
    rows = []
    for path in sorted((folder / "results" / system).glob("*/*/summary/classification_audit.csv")):
        table = pd.read_csv(path)
        table = table[(table["mode"] == mode_name) & (table["limit"] == table["limit"].max())]
        for row in table.itertuples():
            tp, selected = int(row.tp), int(row.tp + row.fp)
            low, high = wilson_interval([tp], [selected])
            rows.append(
                {
                    "family": row.family,
                    "model": row.model,
                    "limit": int(row.limit),
                    "tp": tp,
                    "selected": selected,
                    "precision": tp / selected if selected else np.nan,
                    "ci_low": float(low[0]),
                    "ci_high": float(high[0]),
                }
            )
    return pd.DataFrame(rows)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "results").rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".parquet", ".extxyz", ".json")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--mode", default="top_5pct")
    args = parser.parse_args()
    import yaml

    config = yaml.safe_load((args.after / "config.yaml").read_text())
    from qcrobust.config import validate_config

    modes = modes_from_config(validate_config(config)["screening"]["modes"])
    for system in config["systems"]:
        print(f"\n## {system}")
        for label, folder in (("before", args.before), ("after", args.after)):
            cv = _cv_rmse(folder, system)
            test = _test_rmse(folder, system, "classical")
            base = cv[cv["seed"] == cv["seed"].min()]
            print(
                f"{label}: classical CV RMSE mean {1000 * base['cv_rmse'].mean():.3f} meV/atom "
                f"(per model: {', '.join(f'{m} {1000 * g.mean():.2f}' for m, g in base.groupby('model')['cv_rmse'])}); "
                f"test RMSE mean {1000 * test['rmse'].mean():.3f} "
                f"(per model: {', '.join(f'{m} {1000 * g.mean():.2f}' for m, g in test.groupby('model')['rmse'])})"
            )
        equivalents = args.after / "results" / system / "inference_equivalents.csv"
        known = set()
        if equivalents.is_file():
            table = pd.read_csv(equivalents, dtype=str)
            known = set(table.loc[table["relation"] == "labeled", "id"])
            print(f"inference structures already labeled (left out): {len(known)} of {len(table)}")
        before, after = _screens(args.before, system, modes), _screens(args.after, system, modes)
        common = sorted(set(before) & set(after))
        changed = [k for k in common if before[k] != after[k]]
        only_known = [k for k in changed if before[k] - known == after[k]]
        per_mode = pd.Series([k[-1] for k in changed]).value_counts().to_dict() if changed else {}
        print(
            f"screens changed: {len(changed)} of {len(common)} (per mode {per_mode}); "
            f"{len(only_known)} of them only by leaving the labeled structures out"
        )
        for label, folder in (("before", args.before), ("after", args.after)):
            audit = _audit_precision(folder, system, args.mode)
            for family, part in audit.groupby("family"):
                pooled_tp, pooled = int(part["tp"].sum()), int(part["selected"].sum())
                print(
                    f"{label}: audit precision of {args.mode} at limit {int(part['limit'].max())}, {family}: "
                    + ", ".join(
                        f"{r.model} {r.precision:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}] ({r.tp}/{r.selected})" for r in part.itertuples()
                    )
                    + f"; all models pooled {pooled_tp}/{pooled}"
                )
    digests = [_digests(args.before), _digests(args.after)]
    shared = sorted(set(digests[0]) & set(digests[1]))
    same = [p for p in shared if digests[0][p] == digests[1][p]]
    print(f"\nresult files in both runs: {len(shared)}; byte-identical: {len(same)}")
    groups = pd.Series([Path(p).name for p in same]).value_counts()
    print("byte-identical, by file name:", ", ".join(f"{n} x{c}" for n, c in groups.items()))
    differ = pd.Series([Path(p).name for p in shared if p not in same]).value_counts()
    print("differ, by file name:", ", ".join(f"{n} x{c}" for n, c in differ.items()))


if __name__ == "__main__":
    main()
