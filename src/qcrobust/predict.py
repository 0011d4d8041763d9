"""One prediction step for every family: a saved model predicts one structure set.

Rule ``predict`` writes ``results/{system}/{family}/{model}/limit_{limit}/pred_{set}.csv``
(:data:`qcrobust.layout.PREDICTIONS`) for the sets ``test`` (the dataset's test split, the same
for every limit), ``inference`` and ``audit``. What a family reads for a set: the classical
family the set's descriptor table (the test split's rows of the dataset's), Allegro the set's
structures (for ``inference``, the largest, the graph file of rule ``allegro_graphs``: the
structures with their neighbour lists, computed once per system; byte-identical predictions,
half the CPU per cell, bench/README.md). Both write through :func:`write_predictions`, checked against
``predictions.schema.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from qcrobust import layout


def prediction_table(ids, y_pred) -> pd.DataFrame:
    """``id, y_pred`` in the given order."""
    return pd.DataFrame({"id": [str(i) for i in ids], "y_pred": np.asarray(y_pred, dtype=np.float64)})


def check_predictions(table: pd.DataFrame, path: str | os.PathLike) -> np.ndarray:
    """The prediction file's contract, for its writer and its readers: ids unique, every
    ``y_pred`` a finite number. Returns ``y_pred`` as float64; errors name ``path`` and the id."""
    from qcrobust.errors import InputError

    duplicated = table["id"].duplicated()
    if duplicated.any():
        raise InputError(path, f"id {table['id'][duplicated].iloc[0]!r}", "duplicate id")
    y = pd.to_numeric(table["y_pred"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(y)):
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputError(path, f"id {table['id'].iloc[row]!r}", f"y_pred is not a finite number ({table['y_pred'].iloc[row]!r})")
    return y


def write_predictions(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """:func:`check_predictions`, then the schema check and the atomic write (:func:`qcrobust.tables.write_table`)."""
    from qcrobust.tables import write_table

    check_predictions(table, path)
    write_table(table, path, "predictions")


def _test_ids(splits_path) -> list[str]:
    from qcrobust.io import read_csv
    from qcrobust.splits import test_ids

    return test_ids(read_csv(splits_path, required=["id", "split"], dtype={"id": str}))


def predict_classical(inputs: Mapping[str, str], set_name: str, model=None) -> pd.DataFrame:
    """The fold models' mean prediction of the set's descriptor rows (``model``: what
    :func:`qcrobust.classical.load_model` returned for ``inputs["model"]``, to load it once)."""
    from qcrobust.classical import load_model, predict_mean
    from qcrobust.errors import InputError
    from qcrobust.features import read_features

    pipelines, names = model if model is not None else load_model(inputs["model"])
    features = read_features(inputs["features"])
    if set_name == "test":
        ids = _test_ids(inputs["splits"])
        missing = sorted(set(ids) - set(features["id"]))
        if missing:
            raise InputError(inputs["features"], f"id {missing[0]!r}", f"test structure without descriptors ({len(missing)} missing)")
        features = features.set_index("id").loc[ids].reset_index()
    return prediction_table(features["id"], predict_mean(pipelines, names, features))


def predict_allegro(
    inputs: Mapping[str, str], set_name: str, device: str = "cpu", threads: int | None = None, predictor=None
) -> pd.DataFrame:
    """The packaged model's per-atom prediction of the set's structures (``threads``: torch's;
    ``predictor``: a :class:`qcrobust.allegro.predict.Predictor` of ``inputs["model"]``, to load it once)."""
    import torch

    from qcrobust.allegro.data import model_frame, select
    from qcrobust.allegro.graphs import GraphFile
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames

    if threads:
        torch.set_num_threads(int(threads))
    if predictor is None:
        predictor = Predictor(inputs["model"], device=device)
    if "graphs" in inputs:  # the set's neighbour lists, computed once for every model (rule allegro_graphs)
        graphs = GraphFile(inputs["graphs"])
        return prediction_table(graphs.info.ids, predictor.predict_graphs(graphs))
    frames = read_frames(inputs["structures"])
    if set_name == "test":
        frames = [frames[i] for i in select(frames, _test_ids(inputs["splits"]), inputs["splits"])]
    frames = [model_frame(a) for a in frames]
    return prediction_table([a.info["id"] for a in frames], predictor.predict(frames))


def predict_set(family: str, set_name: str, inputs: Mapping[str, str], device: str = "cpu", threads: int | None = None) -> pd.DataFrame:
    """One set (rule ``predict``): :func:`predict_sets` with that set alone."""
    return predict_sets(family, {set_name: inputs}, device, threads)[set_name]


def predict_sets(
    family: str, inputs_by_set: Mapping[str, Mapping[str, str]], device: str = "cpu", threads: int | None = None
) -> dict[str, pd.DataFrame]:
    """Several sets of one saved model, loaded once (rule ``predict_replica``; rule ``predict``
    through :func:`predict_set`): per set the table of :func:`predict_classical` /
    :func:`predict_allegro`. Every set's inputs name the same ``model``."""
    models = {inputs["model"] for inputs in inputs_by_set.values()}
    if len(models) != 1:
        raise ValueError(f"predict_sets takes the sets of one model, got {sorted(models)}")
    path = models.pop()
    if family == "classical":
        from qcrobust.classical import load_model

        model = load_model(path)
        return {name: predict_classical(inputs, name, model) for name, inputs in inputs_by_set.items()}
    if family == "allegro":
        import torch

        from qcrobust.allegro.predict import Predictor

        if threads:  # before the model is loaded, as predict_allegro alone does
            torch.set_num_threads(int(threads))
        predictor = Predictor(path, device=device)
        return {name: predict_allegro(inputs, name, device, threads, predictor) for name, inputs in inputs_by_set.items()}
    raise ValueError(f"unknown family {family!r}")


# --- rule glue (rules/predict.smk) ---


def prediction_inputs(study, wildcards) -> dict[str, str]:
    """The saved model, and what its family reads of the set (+ the splits for the test set)."""
    from qcrobust.allegro.workflow import predicts_from_graphs

    system, family, set_name = wildcards.system, wildcards.family, wildcards.set
    inputs = {"model": layout.model_file(family, system=system, model=wildcards.model, limit=wildcards.limit, seed=wildcards.seed)}
    source = "dataset" if set_name == "test" else set_name
    if family == "classical":
        inputs["features"] = layout.path(layout.FEATURES, system=system, set=source)
    elif set_name == "inference" and predicts_from_graphs(study.config, wildcards.model):
        # the largest set: its graphs are computed once per system (at the config's cutoff)
        inputs["graphs"] = layout.path(layout.ALLEGRO_GRAPHS, system=system)
    else:
        inputs["structures"] = layout.path(layout.STRUCTURES, system=system, set=source)
    if set_name == "test":
        inputs["splits"] = layout.path(layout.SPLITS, system=system)
    return inputs


def replica_prediction_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``predict_replica``: the saved model, and per set of
    :data:`~qcrobust.study.REPLICA_PREDICTION_SETS` what :func:`prediction_inputs` gives it,
    named ``{set}__{name}`` (:func:`inputs_by_set` undoes it)."""
    from types import SimpleNamespace

    from qcrobust.study import REPLICA_PREDICTION_SETS

    out = {}
    for set_name in REPLICA_PREDICTION_SETS:
        per_set = prediction_inputs(study, SimpleNamespace(**dict(wildcards.items()), set=set_name))
        out |= {name if name == "model" else f"{set_name}__{name}": path for name, path in per_set.items()}
    return out


def inputs_by_set(named: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``{"model": m, "test__features": f, ...}`` (rule predict_replica's inputs) -> ``{"test": {"model": m, "features": f}, ...}``."""
    out: dict[str, dict[str, str]] = {}
    for name, path in named.items():
        if "__" in name:
            set_name, key = name.split("__", 1)
            out.setdefault(set_name, {"model": named["model"]})[key] = str(path)
    return out


def gpus(wildcards) -> int:
    """An Allegro prediction asks for one GPU, a classical one for none (with allegro.device
    cuda; see :func:`qcrobust.allegro.workflow.gpu_resources`)."""
    return int(wildcards.family == "allegro")


def prediction_targets(study) -> list[str]:
    """Every prediction file of the study (a replica's: test and inference, what is read of it)."""
    return [
        layout.path(layout.PREDICTIONS, **key, set=set_name)
        for key in study.trained()
        for set_name in study.prediction_sets(key["system"], key["family"], key["seed"])
    ]
