"""CPU time per predicted cell of a packaged Allegro model: extxyz + neighbour lists per model
(the path before graph files) vs a graph file written once per system (qcrobust.allegro.graphs).

    OMP_NUM_THREADS=1 .venv/bin/python bench/allegro_predict.py MODEL.nequip.zip results/ScIr/inference.extxyz \
        --n 1000 --batch-sizes 8 16 32 64 --threads 1

Without a model, ``--train`` first trains a default-sized one (1 epoch on the first 100 frames of
the given labeled extxyz, e.g. results/ScIr/allegro_data/limit_24/train.extxyz) to time it.
CPU time is process time (all threads of this process); each figure is the best of ``--repeats``.
Prints one JSON object: per-cell CPU milliseconds of reading, neighbour lists, forward passes per
batch size, the graph file's write (once per system) and read, and whether both paths give
bit-identical predictions.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def cpu(fn, repeats: int):
    """(best CPU seconds, result) of ``fn()`` over ``repeats`` calls."""
    best, result = None, None
    for _ in range(repeats):
        start = time.process_time()
        result = fn()
        seconds = time.process_time() - start
        best = seconds if best is None else min(best, seconds)
    return best, result


def train_model(labeled: Path, work: Path) -> Path:
    import ase.io

    from qcrobust.allegro.training import TrainSpec, package, train

    frames = ase.io.read(labeled, index=":100")
    ase.io.write(work / "train.extxyz", frames[:90], format="extxyz")
    ase.io.write(work / "val.extxyz", frames[90:], format="extxyz")
    names = sorted({s for a in frames for s in a.get_chemical_symbols()}, key=lambda s: ase.data.atomic_numbers[s])
    spec = TrainSpec(
        run_dir=work / "run",
        train_file=work / "train.extxyz",
        val_file=work / "val.extxyz",
        type_names=names,
        epochs=1,
        batch_size=8,
        lr=0.05,
        seed=0,
    )
    result = train(spec, threads=1)
    return package(result.last_checkpoint, work / "model.nequip.zip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help=".nequip.zip, or a labeled extxyz with --train")
    parser.add_argument("frames", help="extxyz to predict (e.g. a system's inference.extxyz)")
    parser.add_argument("--train", action="store_true", help="train a default-sized model on MODEL (an extxyz) first")
    parser.add_argument("--n", type=int, default=1000, help="predict the first N frames")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from qcrobust.allegro.data import model_frame
    from qcrobust.allegro.graphs import GraphFile, write_graphs
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames, write_frames

    work = Path(args.workdir or tempfile.mkdtemp(prefix="allegro_predict_"))
    work.mkdir(parents=True, exist_ok=True)
    model = train_model(Path(args.model), work) if args.train else Path(args.model)
    subset = work / "frames.extxyz"
    write_frames(read_frames(args.frames)[: args.n], subset)

    load_s, predictor = cpu(lambda: Predictor(model), 1)
    read_s, frames = cpu(lambda: [model_frame(a) for a in read_frames(subset)], args.repeats)
    n = len(frames)
    from nequip.data import from_ase

    nl_s, _ = cpu(lambda: [predictor.transforms[1](predictor.transforms[0](from_ase(a))) for a in frames], args.repeats)
    per_batch, old_pred = {}, {}
    for batch_size in args.batch_sizes:
        old_s, old_pred[batch_size] = cpu(lambda: predictor.predict(frames, batch_size=batch_size), args.repeats)
        reference = old_pred[args.batch_sizes[0]]
        per_batch[batch_size] = {
            "frames_ms_per_cell": 1e3 * old_s / n,  # neighbour lists + forward, frames already read
            # a frame's prediction can depend on the batch it is in (GEMM blocking): vs the first size
            "max_abs_diff_vs_first_batch_size": float(np.max(np.abs(old_pred[batch_size] - reference))),
        }
    graphs_path = work / "frames.graphs.npz"
    write_s, _ = cpu(lambda: write_graphs(subset, graphs_path, r_max=predictor.r_max), 1)
    graph_file = GraphFile(graphs_path)
    identical = True
    for batch_size in args.batch_sizes:
        new_s, new = cpu(lambda: predictor.predict_graphs(GraphFile(graphs_path), batch_size=batch_size), args.repeats)
        per_batch[batch_size]["graphs_ms_per_cell"] = 1e3 * new_s / n  # read graphs + type map + forward
        identical &= bool(np.array_equal(new, old_pred[batch_size]))  # same batch size, bit for bit
    first = per_batch[args.batch_sizes[0]]
    print(
        json.dumps(
            {
                "model": str(model),
                "frames": str(args.frames),
                "n": n,
                "threads": args.threads,
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                "load_model_s": load_s,
                "read_extxyz_ms_per_cell": 1e3 * read_s / n,
                "neighbour_lists_and_types_ms_per_cell": 1e3 * nl_s / n,
                "write_graphs_ms_per_cell": 1e3 * write_s / n,
                "graph_file_bytes_per_cell": graphs_path.stat().st_size / n,
                "per_batch_size": per_batch,
                "before_ms_per_cell": 1e3 * read_s / n + first["frames_ms_per_cell"],
                "after_ms_per_cell": first["graphs_ms_per_cell"],
                "graphs_bit_identical": identical,
                "graph_file_frames": len(graph_file),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
