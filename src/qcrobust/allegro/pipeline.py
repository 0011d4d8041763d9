"""What the Allegro rules do, one function per rule, testable without Snakemake.

``settings`` is the config's ``allegro:`` block with the schema's defaults filled in
(``workflow/schemas/config.schema.yaml``); see :func:`epochs_for` for which epoch budget each
training uses.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from qcrobust.allegro.data import labeled_frames, read_species, species
from qcrobust.allegro.training import TrainSpec, finish, package, train
from qcrobust.config import allegro_limits  # noqa: F401  (the rules and tests import it from here too)
from qcrobust.errors import InputError
from qcrobust.io import atomic_path, count_frames, read_frames, write_frames, write_json

log = logging.getLogger(__name__)

MODELS = ("scratch", "external", "self")  # the {model} wildcard: the training regimes


def epochs_for(settings: Mapping, stage: str) -> int:
    """Epoch budget of a training stage.

    ``scratch`` and ``self_pretrain`` train a fresh model (``epochs``); ``external`` and
    ``self`` fine-tune a packaged one (``finetune_epochs``; null = ``epochs``, so every regime
    makes the same optimizer steps on the target data and a difference between regimes is the
    pretraining's, not the budget's); ``pretrain`` is the external corpus (``pretrain.epochs``).
    """
    if stage in ("scratch", "self_pretrain"):
        return int(settings["epochs"])
    if stage in ("external", "self"):
        finetune = settings.get("finetune_epochs")
        return int(settings["epochs"] if finetune is None else finetune)
    if stage == "pretrain":
        return int(settings["pretrain"]["epochs"])
    raise ValueError(f"unknown stage {stage!r}")


def effective_epochs(epochs: int, n_train: int, batch_size: int, min_steps: int) -> int:
    """``epochs``, raised so that training makes at least ``min_steps`` optimizer steps."""
    return max(int(epochs), math.ceil(min_steps / steps_per_epoch(n_train, batch_size)))


def checkpoint_rule(n_val: int, min_val: int) -> str:
    """Which checkpoint becomes the model: ``best`` (lowest validation error) when the validation
    set has at least ``min_val`` structures, else ``last`` (the final epoch, at the end of the
    annealed learning rate). Picking one of ~100 epochs by the error on a handful of structures
    (3 at limit 0 of the default data) selects on noise: it kept epoch 7 of 125 of one model there."""
    return "best" if n_val >= min_val else "last"


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return max(1, math.ceil(n_train / batch_size))


def package_type_names(package_path: str | Path) -> list[str]:
    from nequip.model import ModelTypeNamesFromPackage

    return list(ModelTypeNamesFromPackage(str(package_path)))


def type_names_for(frames_species: list[str], init_model: str | Path | None, source) -> list[str]:
    """The model's type names: the data's species, or a fine-tuned package's own (which must cover them)."""
    if init_model is None:
        return frames_species
    names = package_type_names(init_model)
    missing = sorted(set(frames_species) - set(names))
    if missing:
        raise InputError(source, None, f"species {missing} are not in the pretrained model {init_model} (it knows {names})")
    return names


def package_info(package_path: str | Path) -> dict:
    """``type_names`` and cutoff ``r_max`` (Å) of a nequip package, from its model's metadata."""
    from nequip.model.saved_models.load_utils import load_saved_model
    from nequip.nn import graph_model

    metadata = load_saved_model(str(package_path)).metadata
    return {"type_names": str(metadata[graph_model.TYPE_NAMES_KEY]).split(" "), "r_max": float(metadata[graph_model.R_MAX_KEY])}


def package_type_names_for(frames_species: list[str], info: Mapping, package_path, system: str, species_file) -> list[str]:
    """The type names of a model fine-tuned from ``allegro.pretrain.package``: the package's,
    which must hold every species of the system."""
    missing = sorted(set(frames_species) - set(info["type_names"]))
    if missing:
        raise InputError(
            package_path,
            "key 'allegro.pretrain.package'",
            f"the package knows {info['type_names']}, not the species {missing} of system {system} ({species_file})",
        )
    return list(info["type_names"])


def fit(
    *,
    settings: Mapping,
    stage: str,
    train_file: str | Path,
    val_file: str | Path,
    type_names: list[str],
    run_dir: str | Path,
    model_out: str | Path,
    init_model: str | Path | None = None,
    threads: int | None = None,
    model_settings: Mapping | None = None,
    finetune_model: str = "finetune",
) -> dict:
    """Train (or resume), package the best checkpoint to ``model_out``; returns training facts.
    ``model_settings`` replaces ``settings['model']`` (a package's cutoff); ``finetune_model``
    is the template's model config that loads ``init_model``."""
    n_train, n_val = count_frames(train_file), count_frames(val_file)
    spec = TrainSpec(
        run_dir=run_dir,
        train_file=train_file,
        val_file=val_file,
        type_names=type_names,
        epochs=effective_epochs(epochs_for(settings, stage), n_train, settings["batch_size"], settings["min_steps"]),
        batch_size=settings["batch_size"],
        lr=settings["finetune_lr"] if init_model is not None else settings["lr"],
        seed=settings["seed"],
        lr_schedule=settings["lr_schedule"],
        lr_min_factor=settings["lr_min_factor"],
        device=settings["device"],
        model=dict(settings["model"] if model_settings is None else model_settings),
        init_model=init_model,
        finetune_model=finetune_model,
    )
    rule = checkpoint_rule(n_val, settings["select_min_val"])
    start = time.perf_counter()
    result = train(spec, threads=threads)
    package(result.best_checkpoint if rule == "best" else result.last_checkpoint, model_out)
    fit_seconds = time.perf_counter() - start
    finish(spec)
    val = [e.get("val0_epoch/per_atom_energy_rmse") for e in result.epochs]
    finite = [v if v is not None else np.inf for v in val]
    best_epoch = int(np.argmin(finite)) if val else None
    selected_epoch = best_epoch if rule == "best" else len(result.epochs) - 1
    return {
        "stage": stage,
        "fit_seconds": fit_seconds,
        "epochs": len(result.epochs),
        "steps": len(result.epochs) * steps_per_epoch(n_train, spec.batch_size),
        "epoch_seconds": [e["seconds"] for e in result.epochs],
        "val_rmse_per_epoch": val,
        "best_epoch": best_epoch,
        "best_val_rmse": float(min(finite)) if val else None,
        "checkpoint": rule,
        "selected_epoch": selected_epoch,
        "selected_val_rmse": val[selected_epoch] if val else None,
        "resumed": result.resumed,
        "type_names": list(type_names),
        "n_train": n_train,
        "n_val": n_val,
    }


def write_inference_graphs(*, r_max: float, frames: str | Path, output: str | Path) -> dict:
    """Rule ``allegro_graphs`` (one per system): ``frames`` (the system's inference extxyz) with
    their neighbour lists within the models' cutoff ``r_max`` (``allegro.model.cutoff_radius``),
    written once to ``output`` (a ``.npz``) for every model's predictions (rule ``predict`` of the
    Allegro family: ``Predictor.predict_graphs``); returns its facts."""
    from qcrobust.allegro.graphs import write_graphs

    start = time.process_time()
    info = write_graphs(frames, output, r_max=float(r_max))
    return {
        "frames": len(info.ids),
        "r_max": info.r_max,
        "backend": info.backend,
        "species": info.species,
        "cpu_seconds": time.process_time() - start,
        "bytes": Path(output).stat().st_size,
    }


def run_model(
    *,
    settings: Mapping,
    model: str,
    system: str,
    limit: int,
    target: str,
    inputs: Mapping[str, str | Path],
    outputs: Mapping[str, str | Path],
    run_dir: str | Path,
    threads: int | None = None,
) -> dict:
    """Rule ``allegro_train``: train one (system, model, limit), write the model and its metrics
    (training facts; the prediction sets are rule ``predict``'s, the test set is never read here).

    ``inputs``: ``train``, ``val`` (extxyz of :mod:`.data`), ``species`` (json), and for
    ``external``/``self`` ``init_model`` (+ its ``init_metrics`` json), or for ``external``
    ``init_package`` (config ``allegro.pretrain.package``: type names and cutoff are the package's,
    per-type scales and shifts reset to the training data, ``model/finetune_package.yaml``).
    ``outputs``: ``model``, ``metrics``.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    package = inputs.get("init_package") if model == "external" else None
    init_model = package or (inputs.get("init_model") if model != "scratch" else None)
    if model != "scratch" and not init_model:
        raise ValueError(f"model {model!r} needs an init_model")
    model_settings, finetune_model = dict(settings["model"]), "finetune"
    if package:
        info = package_info(package)
        type_names = package_type_names_for(read_species(inputs["species"]), info, package, system, inputs["species"])
        model_settings["cutoff_radius"], finetune_model = info["r_max"], "finetune_package"
        log.info("fine-tuning the package %s: type names %s, cutoff %.3f A", package, info["type_names"], info["r_max"])
    else:
        type_names = type_names_for(read_species(inputs["species"]), init_model, inputs["species"])
    facts = fit(
        settings=settings,
        stage=model,
        train_file=inputs["train"],
        val_file=inputs["val"],
        type_names=type_names,
        run_dir=run_dir,
        model_out=outputs["model"],
        init_model=init_model,
        threads=threads,
        model_settings=model_settings,
        finetune_model=finetune_model,
    )
    metrics = {
        **facts,
        "family": "allegro",
        "model": model,
        "system": system,
        "limit": int(limit),
        "target": target,
        "device": settings["device"],
    }
    if inputs.get("init_metrics"):
        pre = json.loads(Path(inputs["init_metrics"]).read_text())
        metrics["pretrain"] = {k: pre.get(k) for k in ("stage", "fit_seconds", "epochs", "steps", "n_train", "n_val", "best_val_rmse")}
    if package:  # pretrained elsewhere: no steps or seconds of ours
        metrics["pretrain"] = {"stage": "package", "package": str(package), "type_names": info["type_names"], "r_max": info["r_max"]}
        metrics["cutoff_radius"] = info["r_max"]
    write_json(metrics, outputs["metrics"])
    log.info(
        "%s %s limit %d: val rmse %.4f eV/atom at epoch %d (%s checkpoint) of %d",
        system,
        model,
        limit,
        metrics["selected_val_rmse"],
        metrics["selected_epoch"],
        metrics["checkpoint"],
        metrics["epochs"],
    )
    return metrics


def _pretrain(*, settings, stage, train_file, val_file, type_names, outputs, run_dir, threads) -> dict:
    facts = fit(
        settings=settings,
        stage=stage,
        train_file=train_file,
        val_file=val_file,
        type_names=type_names,
        run_dir=run_dir,
        model_out=outputs["model"],
        threads=threads,
    )
    write_json(facts, outputs["metrics"])
    log.info(
        "%s: val rmse %.4f eV/atom at epoch %d (%s checkpoint) of %d",
        stage,
        facts["selected_val_rmse"],
        facts["selected_epoch"],
        facts["checkpoint"],
        facts["epochs"],
    )
    return facts


def build_corpus_file(pretrain: Mapping, species_files: list[str | Path], output: str | Path) -> int:
    """Rule ``allegro_corpus``: the default corpus of the systems' host-dopant pairs (or of
    ``pretrain['elements']``), CHGNet-labeled, to ``output``; returns its size."""
    from qcrobust.allegro.corpus import build_corpus, pairs_from

    pairs = pairs_from(pretrain["elements"], [json.loads(Path(p).read_text()) for p in species_files])
    log.info("corpus pairs: %s", pairs)
    frames = build_corpus(pairs, seed=pretrain["seed"], rattles=pretrain["rattles"])
    write_frames(frames, output)
    return len(frames)


def pretrain_external(
    *,
    settings: Mapping,
    corpus: str | Path,
    outputs: Mapping[str, str | Path],
    run_dir: str | Path,
    threads: int | None = None,
) -> dict:
    """Rule ``allegro_pretrain``: split the corpus (seeded), train a fresh model on its
    per-atom label ``settings['pretrain']['target']`` (× n_atoms), package it.

    ``outputs``: ``train``, ``val`` (the split corpus), ``model``, ``metrics``.
    """
    from qcrobust.allegro.corpus import split_corpus

    pretrain = settings["pretrain"]
    frames = read_frames(corpus)
    labeled = labeled_frames(frames, pretrain["target"], corpus)
    is_val = split_corpus(len(labeled), pretrain["val_fraction"], pretrain["seed"])
    write_frames([a for a, v in zip(labeled, is_val) if not v], outputs["train"])
    write_frames([a for a, v in zip(labeled, is_val) if v], outputs["val"])
    log.info("corpus %s: %d frames, %d for validation", corpus, len(labeled), int(is_val.sum()))
    return _pretrain(
        settings=settings,
        stage="pretrain",
        train_file=outputs["train"],
        val_file=outputs["val"],
        type_names=species(frames),
        outputs=outputs,
        run_dir=run_dir,
        threads=threads,
    )


def pretrain_self(
    *,
    settings: Mapping,
    inputs: Mapping[str, str | Path],
    outputs: Mapping[str, str | Path],
    run_dir: str | Path,
    threads: int | None = None,
) -> dict:
    """Rule ``allegro_self_pretrain``: a fresh model on the limit's structures with A5 defects.

    ``inputs``: ``train``, ``val`` (the pretraining parts), ``species`` (the system's species
    json: the type names, so that the fine-tuned model knows every species of the system).
    """
    return _pretrain(
        settings=settings,
        stage="self_pretrain",
        train_file=inputs["train"],
        val_file=inputs["val"],
        type_names=read_species(inputs["species"]),
        outputs=outputs,
        run_dir=run_dir,
        threads=threads,
    )


def reuse_model(*, inputs: Mapping[str, str | Path], outputs: Mapping[str, str | Path], model: str, limit: int) -> dict:
    """Self at limit 0: the scratch model, copied; metrics.json says where it came from.

    ``inputs``: ``reuse_model``, ``reuse_metrics``; ``outputs``: ``model``, ``metrics``.
    """
    metrics = json.loads(Path(inputs["reuse_metrics"]).read_text())
    source = metrics.get("model")
    with atomic_path(outputs["model"]) as tmp:
        shutil.copyfile(inputs["reuse_model"], tmp)
    metrics.update(model=model, limit=int(limit), reused_from=source, fit_seconds=0.0)
    write_json(metrics, outputs["metrics"])
    log.info("%s limit %d: nothing to self-pretrain on; reused the %s model", model, limit, source)
    return metrics
