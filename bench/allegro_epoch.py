"""Per-epoch time of the Allegro training on default-sized data (CPU or GPU).

Stand-in data of the default study's size: N cells of 146 atoms (Sc120M26 composition, the
parent's density: a 14.4 Å cube), atoms on 146 random sites of a jittered 6x6x6 grid, labeled by a cheap synthetic per-atom target. Only sizes matter
here (atoms, neighbors within the cutoff, cells per epoch), not the labels.

    .venv/bin/python bench/allegro_epoch.py --n-train 1900 --n-val 211 --epochs 2
    .venv/bin/python bench/allegro_epoch.py --device cuda --model num_layers=2 l_max=2 ...
    OMP_NUM_THREADS=1 .venv/bin/python bench/allegro_epoch.py --threads 1 --epochs 3 \
        --train-file results/ScIr/allegro_data/limit_24/train.extxyz --val-file .../val.extxyz --type-names Sc Ir
    ... --uncached        # the template before issue 15: nequip's ASEDataModule (a neighbour list
                          # per frame and epoch) and per-step train metrics (before/after in one checkout)

Prints one line per epoch and a summary with the mean of the epochs after the first, in wall
and CPU (process) seconds, and per cell.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from ase import Atoms

from qcrobust.allegro.callbacks import read_epoch_log
from qcrobust.allegro.data import TARGET_TOTAL_KEY
from qcrobust.allegro.graphs import UNCACHED_OVERRIDES
from qcrobust.allegro.training import EPOCH_LOG, TrainSpec, command, run_nequip_train
from qcrobust.io import count_frames, write_frames

CELL = 14.4
N_ATOMS = 146
N_M = 26


def stand_in_cell(rng: np.random.Generator, index: int, dopant: str = "Pt") -> Atoms:
    grid = (np.arange(6) + 0.5) * CELL / 6
    sites = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)
    positions = sites[rng.choice(len(sites), N_ATOMS, replace=False)] + rng.normal(0, 0.15, (N_ATOMS, 3))
    symbols = np.array(["Sc"] * N_ATOMS, dtype=object)
    symbols[rng.choice(N_ATOMS, N_M, replace=False)] = dopant
    atoms = Atoms(symbols=list(symbols), positions=positions, cell=[CELL] * 3, pbc=True)
    # synthetic label: a per-atom value with noise (the timing does not depend on it)
    atoms.info["id"] = f"bench-{index:05d}"
    per_atom = 0.05 + 0.01 * rng.normal()
    atoms.info[TARGET_TOTAL_KEY] = per_atom * N_ATOMS
    return atoms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=1900)
    parser.add_argument("--n-val", type=int, default=211)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", nargs="*", default=[], help="model keys, e.g. cutoff_radius=4.5 num_layers=2")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--train-file", default=None, help="train on this labeled extxyz instead of stand-in cells")
    parser.add_argument("--val-file", default=None)
    parser.add_argument("--type-names", nargs="+", default=["Sc", "Pt"])
    parser.add_argument("--uncached", action="store_true", help="the template before issue 15 (qcrobust.allegro.graphs.UNCACHED_OVERRIDES)")
    parser.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides of the template")
    args = parser.parse_args()

    model = {}
    for item in args.model:
        key, value = item.split("=", 1)
        model[key] = value if key == "model_dtype" else (float(value) if "." in value else int(value))

    work = Path(args.workdir or tempfile.mkdtemp(prefix="allegro_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.train_file:
        train_file, val_file = Path(args.train_file), Path(args.val_file)
        n_train, n_val = count_frames(train_file), count_frames(val_file)
    else:
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        frames = [stand_in_cell(rng, i) for i in range(args.n_train + args.n_val)]
        train_file, val_file = work / "train.extxyz", work / "val.extxyz"
        write_frames(frames[: args.n_train], train_file)
        write_frames(frames[args.n_train :], val_file)
        n_train, n_val = args.n_train, args.n_val
        print(f"stand-in data: {len(frames)} cells x {N_ATOMS} atoms in {time.perf_counter() - t0:.1f} s -> {work}")

    spec = TrainSpec(
        run_dir=work / "run",
        train_file=train_file,
        val_file=val_file,
        type_names=args.type_names,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=0.005,
        seed=0,
        device=args.device,
        model=model,
    )
    logging.basicConfig(filename=work / "nequip.log", level=logging.INFO)
    torch.set_num_threads(args.threads)
    extra = (list(UNCACHED_OVERRIDES) if args.uncached else []) + list(args.override)
    shutil.rmtree(spec.run_dir, ignore_errors=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    run_nequip_train(command(spec)[1:] + extra)
    train_wall, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    epochs = read_epoch_log(spec.run_dir / EPOCH_LOG)
    seconds = [e["seconds"] for e in epochs]
    cpu = [e["cpu_seconds"] for e in epochs]
    for epoch, (s, c) in enumerate(zip(seconds, cpu)):
        print(f"epoch {epoch}: {s:.2f} s wall, {c:.2f} s CPU")
    steady = seconds[1:] or seconds
    steady_cpu = cpu[1:] or cpu
    print(
        json.dumps(
            {
                "train_file": str(train_file),
                "n_train": n_train,
                "n_val": n_val,
                "batch_size": args.batch_size,
                "device": args.device,
                "threads": args.threads,
                "model": model,
                "uncached": args.uncached,
                "overrides": args.override,
                "epoch_seconds_mean_after_first": float(np.mean(steady)),
                "epoch_cpu_seconds_mean_after_first": float(np.mean(steady_cpu)),
                "epoch_cpu_ms_per_cell": 1e3 * float(np.mean(steady_cpu)) / (n_train + n_val),
                "val_rmse_last": epochs[-1].get("val0_epoch/per_atom_energy_rmse"),
                "nequip_train_wall_seconds": train_wall,
                "nequip_train_cpu_seconds": train_cpu,
            }
        )
    )


if __name__ == "__main__":
    main()
