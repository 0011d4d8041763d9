"""Classical grid: the workflow (--cores 1 and 2) against a bare Python loop making the same fits.

The default data's labels are not all computed yet, so this builds a stand-in of the same size:
the shipped parents and decorations of the four default systems (2,170 / 1,086 labeled cells of
146 sites, 3,942 inference cells, 200 audit cells each) with a toy target (composition terms plus
random pair interactions between the decorated A4/A5 sites, plus noise; ~0.03 eV/atom spread).
Structures, descriptors and model settings are the real ones (schema defaults).

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

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SYSTEMS = ("ScPt", "ScPd", "ScIr", "ScRh")


def toy_target(parent, decorations: pd.Series, seed: int) -> np.ndarray:
    """Composition terms + random pair interactions between decorated sites within 3.5 A + noise."""
    from ase.neighborlist import neighbor_list

    from qcrobust.default_data.parent import disordered_indices

    glue = disordered_indices(parent)
    position = {site: k for k, site in enumerate(glue)}
    i, j = neighbor_list("ij", parent, 3.5)
    pairs = np.array([(position[a], position[b]) for a, b in zip(i, j) if a in position and b in position and a < b])
    rng = np.random.default_rng(seed)
    interaction = rng.normal(0, 0.004, (3, 3))
    interaction = (interaction + interaction.T) / 2
    codes = np.array([["SMX".index(c) for c in d] for d in decorations])
    pair_energy = interaction[codes[:, pairs[:, 0]], codes[:, pairs[:, 1]]].sum(axis=1) / len(glue)
    n_m, n_x = (codes == 1).sum(axis=1), (codes == 2).sum(axis=1)
    return 0.03 + 0.0015 * n_x - 0.0008 * n_m + pair_energy + rng.normal(0, 0.003, len(codes))


def write_study(work: Path, systems: list[str]) -> Path:
    from qcrobust.default_data.assemble import frames_for
    from qcrobust.default_data.parent import dopant_of
    from qcrobust.default_data.structures import read_parent
    from qcrobust.io import write_frames

    data = work / "data"
    config = {"systems": {}}
    for k, system in enumerate(systems):
        shipped = REPO / "data" / "default" / system
        parent = read_parent(shipped / "parent.extxyz")
        table = pd.read_csv(shipped / "decorations.csv")
        table["e_above_hull"] = toy_target(parent, table["decoration"], seed=k)
        dopant = dopant_of(system)
        parts = {
            "dataset": table[table["kind"].isin(["labeled", "extra_limit0"])],
            "inference": table[table["kind"] == "inference"],
            "audit": table[(table["kind"] == "inference") & (table["audit"] == 1)],
        }
        spec = {}
        for name, rows in parts.items():
            frames = frames_for(parent, rows, system, dopant, None)
            if name != "inference":
                for atoms, value in zip(frames, rows["e_above_hull"]):
                    atoms.info["e_above_hull"] = float(value)
            path = data / system / f"{name}.extxyz"
            write_frames(frames, path)
            spec[name] = str(path)
        spec["parent"] = str(shipped / "parent.extxyz")
        spec["references"] = {"Sc": 0.0, dopant: 0.0}
        config["systems"][system] = spec
    config["allegro"] = {"models": []}
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def snakemake(config: Path, work: Path, cores: int, targets: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (snakemake and every job it ran) of one run."""
    start, cpu = time.perf_counter(), children_cpu()
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--configfile", str(config), "--directory", str(work / "run"),
           "--cores", str(cores), *targets]
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
                fit, predictions, metrics = train_limit(data, predict_sets, model, block["params"][model],
                                                        folds=block["folds"], seed=block["seed"], threads=1)
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
