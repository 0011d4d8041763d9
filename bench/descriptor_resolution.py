"""Descriptor settings: how many structures each tells apart, what it costs, and the classical
models' validation error with it (issue 22: the default descriptors must separate >= 99 % of the
symmetry-distinct inference structures, chosen on validation data only).

It reads a finished study folder (ingested structure sets, splits.csv, dataset_targets.csv, the
default data's parents), e.g. one made by `bash run.sh study`:

    .venv/bin/python bench/descriptor_resolution.py --study . [--systems ScPt ...] [--models rf lgbm]
        [--settings before ce12 env ce12+env] [--limits 0 12 24] [--out descriptor_resolution.csv]

Per system and setting: columns, descriptor CPU time per structure (feature_table of every set,
one process, one thread), the inference set's distinct descriptor vectors and the share of its
structures whose vector no other structure has (the default inference sets hold only
symmetry-distinct structures), the same for the dataset, and per model and limit the 5-fold
cross-validated RMSE over the limit's train+val rows (classical.train_limit: the test set is never
read; schema-default hyperparameters, seed 0, one thread).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from qcrobust import classical, features  # noqa: E402
from qcrobust.config import schema_defaults  # noqa: E402
from qcrobust.io import read_csv, read_frames  # noqa: E402

ENV = schema_defaults("features")["environment"] or {"cutoff": 8.0, "start": 2.0, "spacing": 0.5, "width": 0.5}
SETTINGS = {
    "before": {"cluster_cutoffs": [7.0, 5.0], "environment": None},  # the defaults until issue 22 (4a1e555)
    "ce12": {"cluster_cutoffs": [12.0, 6.0], "environment": None},
    "env": {"cluster_cutoffs": [7.0, 5.0], "environment": ENV},
    "ce12+env": {"cluster_cutoffs": [12.0, 6.0], "environment": ENV},
    "ce10+env": {"cluster_cutoffs": [10.0, 6.0], "environment": ENV},  # the defaults since issue 22
}
SETS = ("dataset", "inference", "audit")


def resolution(table: pd.DataFrame) -> tuple[int, float]:
    """Distinct descriptor vectors, and the share of rows whose vector is theirs alone."""
    groups = features.descriptor_groups(table)
    sizes = groups.map(groups.value_counts())
    return int(groups.nunique()), float((sizes == 1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", type=Path, default=Path("."))
    parser.add_argument("--systems", nargs="+", default=["ScPt", "ScPd", "ScIr", "ScRh"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--models", nargs="+", default=["rf", "lgbm"])
    parser.add_argument("--limits", nargs="+", type=int, default=[0, 12, 24])
    parser.add_argument("--target", default="e_above_hull")
    parser.add_argument("--out", type=Path, default=Path("descriptor_resolution.csv"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    params = schema_defaults("classical")["params"]
    rows = []
    for system in args.systems:
        root = args.study / "results" / system
        tables = [
            features.Table(name, root / f"{name}.extxyz", read_frames(root / f"{name}.extxyz"))
            for name in SETS
            if (root / f"{name}.extxyz").is_file()
        ]
        parent_path = args.study / "results" / "default_data" / system / "parent.extxyz"
        parent = features.read_parent(parent_path)
        splits = read_csv(root / "splits.csv", dtype={"id": str})
        targets = read_csv(root / "dataset_targets.csv", dtype={"id": str})
        for name in args.settings:
            settings = features.FeatureSettings.from_config(SETTINGS[name])
            start = time.process_time()
            space = features.feature_space(tables, settings, parent, parent_path)
            space_seconds = time.process_time() - start
            start = time.process_time()
            out = {t.name: features.feature_table(space, t, parent, parent_path) for t in tables}
            per_structure = (time.process_time() - start) / sum(len(t.frames) for t in tables)
            row = {
                "system": system,
                "setting": name,
                "columns": len(space.columns),
                "space_cpu_s": round(space_seconds, 1),
                "ms_per_structure": round(1000 * per_structure, 2),
            }
            for set_name in ("inference", "dataset"):
                distinct, unique = resolution(out[set_name])
                row |= {
                    f"{set_name}_rows": len(out[set_name]),
                    f"{set_name}_distinct": distinct,
                    f"{set_name}_unique_share": round(unique, 4),
                }
            for model in args.models:
                for limit in args.limits:
                    data = classical.limit_data(out["dataset"], targets, splits, limit, args.target)
                    _, metrics = classical.train_limit(data, model, params[model], folds=5, seed=0, threads=1)
                    row[f"cv_rmse_{model}_{limit}"] = round(1000 * metrics["cv_rmse"], 3)  # meV/atom
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False), flush=True)
            pd.DataFrame(rows).to_csv(args.out, index=False)
    print(pd.DataFrame(rows).to_markdown(index=False) if "tabulate" in sys.modules else pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
