"""Allegro convergence on CPU: test RMSE of the scratch regime under variants of the training settings.

Picks the CPU default of config.yaml's `allegro:` block on purpose (issue 6). Every variant is the
study's settings (the repo's config.yaml, schema defaults filled) plus a few overridden keys;
each (variant, limit) trains a scratch model with the workflow's own function
(`qcrobust.allegro.pipeline.fit`) on the study's files `results/{system}/allegro_data/limit_{L}/`
(run the study, or at least those files, first) and predicts that limit's test set.

    .venv/bin/python bench/allegro_sweep.py --system ScIr --limits 0 24 \\
        --variant baseline '{}' --variant cosine '{"lr_schedule": "cosine"}' [--jobs 2]

One JSON line per finished (variant, limit) is appended to --out (default
/tmp/qcrobust-allegro-sweep/results.jsonl); a rerun skips the lines already there. --jobs runs
that many trainings at once, one torch thread each (the workflow's CPU setting).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_one(settings: dict, system: str, limit: int, variant: str, work: Path) -> dict:
    from qcrobust.allegro.data import read_species, target_of
    from qcrobust.allegro.pipeline import fit
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames
    from qcrobust.metrics import regression_scores

    data = REPO / "results" / system / "allegro_data"
    folder = data / f"limit_{limit}"
    model = work / variant / f"limit_{limit}" / "model.nequip.zip"
    facts = fit(settings=settings, stage="scratch", train_file=folder / "train.extxyz", val_file=folder / "val.extxyz",
                type_names=read_species(data / "species.json"), run_dir=work / variant / f"limit_{limit}" / "run",
                model_out=model, threads=1)
    test = read_frames(folder / "test.extxyz")
    scores = regression_scores(target_of(test), Predictor(model).predict(test))
    return {"variant": variant, "system": system, "limit": limit, "settings": settings, **scores,
            "test_std": float(statistics.pstdev(target_of(test))), "epochs": facts["epochs"],
            "fit_seconds": facts["fit_seconds"], "median_epoch_seconds": statistics.median(facts["epoch_seconds"]),
            "best_epoch": facts["best_epoch"], "val_rmse_per_epoch": facts["val_rmse_per_epoch"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", default="ScIr")
    parser.add_argument("--limits", nargs="+", type=int, default=[0, 24])
    parser.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "JSON"), required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/qcrobust-allegro-sweep/results.jsonl"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from qcrobust.allegro.workflow import training_settings
    from qcrobust.config import load_config

    base = training_settings(load_config(REPO / "config.yaml"))  # what the training rules get
    done = set()
    if args.out.is_file():
        done = {(r["variant"], r["limit"]) for r in map(json.loads, args.out.read_text().splitlines())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    for name, overrides in args.variant:
        settings = json.loads(json.dumps(base))
        for key, value in json.loads(overrides).items():
            if isinstance(value, dict):
                settings[key].update(value)
            else:
                settings[key] = value
        runs += [(settings, args.system, limit, name, args.out.parent) for limit in args.limits if (name, limit) not in done]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for record in pool.map(run_one, *zip(*runs)) if runs else []:
            with args.out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(f"{record['variant']:>16} limit {record['limit']:>2}: test rmse {record['rmse']:.4f} "
                  f"(std {record['test_std']:.4f}) epochs {record['epochs']} fit {record['fit_seconds']:.0f} s "
                  f"epoch {record['median_epoch_seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
