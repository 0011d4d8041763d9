"""Wall time of the Allegro training rule vs calling ``nequip-train`` directly on the same config.

A stand-in study of default size (146-atom cells at the parent's density, see
``allegro_epoch.py``) is written to a work directory and its data rules are run first. Then:

1. ``snakemake results/ScPt/allegro/scratch/limit_<L>/seed_0/metrics.json`` (one training job: train,
   package, metrics; since issue 13 the predictions are rule ``predict``'s) — timed end to end,
   and by its benchmark TSV;
2. ``nequip-train`` with exactly the overrides the rule logged (fresh run directory) — timed.

    .venv/bin/python bench/allegro_rule_overhead.py --n 1200 --epochs 6

Prints both wall times and their ratio (target: rule / direct <= 1.05), and the same for CPU
time (user + system of the child processes, from ``getrusage``), which other jobs on a shared
machine disturb less than wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from allegro_epoch import N_ATOMS, stand_in_cell  # noqa: E402

from qcrobust import layout  # noqa: E402
from qcrobust.io import write_frames  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def write_study(work: Path, n: int, n_inference: int, epochs: int) -> Path:
    rng = np.random.default_rng(1)
    frames = []
    for i in range(n):
        atoms = stand_in_cell(rng, i)
        per_atom = float(atoms.info.pop("qc_target_total")) / N_ATOMS
        atoms.info = {"id": f"ScPt-{i:05d}", "n_A5_defects": 0 if i < 120 else int(rng.integers(1, 13)) * 2, "energy": per_atom * N_ATOMS}
        frames.append(atoms)
    inference = []
    for i in range(n_inference):
        atoms = stand_in_cell(rng, i)
        atoms.info = {"id": f"ScPt-inf-{i:05d}", "n_A5_defects": 0}
        inference.append(atoms)
    write_frames(frames, work / "data" / "dataset.extxyz")
    write_frames(inference, work / "data" / "inference.extxyz")
    config = {
        "systems": {
            "ScPt": {
                "dataset": str(work / "data/dataset.extxyz"),
                "inference": str(work / "data/inference.extxyz"),
                "references": {"Sc": 0.0, "Pt": 0.0},
            }
        },
        "limits": [0, 24],
        "allegro": {"models": ["scratch"], "epochs": epochs},
    }
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def snakemake(snakefile: str, config: Path, work: Path, *targets: str) -> tuple[float, float]:
    cmd = [
        str(BIN / "snakemake"),
        "--snakefile",
        snakefile,
        "--configfile",
        str(config),
        "--directory",
        str(work),
        "--cores",
        "1",
        *targets,
    ]
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode:
        sys.exit(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1200, help="labeled cells (120 of them limit 0)")
    parser.add_argument("--n-inference", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--snakefile", default=str(REPO / "Snakefile"))
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="allegro_rule_"))
    config = write_study(work, args.n, args.n_inference, args.epochs)
    data = [f"results/ScPt/allegro_data/limit_24/{p}.extxyz" for p in ("train", "val")]
    data += [
        layout.path(layout.TARGETS, system="ScPt", set="dataset"),
        layout.path(layout.SPLITS, system="ScPt"),
        layout.path(layout.STRUCTURES, system="ScPt", set="inference"),
    ]
    prep, _ = snakemake(args.snakefile, config, work, *data)
    print(f"stand-in study in {work}: {args.n} cells x {N_ATOMS} atoms; data rules {prep:.1f} s")

    target = layout.path(layout.METRICS, system="ScPt", family="allegro", model="scratch", limit=24, seed=0)
    rule_wall, rule_cpu = snakemake(args.snakefile, config, work, target)
    job_s = float((work / layout.benchmark("ScPt/allegro/scratch/limit_24_seed_0")).read_text().splitlines()[1].split("\t")[0])

    logged = (work / layout.log("ScPt/allegro/scratch/limit_24_seed_0")).read_text()
    line = re.search(r"nequip-train: (.*)", logged).group(1)
    argv = [a for a in shlex.split(line) if not a.startswith(("hydra.run.dir=", "epoch_log="))]
    direct_dir = work / "direct"
    argv += [f"hydra.run.dir={direct_dir}", f"epoch_log={direct_dir / 'epochs.jsonl'}"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run([str(BIN / "nequip-train"), *argv], cwd=REPO, capture_output=True, text=True, env=env)
    direct, direct_cpu = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode:
        sys.exit(f"nequip-train failed:\n{proc.stderr[-3000:]}")
    print(f"rule (snakemake, one job, end to end): {rule_wall:.1f} s; its benchmark TSV: {job_s:.1f} s")
    print(f"nequip-train directly, same overrides:  {direct:.1f} s")
    print(f"ratio rule/direct: {rule_wall / direct:.3f} (end to end), {job_s / direct:.3f} (job only)")
    print(
        f"CPU: rule (snakemake, end to end) {rule_cpu:.1f} s, nequip-train directly {direct_cpu:.1f} s, ratio {rule_cpu / direct_cpu:.3f}"
    )


if __name__ == "__main__":
    main()
