"""Allegro settings on CPU, chosen on validation data: the scratch regime under variants of the training settings.

Every variant is the study's settings (the repo's config.yaml, schema defaults filled) plus a few
overridden keys; each (variant, limit) trains a scratch model with the workflow's own function
(`qcrobust.allegro.pipeline.fit`) on the study's files `results/{system}/allegro_data/limit_{L}/`
(run the study, or at least those files, first) and is scored on that limit's VALIDATION split
(the error of the checkpoint the workflow keeps). The test set is not read while choosing:
use the largest limit (its validation split is large; limit 0 of the default data has 3
validation structures, which rank nothing).

    .venv/bin/python bench/allegro_sweep.py --system ScIr --limits 24 \\
        --variant current '{}' --variant lr01 '{"lr": 0.01}' [--jobs 2]

Once the settings are chosen, read the test set once, for the chosen variant only:

    .venv/bin/python bench/allegro_sweep.py --system ScIr --limits 24 --test current

One JSON line per finished (variant, limit) is appended to --out (default
/tmp/qcrobust-allegro-sweep/validation.jsonl); a rerun skips the lines already there. --jobs runs
that many trainings at once, one torch thread each (the workflow's CPU setting). Trained models
stay under the --out folder, so --test predicts with the very model that was scored.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def model_path(work: Path, variant: str, limit: int) -> Path:
    return work / variant / f"limit_{limit}" / "model.nequip.zip"


def run_one(settings: dict, system: str, limit: int, variant: str, work: Path) -> dict:
    from qcrobust.allegro.data import read_species
    from qcrobust.allegro.pipeline import fit

    data = REPO / "results" / system / "allegro_data"
    folder = data / f"limit_{limit}"
    facts = fit(
        settings=settings,
        stage="scratch",
        train_file=folder / "train.extxyz",
        val_file=folder / "val.extxyz",
        type_names=read_species(data / "species.json"),
        run_dir=work / variant / f"limit_{limit}" / "run",
        model_out=model_path(work, variant, limit),
        threads=1,
    )
    return {
        "variant": variant,
        "system": system,
        "limit": limit,
        "settings": settings,
        "val_rmse": facts["selected_val_rmse"],
        "checkpoint": facts["checkpoint"],
        "selected_epoch": facts["selected_epoch"],
        "n_train": facts["n_train"],
        "n_val": facts["n_val"],
        "epochs": facts["epochs"],
        "steps": facts["steps"],
        "fit_seconds": facts["fit_seconds"],
        "median_epoch_seconds": statistics.median(facts["epoch_seconds"]),
        "val_rmse_per_epoch": facts["val_rmse_per_epoch"],
    }


def test_once(system: str, limit: int, variant: str, work: Path) -> dict:
    """The chosen variant's model on the test set (the only read of the test set)."""
    from qcrobust.allegro.data import target_of
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames
    from qcrobust.metrics import regression_scores

    test = read_frames(REPO / "results" / system / "allegro_data" / f"limit_{limit}" / "test.extxyz")
    scores = regression_scores(target_of(test), Predictor(model_path(work, variant, limit)).predict(test))
    return {
        "variant": variant,
        "system": system,
        "limit": limit,
        "test": True,
        **scores,
        "test_std": float(statistics.pstdev(target_of(test))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", default="ScIr")
    parser.add_argument("--limits", nargs="+", type=int, default=[24])
    parser.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "JSON"), default=[])
    parser.add_argument("--test", metavar="VARIANT", help="after choosing: score this variant's models on the test set")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/qcrobust-allegro-sweep/validation.jsonl"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.test:
        for limit in args.limits:
            record = test_once(args.system, limit, args.test, args.out.parent)
            with args.out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(f"{args.test} limit {limit}: TEST rmse {record['rmse']:.4f} r2 {record['r2']:.2f} (test std {record['test_std']:.4f})")
        return
    from qcrobust.config import load_config
    from qcrobust.workflow.allegro import training_settings

    base = training_settings(load_config(REPO / "config.yaml"))  # what the training rules get
    done = set()
    if args.out.is_file():
        done = {(r["variant"], r["limit"]) for r in map(json.loads, args.out.read_text().splitlines()) if not r.get("test")}
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
            print(
                f"{record['variant']:>16} limit {record['limit']:>2}: VAL rmse {record['val_rmse']:.4f} "
                f"({record['checkpoint']} epoch {record['selected_epoch']} of {record['epochs']}, n_val {record['n_val']}) "
                f"fit {record['fit_seconds']:.0f} s epoch {record['median_epoch_seconds']:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
