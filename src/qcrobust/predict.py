"""Predictions: every saved model of one (system, family, model) predicts a structure set.

Rule ``predict`` writes, per (system, family, model), one table per set --
``results/{system}/{family}/{model}/predictions_{set}.csv`` (:data:`qcrobust.layout.PREDICTIONS`),
columns ``limit, seed, id, y_pred``, a block of rows per trained (limit, seed) -- for ``test``
(the dataset's test split, the same for every limit) and ``inference``; rule ``predict_audit``
writes the ``audit`` table of the family's base seed (an audit edit re-predicts only it). One job
loads each set once (descriptor rows, structures or the inference graph file of rule
``allegro_graphs``) and then each model once: a fresh interpreter, its imports and the set's
reading are paid once per (system, family, model) instead of once per (model, set) (issue 24,
bench/README.md). A model's rows are the bits a job of its own would write
(tests/test_classical.py, tests/test_allegro_graphs.py, tests/test_replicas_workflow.py). Tables are checked against ``predictions.schema.yaml`` and
:func:`check_predictions` on writing and reading (:func:`read_predictions`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from qcrobust.errors import InputError

log = logging.getLogger(__name__)


def prediction_table(ids, y_pred, limit: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """``id, y_pred`` in the given order; with ``limit`` and ``seed``, the block of one model of a
    prediction table (``limit, seed, id, y_pred``)."""
    table = pd.DataFrame({"id": [str(i) for i in ids], "y_pred": np.asarray(y_pred, dtype=np.float64)})
    if limit is None:
        return table
    table.insert(0, "seed", int(seed))
    table.insert(0, "limit", int(limit))
    return table


def check_predictions(table: pd.DataFrame, path: str | os.PathLike) -> np.ndarray:
    """The prediction contract, for writers and readers: ids unique within each model's block
    (``limit, seed``, where the table has them), every ``y_pred`` a finite number. Returns
    ``y_pred`` as float64; errors name ``path``, the model and the id."""
    key = [c for c in ("limit", "seed") if c in table.columns]
    duplicated = table.duplicated(key + ["id"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(path, _record(table, row), "duplicate id")
    y = pd.to_numeric(table["y_pred"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(y)):
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputError(path, _record(table, row), f"y_pred is not a finite number ({table['y_pred'].iloc[row]!r})")
    return y


def _record(table: pd.DataFrame, row: int) -> str:
    model = "".join(f"{c} {table[c].iloc[row]}, " for c in ("limit", "seed") if c in table.columns)
    return f"{model}id {table['id'].iloc[row]!r}"


def write_predictions(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """:func:`check_predictions`, then the schema check and the atomic write (:func:`qcrobust.tables.write_table`)."""
    from qcrobust.tables import write_table

    check_predictions(table, path)
    write_table(table, path, "predictions")


class ModelPredictions:
    """One model's block of a prediction table: ``table`` (``id, y_pred``, file order) and where
    it came from, for errors."""

    def __init__(self, table: pd.DataFrame, path: str | os.PathLike, limit: int, seed: int):
        self.table, self.path, self.limit, self.seed = table, path, limit, seed

    def aligned(self, expected_ids: Sequence[str]) -> pd.DataFrame:
        """The rows in the order of ``expected_ids``: every expected id exactly once, nothing else."""
        expected = pd.Index(expected_ids)
        where = f"limit {self.limit}, seed {self.seed}"
        missing = expected.difference(self.table["id"])
        if len(missing):
            raise InputError(self.path, f"{where}, id {missing[0]!r}", f"no prediction ({len(missing)} of {len(expected)} ids missing)")
        extra = pd.Index(self.table["id"]).difference(expected)
        if len(extra):
            raise InputError(self.path, f"{where}, id {extra[0]!r}", f"not in the set being predicted ({len(extra)} unexpected ids)")
        return self.table.set_index("id").loc[expected].reset_index()


def read_predictions(path: str | os.PathLike) -> dict[tuple[int, int], ModelPredictions]:
    """A prediction table, checked, by model: ``{(limit, seed): ModelPredictions}`` in file order."""
    from qcrobust.tables import read_table

    table = read_table(path, "predictions")
    table = table.assign(y_pred=check_predictions(table, path))
    return {
        (int(limit), int(seed)): ModelPredictions(block[["id", "y_pred"]].reset_index(drop=True), path, int(limit), int(seed))
        for (limit, seed), block in table.groupby(["limit", "seed"], sort=False)
    }


def of_seed(
    predictions: Mapping[tuple[int, int], ModelPredictions], seed: int, path: str | os.PathLike = ""
) -> dict[int, ModelPredictions]:
    """``{limit: ModelPredictions}`` of one seed (a family's base seed: one model per limit)."""
    out = {limit: block for (limit, s), block in predictions.items() if s == int(seed)}
    if not out:
        raise InputError(path, None, f"no predictions of seed {seed}")
    return out


#: the sets rule ``predict`` writes for every trained (limit, seed); rule ``predict_audit``
#: writes ``audit`` for the base seed's models (what rule evaluate_audit scores)
SCREENING_SETS = ("test", "inference")


def _test_ids(splits_path) -> list[str]:
    from qcrobust.io import read_csv
    from qcrobust.splits import test_ids

    return test_ids(read_csv(splits_path, required=["id", "split"], dtype={"id": str}))


def load_set(family: str, set_name: str, inputs: Mapping[str, str]) -> tuple[list[str], object]:
    """What the family's models read of a set: ``(ids, data)`` -- classical: the descriptor rows
    (the test split's rows of the dataset's, in splits order); Allegro: the graph file (inputs
    ``graphs``) or the structures (``structures``, the test split's for ``test``)."""
    if family == "classical":
        from qcrobust.features import read_features

        features = read_features(inputs["features"])
        if set_name == "test":
            ids = _test_ids(inputs["splits"])
            missing = sorted(set(ids) - set(features["id"]))
            if missing:
                raise InputError(inputs["features"], f"id {missing[0]!r}", f"test structure without descriptors ({len(missing)} missing)")
            features = features.set_index("id").loc[ids].reset_index()
        return [str(i) for i in features["id"]], features
    if family == "allegro":
        from qcrobust.allegro.data import model_frame, select
        from qcrobust.allegro.graphs import GraphFile
        from qcrobust.io import read_frames

        if "graphs" in inputs:  # the set's neighbour lists, computed once for every model (rule allegro_graphs)
            graphs = GraphFile(inputs["graphs"])
            return list(graphs.info.ids), graphs
        frames = read_frames(inputs["structures"])
        if set_name == "test":
            frames = [frames[i] for i in select(frames, _test_ids(inputs["splits"]), inputs["splits"])]
        frames = [model_frame(a) for a in frames]
        return [a.info["id"] for a in frames], frames
    raise ValueError(f"unknown family {family!r}")


def load_model(family: str, path: str | os.PathLike, device: str = "cpu"):
    """A saved model, ready for :func:`predict_loaded`."""
    if family == "classical":
        from qcrobust.classical import load_model as load_fold_models

        return load_fold_models(path)
    if family == "allegro":
        from qcrobust.allegro.predict import Predictor

        return Predictor(path, device=device)
    raise ValueError(f"unknown family {family!r}")


def predict_loaded(family: str, model, data) -> np.ndarray:
    """``model`` (:func:`load_model`) on a set's ``data`` (:func:`load_set`): classical, the fold
    models' mean; Allegro, the per-atom prediction."""
    if family == "classical":
        from qcrobust.classical import predict_mean

        pipelines, names = model
        return predict_mean(pipelines, names, data)
    from qcrobust.allegro.graphs import GraphFile

    return model.predict_graphs(data) if isinstance(data, GraphFile) else model.predict(data)


def _set_threads(family: str, threads: int | None) -> None:
    if family == "allegro" and threads:  # before a model is loaded
        import torch

        torch.set_num_threads(int(threads))


def predict_models(
    family: str,
    models: Mapping[tuple[int, int], str],
    sets: Mapping[str, Mapping[str, str]],
    device: str = "cpu",
    threads: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Every model (``{(limit, seed): saved model}``) on every set (``{set: its inputs}``), each
    set read once and each model loaded once: ``{set: prediction table}``, the models' blocks in
    (limit, seed) order. Logs each model's load + prediction time (bench/e2e.py sums them)."""
    if not models:
        raise ValueError("predict_models: no models")
    _set_threads(family, threads)
    loaded = {name: load_set(family, name, inputs) for name, inputs in sets.items()}
    blocks: dict[str, list[pd.DataFrame]] = {name: [] for name in loaded}
    for limit, seed in sorted(models):
        start = time.perf_counter()
        model = load_model(family, models[(limit, seed)], device)
        for name, (ids, data) in loaded.items():
            blocks[name].append(prediction_table(ids, predict_loaded(family, model, data), limit, seed))
        log.info("limit %d seed %d: %s predicted in %.3f s", limit, seed, " + ".join(loaded), time.perf_counter() - start)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in blocks.items()}


def predict_set(family: str, set_name: str, inputs: Mapping[str, str], device: str = "cpu", threads: int | None = None) -> pd.DataFrame:
    """One saved model (``inputs["model"]``) on one set: ``id, y_pred`` (a block of
    :func:`predict_models`, without its key)."""
    _set_threads(family, threads)
    ids, data = load_set(family, set_name, inputs)
    return prediction_table(ids, predict_loaded(family, load_model(family, inputs["model"], device), data))
