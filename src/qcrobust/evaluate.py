"""The study's evaluation, shared by every model family (paper §4.4–4.5, §5).

Its inputs are files only: the prediction tables of one (system, family, model)
(``predictions_test.csv``, ``predictions_inference.csv``, optionally ``predictions_audit.csv``;
columns ``limit, seed, id, y_pred``; the family's base seed is evaluated, the others are
replicas, :mod:`qcrobust.replicas`), the system's ``splits.csv`` and ``dataset_targets.csv`` (+ ``audit_targets.csv``); paths in
:mod:`qcrobust.layout`. A new family joins by saving a model that rule ``predict``
(:mod:`qcrobust.predict`) can read and being listed in :class:`qcrobust.study.Study`.

Summary tables of one (system, family, model) (``SUMMARY_TABLES``), all long tables with
``system, family, model`` columns, except the SimilarityScore matrix:
- ``rmse_by_limit``: test RMSE, MAE, R², bias per limit, with the SimilarityScore normalizer;
- ``similarity``: SimilarityScore_ij, first column ``limit`` (i), one column per limit j;
- ``screening_vs_max_limit``: each limit's screening set against the largest limit's: recall,
  precision, Jaccard, the selected share of the inference set (undefined ratios noted);
- ``overlaps``: |S_i ∩ S_j| and its shares, for every ordered pair of limits;
- ``classification_test``: P/R/F1/DAF of the selections vs true labels.
With an audit set, rule ``evaluate_audit`` adds (``AUDIT_TABLES``, :func:`summarize_audit`):
- ``classification_audit``: the same on the audit set;
- ``audit_cumulative``: precision and recall of the first k audit structures by prediction, every
  k (matbench-discovery's cumulative precision/recall).
Every screening table (all but the first two) has a ``mode`` column: one block per screening mode
of config ``screening.modes`` (:mod:`qcrobust.screening`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qcrobust import metrics
from qcrobust.errors import InputError
from qcrobust.io import read_csv
from qcrobust.predict import ModelPredictions, of_seed, read_predictions
from qcrobust.screening import ScreeningMode, cumulative_precision_recall, modes_from_config

log = logging.getLogger(__name__)

SUMMARY_TABLES = (
    "rmse_by_limit",
    "similarity",
    "screening_vs_max_limit",
    "overlaps",
    "classification_test",
)
AUDIT_TABLES = ("classification_audit", "audit_cumulative")
# rule noise, models with replicas at two limits or more (qcrobust.replicas)
NOISE_TABLES = ("noise", "seed_spread", "replica_scores")
# the schema (workflow/schemas/{schema}.schema.yaml) of each summary table
TABLE_SCHEMAS = {
    "rmse_by_limit": "rmse_by_limit",
    "similarity": "similarity",
    "screening_vs_max_limit": "screening_vs_max_limit",
    "overlaps": "overlaps",
    "classification_test": "classification",
    "classification_audit": "classification",
    "audit_cumulative": "audit_cumulative",
}
SUMMARY_FIGURES = ("rmse_vs_limit", "similarity")  # one per model
MODE_FIGURES = ("screening_vs_limit", "overlaps")  # one per model and screening mode: {name}_{mode}.png
AUDIT_FIGURES = ("audit_cumulative",)  # one per model and mode, systems with an audit set
# cross-family tables in results/report/: name -> the per-model summary table it concatenates
REPORT_TABLES = {
    "rmse_all": "rmse_by_limit",
    "screening_all": "screening_vs_max_limit",
    "classification_test_all": "classification_test",
}


@dataclass(frozen=True)
class EvaluationSettings:
    """The ``screening:`` and ``similarity:`` blocks of the config (their defaults are the schema's)."""

    modes: tuple[ScreeningMode, ...]
    normalizer: str
    warn_below: float

    @classmethod
    def from_config(cls, config: Mapping | None = None) -> EvaluationSettings:
        """From the validated blocks; blocks or keys not given take the schema's defaults."""
        from qcrobust.config import schema_defaults

        config = config or {}
        screening = schema_defaults("screening") | dict(config.get("screening") or {})
        similarity = schema_defaults("similarity") | dict(config.get("similarity") or {})
        return cls(
            modes=tuple(modes_from_config(screening["modes"])),
            normalizer=similarity["normalizer"],
            warn_below=float(similarity["warn_below"]),
        )


def replica_predictions(paths: Mapping[str, str | os.PathLike], limits: Sequence[int]) -> dict[tuple[int, int], dict[str, pd.DataFrame]]:
    """``{"test": table, "inference": table}`` (rule noise's inputs) -> ``{(limit, seed): {"test":
    id/y_pred, ...}}`` for every seed at ``limits`` (the model's replica limits)."""
    out: dict[tuple[int, int], dict[str, pd.DataFrame]] = {}
    for name, path in paths.items():
        for (limit, seed), block in read_predictions(path).items():
            if limit in limits:
                out.setdefault((limit, seed), {})[name] = block.table
    missing = [limit for limit in limits if not any(x == limit for x, _ in out)]
    if missing:
        raise InputError(next(iter(paths.values()), ""), None, f"no predictions at replica limit {missing[0]}")
    return out


# --- reading the inputs ---


def read_test_targets(splits_path, targets_path, target: str) -> pd.DataFrame:
    """``id, y_true`` of the test set (in splits.csv order, as rule predict writes it)."""
    from qcrobust.splits import test_ids

    splits = read_csv(splits_path, required=["id", "split"], dtype={"id": str})
    table = read_csv(targets_path, required=["id", target], dtype={"id": str})
    test = pd.DataFrame({"id": test_ids(splits)})
    if test.empty:
        raise InputError(splits_path, None, "no test rows")
    joined = test.merge(table[["id", target]], on="id", how="left")
    if joined[target].isna().any():
        raise InputError(targets_path, f"id {joined.loc[joined[target].isna(), 'id'].iloc[0]!r}", f"test structure without {target}")
    return joined.rename(columns={target: "y_true"})


def read_audit_targets(path, target: str) -> pd.DataFrame:
    table = read_csv(path, required=["id", target], dtype={"id": str})
    return table[["id", target]].rename(columns={target: "y_true"})


# --- the summary of one (system, family, model) ---


def summarize(
    *,
    system: str,
    family: str,
    model: str,
    predictions: Mapping[int, Mapping[str, ModelPredictions]],
    test: pd.DataFrame,
    settings: EvaluationSettings,
) -> dict[str, pd.DataFrame]:
    """The summary tables (:data:`SUMMARY_TABLES`) of one (system, family, model).

    ``predictions``: limit -> {"test": block, "inference": block} (:func:`predictions_by_limit`);
    ``test``: ``id, y_true``.
    """
    limits = sorted(predictions)
    if not limits:
        raise ValueError(f"{system}/{family}/{model}: no limits to evaluate")
    key = {"system": system, "family": family, "model": model}
    source = f"{system}/{family}/{model}"
    y_test = test["y_true"].to_numpy(dtype=np.float64)
    normalizer = metrics.similarity_normalizer(y_test, settings.normalizer, warn_below=settings.warn_below, source=source)

    test_pred, inference_pred = {}, {}
    inference_ids = None
    for limit in limits:
        blocks = predictions[limit]
        test_pred[limit] = blocks["test"].aligned(test["id"])["y_pred"].to_numpy()
        if inference_ids is None:
            inference_ids = list(blocks["inference"].table["id"])
        inference = blocks["inference"].aligned(inference_ids)
        inference_pred[limit] = inference

    rmse_rows = [
        {
            **key,
            "limit": x,
            "n_test": len(y_test),
            **metrics.regression_scores(y_test, test_pred[x]),
            "normalizer_kind": settings.normalizer,
            "normalizer": normalizer,
        }
        for x in limits
    ]
    rmse = pd.DataFrame(rmse_rows)
    similarity = metrics.similarity_matrix(dict(zip(rmse["limit"], rmse["rmse"])), normalizer)
    similarity.columns = [str(c) for c in similarity.columns]
    tables = {"rmse_by_limit": rmse, "similarity": similarity.reset_index()}
    per_mode: dict[str, list[pd.DataFrame]] = {name: [] for name in ("screening_vs_max_limit", "overlaps", "classification_test")}
    for mode in settings.modes:
        selected = {x: mode.select(inference_pred[x]) for x in limits}
        agreement = metrics.agreement_with_reference(selected, limits[-1], len(inference_ids))
        per_mode["screening_vs_max_limit"].append(with_nominal(agreement, mode, len(inference_ids), before="n_selected"))
        per_mode["overlaps"].append(metrics.overlaps(selected))
        per_mode["classification_test"].append(classification_by_limit(y_test, test_pred, mode))
        for name in per_mode:
            per_mode[name][-1].insert(0, "mode", mode.name)
    tables |= _by_mode(key, per_mode)
    screening = tables["screening_vs_max_limit"]
    log.info(
        "%s: test RMSE %.4f-%.4f eV/atom over limits %s; selected at limit %d per mode: %s",
        source,
        rmse["rmse"].min(),
        rmse["rmse"].max(),
        limits,
        limits[-1],
        ", ".join(f"{r.mode} {r.n_selected}" for r in screening[screening["limit"] == limits[-1]].itertuples()),
    )
    return tables


def summarize_audit(
    *,
    system: str,
    family: str,
    model: str,
    predictions: Mapping[int, Mapping[str, ModelPredictions]],
    audit: pd.DataFrame,
    modes: Sequence[ScreeningMode],
) -> dict[str, pd.DataFrame]:
    """The audit tables (:data:`AUDIT_TABLES`) of one (system, family, model): its screens
    judged on the labeled audit structures. ``predictions``: limit -> {"audit": block}."""
    limits = sorted(predictions)
    if not limits:
        raise ValueError(f"{system}/{family}/{model}: no limits to evaluate on the audit set")
    key = {"system": system, "family": family, "model": model}
    y_audit = audit["y_true"].to_numpy(dtype=np.float64)
    audit_pred = {x: predictions[x]["audit"].aligned(audit["id"])["y_pred"].to_numpy() for x in limits}
    per_mode: dict[str, list[pd.DataFrame]] = {"classification_audit": [], "audit_cumulative": []}
    for mode in modes:
        per_mode["classification_audit"].append(classification_by_limit(y_audit, audit_pred, mode))
        per_mode["audit_cumulative"].append(
            pd.concat([cumulative_precision_recall(y_audit, audit_pred[x], mode).assign(limit=x) for x in limits], ignore_index=True)
        )
        for name in per_mode:
            per_mode[name][-1].insert(0, "mode", mode.name)
    return _by_mode(key, per_mode)


def with_nominal(table: pd.DataFrame, mode: ScreeningMode, n: int, *, before: str) -> pd.DataFrame:
    """``table`` with a ``k_nominal`` column before column ``before``: the size a ``top`` mode asks
    for on ``n`` structures (empty for other modes), beside the realized size that ties can raise."""
    table = table.copy()
    table.insert(table.columns.get_loc(before), "k_nominal", pd.array([mode.nominal(n)] * len(table), dtype="Int64"))
    return table


def classification_by_limit(y_true, predictions: Mapping[int, np.ndarray], mode: ScreeningMode) -> pd.DataFrame:
    """:func:`qcrobust.metrics.classification_table` of one mode, with its nominal size (truth and
    predictions both select by the mode; ties at a ``top`` cut are all in)."""
    return with_nominal(metrics.classification_table(y_true, predictions, select=mode.mask), mode, len(y_true), before="tp")


def _by_mode(key: Mapping[str, str], per_mode: Mapping[str, list[pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    return {name: _keyed(key, pd.concat(parts, ignore_index=True)) for name, parts in per_mode.items()}


def _keyed(key: Mapping[str, str], table: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({k: [v] * len(table) for k, v in key.items()}), table.reset_index(drop=True)], axis=1)


def write_tables(
    tables: Mapping[str, pd.DataFrame], outputs: Mapping[str, str | os.PathLike], schemas: Mapping[str, str] = TABLE_SCHEMAS
) -> None:
    """Check every table against its schema first, then write them all (nothing written if one fails)."""
    from qcrobust.io import write_csv
    from qcrobust.tables import check_table

    for name, table in tables.items():
        check_table(table, schemas[name], outputs[name])
    for name, table in tables.items():
        write_csv(table, outputs[name])


def concat_tables(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One long table from many summary tables of the same kind (order of ``paths`` kept)."""
    tables = [
        read_csv(p, required=["system", "family", "model", "limit"], dtype={"system": str, "family": str, "model": str}) for p in paths
    ]
    table = pd.concat(tables, ignore_index=True)
    if "note" in table.columns:  # an empty note reads back as NaN
        table["note"] = table["note"].fillna("").astype(str)
    return table


def predictions_by_limit(paths: Mapping[str, str | os.PathLike], seed: int) -> dict[int, dict[str, ModelPredictions]]:
    """``{"test": table, "inference": table}`` (rule inputs) -> ``{limit: {"test": the seed's
    block, ...}}``: the family's base seed, one model per limit."""
    out: dict[int, dict[str, ModelPredictions]] = {}
    for name, path in paths.items():
        for limit, block in of_seed(read_predictions(path), seed, path).items():
            out.setdefault(limit, {})[name] = block
    return out
