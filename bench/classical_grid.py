"""Classical grid: the workflow (--cores 1 and 2) against a bare Python loop making the same fits.

It runs on the real default data (the repo's config.yaml with its systems, assembled by the
repo's workflow under results/default_data/), in a separate work directory, with schema-default
model settings.

    .venv/bin/python bench/classical_grid.py [--work DIR] [--systems ScPt ...] [--skip-cores-1] [--skip-loop]

Steps: (1) write the study, run the workflow up to the descriptor tables (untimed, but the
features jobs' times are printed); (2) time `snakemake --cores 2` on the classical outputs;
(3) delete them, time `--cores 1`; (4) time the bare loop (one process, same library calls, same
outputs written, one thread per fit). Ratios: workflow(--cores 1) / loop, --cores 1 / --cores 2.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SYSTEMS = ("ScPt", "ScPd", "ScIr", "ScRh")


def write_study(work: Path, systems: list[str]) -> Path:
    """A study config on the real default data, as assembled by the repo's own workflow."""
    inputs = ("dataset", "inference", "audit", "competing_phases", "parent")
    assembled = [f"results/default_data/{s}/{name}.extxyz" for s in systems for name in inputs]
    subprocess.run([SNAKEMAKE, "--cores", "2", *assembled], cwd=REPO, check=True, capture_output=True, text=True)
    with open(REPO / "config.yaml") as handle:
        config = yaml.safe_load(handle)
    config["systems"] = {s: {name: str(REPO / f"results/default_data/{s}/{name}.extxyz") for name in inputs} for s in systems}
    config["allegro"] = {"models": []}
    work.mkdir(parents=True, exist_ok=True)
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def snakemake(config: Path, work: Path, cores: int, targets: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (snakemake and every job it ran) of one run."""
    start, cpu = time.perf_counter(), children_cpu()
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--configfile",
        str(config),
        "--directory",
        str(work / "run"),
        "--cores",
        str(cores),
        *targets,
    ]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, children_cpu() - cpu


def classical_targets(config: dict) -> list[str]:
    from qcrobust.classical import targets

    return [t for t in targets(config) if t.endswith("pred_test.csv")]


def bare_loop(config: dict, work: Path) -> float:
    """The same fits, predictions and files as the classical rules, in one process."""
    import joblib

    from qcrobust.classical import limit_data, train_limit
    from qcrobust.features import read_features
    from qcrobust.io import atomic_path, read_csv, write_csv, write_json

    block, target = config["classical"], config["target"]
    start, cpu = time.perf_counter(), time.process_time()
    for system, spec in config["systems"].items():
        results = work / "run" / "results" / system
        features = read_features(results / "features" / "dataset.parquet")
        predict_sets = {"inference": read_features(results / "features" / "inference.parquet")}
        if spec.get("audit"):
            predict_sets["audit"] = read_features(results / "features" / "audit.parquet")
        targets = read_csv(results / "targets.csv", dtype={"id": str})
        splits = read_csv(results / "splits.csv", dtype={"id": str})
        for model in block["models"]:
            for limit in config["limits"]:
                out = work / "loop" / system / model / f"limit_{limit}"
                data = limit_data(features, targets, splits, limit, target)
                fit, predictions, metrics = train_limit(
                    data, predict_sets, model, block["params"][model], folds=block["folds"], seed=block["seed"], threads=1
                )
                for name, table in predictions.items():
                    write_csv(table, out / f"pred_{name}.csv")
                write_json(metrics, out / "metrics.json")
                with atomic_path(out / "model.joblib") as tmp:
                    joblib.dump(fit.pipelines, tmp, compress=3)
    return time.perf_counter() - start, time.process_time() - cpu


def job_seconds(work: Path) -> float:
    """Sum of the classical jobs' wall times from their benchmark TSVs."""
    total = 0.0
    for path in (work / "run" / "benchmarks").glob("*/classical/*/*.tsv"):
        total += float(path.read_text().splitlines()[1].split("\t")[0])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qcrobust-bench-classical"))
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS))
    parser.add_argument("--skip-cores-1", action="store_true")
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args()
    work = args.work.resolve()
    sys.path.insert(0, str(REPO / "src"))
    from qcrobust.config import load_config

    config_path = write_study(work, args.systems) if not (work / "config.yaml").is_file() else work / "config.yaml"
    config = load_config(config_path)
    figures = {"systems": args.systems, "jobs": len(classical_targets(config))}
    features = [f"results/{s}/features/dataset.parquet" for s in args.systems] + [f"results/{s}/splits.csv" for s in args.systems]
    snakemake(config_path, work, 2, features)
    figures["features_job_s"] = {
        s: float((work / "run" / "benchmarks" / s / "features.tsv").read_text().splitlines()[1].split("\t")[0]) for s in args.systems
    }
    targets = classical_targets(config)

    def clean():
        for system in args.systems:
            for folder in ("results", "benchmarks", "logs"):
                shutil.rmtree(work / "run" / folder / system / "classical", ignore_errors=True)

    clean()
    figures["workflow_cores2_s"], figures["workflow_cores2_cpu_s"] = snakemake(config_path, work, 2, targets)
    figures["jobs_sum_s"] = job_seconds(work)
    if not args.skip_cores_1:
        clean()
        figures["workflow_cores1_s"], figures["workflow_cores1_cpu_s"] = snakemake(config_path, work, 1, targets)
        figures["speedup_cores2_vs_1"] = figures["workflow_cores1_s"] / figures["workflow_cores2_s"]
    if not args.skip_loop:
        figures["bare_loop_s"], figures["bare_loop_cpu_s"] = bare_loop(config, work)
        figures["cpu_ratio_workflow2_vs_loop"] = figures["workflow_cores2_cpu_s"] / figures["bare_loop_cpu_s"]
        if "workflow_cores1_s" in figures:
            figures["ratio_workflow1_vs_loop"] = figures["workflow_cores1_s"] / figures["bare_loop_s"]
            figures["cpu_ratio_workflow1_vs_loop"] = figures["workflow_cores1_cpu_s"] / figures["bare_loop_cpu_s"]
    figures["load_average"] = open("/proc/loadavg").read().split()[:3]
    rmse = []
    for path in sorted((work / "run" / "results").glob("*/classical/*/limit_*/metrics.json")):
        m = json.loads(path.read_text())
        rmse.append((m["system"], m["model"], m["limit"], m["rmse"], m["fit_seconds"]))
    table = pd.DataFrame(rmse, columns=["system", "model", "limit", "rmse", "fit_seconds"])
    figures["fit_seconds_sum"] = float(table["fit_seconds"].sum())
    print(json.dumps(figures, indent=2))
    print(table.groupby(["system", "model"])[["rmse", "fit_seconds"]].agg(["min", "max", "sum"]).round(4).to_string())


if __name__ == "__main__":
    main()
