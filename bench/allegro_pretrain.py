"""Time of the external pretraining: building the default corpus (CHGNet) and pretraining on it.

    .venv/bin/python bench/allegro_pretrain.py                 # schema defaults (CPU-sized)
    .venv/bin/python bench/allegro_pretrain.py --epochs 200 --rattles 4 --device cuda \\
        --model l_max=2 num_layers=2 num_scalar_features=64 num_tensor_features=16 mlp_width=64 cutoff_radius=6.0

Same library calls as the rules allegro_corpus and allegro_pretrain, settings from the
config schema's defaults unless given. Prints corpus size, corpus and pretraining wall times,
per-epoch seconds and the best validation RMSE (e_form, eV/atom).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import yaml

from qcrobust.allegro.corpus import build_corpus
from qcrobust.allegro.pipeline import pretrain_external
from qcrobust.io import write_frames

REPO = Path(__file__).resolve().parents[1]


def schema_defaults() -> dict:
    from snakemake.utils import validate

    config = {"systems": {"X": {"dataset": "-", "inference": "-"}}}
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    return config["allegro"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--rattles", type=int)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", nargs="*", default=[], help="model keys, e.g. l_max=2")
    parser.add_argument("--corpus", help="reuse a corpus extxyz instead of building one")
    parser.add_argument("--workdir")
    args = parser.parse_args()

    settings = schema_defaults()
    settings["device"] = args.device
    for item in args.model:
        key, value = item.split("=", 1)
        settings["model"][key] = value if key == "model_dtype" else yaml.safe_load(value)
    if args.epochs:
        settings["pretrain"]["epochs"] = args.epochs
    if args.rattles:
        settings["pretrain"]["rattles"] = args.rattles

    work = Path(args.workdir or tempfile.mkdtemp(prefix="allegro_pretrain_"))
    logging.basicConfig(filename=work / "bench.log", level=logging.INFO)
    corpus = Path(args.corpus) if args.corpus else work / "corpus.extxyz"
    corpus_seconds = None
    if not args.corpus:
        start = time.perf_counter()
        frames = build_corpus(settings["pretrain"]["elements"], seed=settings["pretrain"]["seed"], rattles=settings["pretrain"]["rattles"])
        write_frames(frames, corpus)
        corpus_seconds = time.perf_counter() - start
        print(f"corpus: {len(frames)} cells, {sum(len(a) for a in frames)} atoms, built and labeled in {corpus_seconds:.1f} s")

    outputs = {name: work / f"{name}.extxyz" for name in ("train", "val")}
    outputs |= {"model": work / "model.nequip.zip", "metrics": work / "metrics.json"}
    start = time.perf_counter()
    facts = pretrain_external(settings=settings, corpus=corpus, outputs=outputs, run_dir=work / "run", threads=args.threads)
    seconds = time.perf_counter() - start
    steady = facts["epoch_seconds"][1:] or facts["epoch_seconds"]
    print(
        json.dumps(
            {
                "corpus_seconds": corpus_seconds,
                "pretrain_seconds": seconds,
                "epochs": facts["epochs"],
                "epoch_seconds_mean_after_first": sum(steady) / len(steady),
                "n_train": facts["n_train"],
                "n_val": facts["n_val"],
                "best_val_rmse_e_form": facts["best_val_rmse"],
                "device": args.device,
                "model": settings["model"],
                "workdir": str(work),
            }
        )
    )


if __name__ == "__main__":
    main()
