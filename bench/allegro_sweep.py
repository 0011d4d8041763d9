"""Allegro settings on CPU, chosen on validation data: every regime, several limits and seeds,
under variants of the training settings, with what each model costs (issue 25).

Every variant is the study's settings (the repo's config.yaml, schema defaults filled) plus a few
overridden keys. Each (variant, regime, limit, seed) trains one model with the workflow's own
functions (`qcrobust.allegro.pipeline`) on a finished study's files (`--results`, e.g. a
`bench/e2e.py` workdir's `results/`: `{system}/allegro_data/`, the inference structures and the
external corpus), as the rules would:

- scratch: train on the limit's train split (validate on its val split);
- external: fine-tune the variant's own corpus-pretrained model (pretrained once per variant, as
  the study pretrains once; its cost is reported apart) on the limit's train split;
- self: pretrain on the limit's structures with A5 defects, fine-tune on limit 0 (at limit 0
  self is the scratch model, as in the workflow: no record of its own).

Scores (the test set is never read while choosing): `val_rmse`, the model on its own limit's
validation split (limit 0 of the default data has 3 structures: a noisy number), and
`val_max_rmse`, on the largest limit's validation split (the common yardstick of every model;
it holds the smaller limits' validation structures). Cost per model: `wall_s` and `cpu_s` (this
process's CPU time, one torch thread) of its training stages, and for the first seed
`predict_cpu_s`, predicting the system's inference structures from a graph file (the
rule `predict`'s work; written once per cutoff, its cost reported apart).

    .venv/bin/python bench/allegro_sweep.py --results /tmp/qcrobust-e2e/results --system ScIr \\
        --limits 0 12 24 --seeds 0 1 2 --regimes scratch external self --jobs 2 \\
        --variant current '{}' --variant rmax4 '{"model": {"cutoff_radius": 4.0}}'
    .venv/bin/python bench/allegro_sweep.py --summary          # the table of every variant so far
    .venv/bin/python bench/allegro_sweep.py --results ... --system ScIr --test current   # once, at the end

One JSON line per finished task is appended to --out (default
/tmp/qcrobust-allegro-sweep/sweep.jsonl); a rerun skips what is there. --jobs trainings run at
once, one torch thread each (the workflow's CPU setting). Models stay under --out's folder, so
--test predicts with the very models that were scored (every regime, limit and seed of a variant).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REGIMES = ("scratch", "external", "self")


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def model_dir(work: Path, variant: str, regime: str, limit: int, seed: int) -> Path:
    return work / variant / regime / f"limit_{limit}_seed_{seed}"


def rmse_on(model: Path, frames_file: Path) -> float:
    import numpy as np

    from qcrobust.allegro.data import target_of
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames

    frames = read_frames(frames_file)
    return float(np.sqrt(np.mean((Predictor(model).predict(frames) - target_of(frames)) ** 2)))


def pretrain_corpus(settings: dict, variant: str, results: Path, work: Path) -> dict:
    """The external regime's corpus pretraining, once per variant (the study does it once)."""
    from qcrobust.allegro.pipeline import pretrain_external

    folder = work / variant / "pretrain"
    start = _clock()
    facts = pretrain_external(
        settings=settings,
        corpus=results / "allegro_pretrain" / "corpus.extxyz",
        outputs={
            k: folder / f
            for k, f in {"train": "train.extxyz", "val": "val.extxyz", "model": "model.nequip.zip", "metrics": "metrics.json"}.items()
        },
        run_dir=folder / "run",
        threads=1,
    )
    wall, cpu = _since(start)
    return {
        "task": "pretrain",
        "variant": variant,
        "wall_s": wall,
        "cpu_s": cpu,
        "val_rmse": facts["selected_val_rmse"],
        "epochs": facts["epochs"],
    }


def write_graphs_once(r_max: float, system: str, results: Path, work: Path) -> dict:
    from qcrobust.allegro.graphs import write_graphs

    output = work / "graphs" / f"{system}_rmax{r_max:g}.npz"
    start = _clock()
    if not output.is_file():
        output.parent.mkdir(parents=True, exist_ok=True)
        write_graphs(results / system / "inference.extxyz", output, r_max=r_max)
    wall, cpu = _since(start)
    return {"task": "graphs", "system": system, "r_max": r_max, "wall_s": wall, "cpu_s": cpu}


def train_one(
    settings: dict,
    variant: str,
    regime: str,
    system: str,
    limit: int,
    seed: int,
    largest: int,
    results: Path,
    work: Path,
    time_predictions: bool,
) -> dict:
    from qcrobust.allegro.data import read_species
    from qcrobust.allegro.pipeline import fit, type_names_for

    data = results / system / "allegro_data"
    species_file = data / "species.json"
    settings = {**settings, "seed": seed}
    folder = model_dir(work, variant, regime, limit, seed)
    out = folder / "model.nequip.zip"
    shutil.rmtree(folder, ignore_errors=True)  # an unfinished task's checkpoints would resume
    stages = []
    start = _clock()

    def stage(name, train_dir, train_part, val_part, init_model, target):
        facts = fit(
            settings=settings,
            stage=name,
            train_file=train_dir / f"{train_part}.extxyz",
            val_file=train_dir / f"{val_part}.extxyz",
            type_names=type_names_for(read_species(species_file), init_model, species_file),
            run_dir=folder / f"run_{name}",
            model_out=target,
            init_model=init_model,
            threads=1,
        )
        stages.append(
            {k: facts[k] for k in ("stage", "fit_seconds", "epochs", "steps", "n_train", "n_val", "checkpoint", "selected_val_rmse")}
        )

    if regime == "scratch":
        stage("scratch", data / f"limit_{limit}", "train", "val", None, out)
    elif regime == "external":
        stage("external", data / f"limit_{limit}", "train", "val", work / variant / "pretrain" / "model.nequip.zip", out)
    elif regime == "self":
        pre = folder / "pretrained.nequip.zip"
        stage("self_pretrain", data / f"limit_{limit}", "pretrain_train", "pretrain_val", None, pre)
        stage("self", data / "limit_0", "train", "val", pre, out)
    wall, cpu = _since(start)
    record = {
        "task": "model",
        "variant": variant,
        "regime": regime,
        "system": system,
        "limit": limit,
        "seed": seed,
        "settings": settings,
        "val_rmse": rmse_on(out, data / f"limit_{limit}" / "val.extxyz"),
        "val_max_rmse": rmse_on(out, data / f"limit_{largest}" / "val.extxyz"),
        "wall_s": wall,
        "cpu_s": cpu,
        "stages": stages,
    }
    if time_predictions:  # one seed per (variant, regime, limit): the cost does not depend on it
        from qcrobust.allegro.predict import Predictor

        predictor = Predictor(out)
        start = _clock()
        predictor.predict_graphs(work / "graphs" / f"{system}_rmax{settings['model']['cutoff_radius']:g}.npz")
        record["predict_wall_s"], record["predict_cpu_s"] = _since(start)
    return record


def _init():
    sys.path.insert(0, str(REPO / "src"))


def variant_settings(base: dict, overrides: dict) -> dict:
    settings = json.loads(json.dumps(base))
    for key, value in overrides.items():
        if isinstance(value, dict):
            settings[key].update(value)
        else:
            settings[key] = value
    return settings


def append(out: Path, record: dict) -> None:
    with out.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def read_records(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []


def _mean_sd(values: list[float]) -> str:
    """meV/atom: mean ± sample sd over seeds (the seed spread)."""
    if not values:
        return ""
    sd = statistics.stdev(values) if len(values) > 1 else math.nan
    return f"{1000 * statistics.fmean(values):.2f} ± {1000 * sd:.2f}"


def summary(records: list[dict]) -> str:
    """Per variant, regime and limit: validation RMSE mean ± seed spread (sample sd over the
    seeds) on the own limit's and on the largest limit's validation split, the training CPU-s
    per model, and the test RMSE where ``--test`` has read it; then per variant the cost of one
    model of the study's grid (training of every stage + predicting the inference set; self at
    limit 0 is the scratch model, copied: predictions only)."""
    models = [r for r in records if r["task"] == "model" and not r.get("test")]
    tests = [r for r in records if r.get("test")]
    pretrain = {r["variant"]: r for r in records if r["task"] == "pretrain"}
    order = list(dict.fromkeys(r["variant"] for r in models))
    lines = [
        "| variant | regime | limit | seeds | val RMSE own limit (meV/atom, mean ± sd) | val RMSE largest limit | training CPU-s | test RMSE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["variant"], r["regime"], r["limit"]) for r in models}, key=lambda k: (order.index(k[0]), REGIMES.index(k[1]), k[2]))
    for key in keys:
        group = [r for r in models if (r["variant"], r["regime"], r["limit"]) == key]
        test = [r["test_rmse"] for r in tests if (r["variant"], r["regime"], r["limit"]) == key]
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {len(group)} | {_mean_sd([r['val_rmse'] for r in group])} | "
            f"{_mean_sd([r['val_max_rmse'] for r in group])} | {statistics.fmean(r['cpu_s'] for r in group):.0f} | {_mean_sd(test)} |"
        )
    lines += [
        "",
        "| variant | models | training CPU-s per model | predict CPU-s per model | CPU-s per model | corpus pretraining CPU-s (once) |",
        "|---|---|---|---|---|---|",
    ]
    for variant in order:
        group = [r for r in models if r["variant"] == variant]
        copies = [r for r in group if r["regime"] == "scratch" and r["limit"] == 0] if any(r["regime"] == "self" for r in group) else []
        n_models = len(group) + len(copies)
        training = sum(r["cpu_s"] for r in group) / n_models
        predict = [r["predict_cpu_s"] for r in group if "predict_cpu_s" in r]
        per_predict = statistics.fmean(predict) if predict else math.nan
        once = f"{pretrain[variant]['cpu_s']:.0f}" if variant in pretrain else ""
        lines.append(f"| {variant} | {n_models} | {training:.1f} | {per_predict:.1f} | {training + per_predict:.1f} | {once} |")
    return "\n".join(lines)


def test_once(results: Path, system: str, variant: str, work: Path, records: list[dict], target: str) -> list[dict]:
    """The variant's models on the test set (the only read of the test set): the test split's
    structures of the dataset, their ``target`` from dataset_targets.csv."""
    import numpy as np
    import pandas as pd

    from qcrobust.allegro.data import model_frame, select
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames
    from qcrobust.splits import test_ids

    splits = pd.read_csv(results / system / "splits.csv", dtype={"id": str})
    ids = test_ids(splits)
    frames = read_frames(results / system / "dataset.extxyz")
    frames = [model_frame(frames[i]) for i in select(frames, ids, results / system / "splits.csv")]
    truth = pd.read_csv(results / system / "dataset_targets.csv", dtype={"id": str}).set_index("id").loc[ids, target].to_numpy()
    out = []
    for r in records:
        if r["task"] != "model" or r["variant"] != variant or r.get("test"):
            continue
        path = model_dir(work, variant, r["regime"], r["limit"], r["seed"]) / "model.nequip.zip"
        rmse = float(np.sqrt(np.mean((Predictor(path).predict(frames) - truth) ** 2)))
        out.append(
            {
                **{k: r[k] for k in ("variant", "regime", "system", "limit", "seed")},
                "task": "model",
                "test": True,
                "test_rmse": rmse,
                "n_test": len(ids),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=REPO / "results")
    parser.add_argument("--system", default="ScIr")
    parser.add_argument("--limits", nargs="+", type=int, default=[0, 12, 24])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--regimes", nargs="+", choices=REGIMES, default=list(REGIMES))
    parser.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "JSON"), default=[])
    parser.add_argument("--test", metavar="VARIANT", help="after choosing: score this variant's models on the test set")
    parser.add_argument("--summary", action="store_true", help="print the table of the records so far")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/qcrobust-allegro-sweep/sweep.jsonl"))
    args = parser.parse_args()
    _init()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = args.out.parent
    records = read_records(args.out)
    if args.summary:
        print(summary(records))
        return
    from qcrobust.config import load_config

    config = load_config(REPO / "config.yaml")
    if args.test:
        for record in test_once(args.results, args.system, args.test, work, records, config["target"]):
            append(args.out, record)
            print(
                f"{record['variant']} {record['regime']} limit {record['limit']} seed {record['seed']}: TEST rmse {record['test_rmse']:.4f}"
            )
        return
    from qcrobust.workflow.allegro import training_settings

    base = training_settings(config) | {"pretrain": config["allegro"]["pretrain"]}
    largest = max(args.limits)
    done = {(r.get("variant"), r.get("regime"), r.get("limit"), r.get("seed"), r["task"]) for r in records if not r.get("test")}
    variants = {name: variant_settings(base, json.loads(overrides)) for name, overrides in args.variant}
    # a fresh process per task, as a job is: nequip keeps loaded packages in process-wide state
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init, max_tasks_per_child=1) as pool:
        first = []
        for name, settings in variants.items():
            if "external" in args.regimes and (name, None, None, None, "pretrain") not in done:
                first.append(pool.submit(pretrain_corpus, settings, name, args.results, work))
        for r_max in sorted({s["model"]["cutoff_radius"] for s in variants.values()}):
            first.append(pool.submit(write_graphs_once, r_max, args.system, args.results, work))
        for future in first:
            record = future.result()
            if record["task"] == "pretrain":
                append(args.out, record)
            print(json.dumps(record), flush=True)
        tasks = []
        for name, settings in variants.items():
            for regime in args.regimes:
                for limit in args.limits:
                    if regime == "self" and limit == 0:
                        continue  # the scratch model, copied (as in the study)
                    for seed in args.seeds:
                        if (name, regime, limit, seed, "model") not in done:
                            tasks.append(
                                pool.submit(
                                    train_one,
                                    settings,
                                    name,
                                    regime,
                                    args.system,
                                    limit,
                                    seed,
                                    largest,
                                    args.results,
                                    work,
                                    seed == min(args.seeds),
                                )
                            )
        for future in tasks:
            record = future.result()
            append(args.out, record)
            print(
                f"{record['variant']:>12} {record['regime']:>8} limit {record['limit']:>2} seed {record['seed']}: "
                f"val {1000 * record['val_rmse']:.2f} val@{largest} {1000 * record['val_max_rmse']:.2f} meV/atom, "
                f"{record['cpu_s']:.0f} CPU-s ({record['wall_s']:.0f} s wall)",
                flush=True,
            )


if __name__ == "__main__":
    main()
