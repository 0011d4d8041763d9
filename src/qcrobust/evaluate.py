"""The study's evaluation, shared by every model family (paper §4.4–4.5, §5).

Its inputs are files only: per limit the prediction files of one (system, family, model)
(``pred_test.csv``, ``pred_inference.csv``, optionally ``pred_audit.csv``; columns ``id, y_pred``),
the system's ``splits.csv`` and ``targets.csv`` (+ ``audit_targets.csv``). A new family joins
by writing those files under ``results/{system}/{family}/{model}/limit_{limit}/`` and being listed
in :func:`family_grid`.

Summary tables of one (system, family, model) (``SUMMARY_TABLES``), all long tables with
``system, family, model`` columns, except the SimilarityScore matrix:
- ``rmse_by_limit``: test RMSE, MAE, R², bias per limit, with the SimilarityScore normalizer;
- ``similarity``: SimilarityScore_ij, first column ``limit`` (i), one column per limit j;
- ``screening_vs_max_limit``: each limit's screening set against the largest limit's: recall,
  precision, Jaccard, the selected share of the inference set (undefined ratios noted);
- ``overlaps``: |S_i ∩ S_j| and its shares, for every ordered pair of limits;
- ``classification_test`` (+ ``classification_audit``): P/R/F1/DAF of the selections vs true labels;
- ``audit_cumulative`` (with an audit set): precision and recall of the first k audit structures by
  prediction, every k (matbench-discovery's cumulative precision/recall).
Every screening table (all but the first two) has a ``mode`` column: one block per screening mode
of config ``screening.modes`` (:mod:`qcrobust.screening`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qcrobust import metrics
from qcrobust.errors import InputError
from qcrobust.io import read_csv
from qcrobust.screening import ScreeningMode, cumulative_precision_recall, modes_from_config

log = logging.getLogger(__name__)

FAMILIES = ("classical", "allegro")
SUMMARY_TABLES = (
    "rmse_by_limit",
    "similarity",
    "screening_vs_max_limit",
    "overlaps",
    "classification_test",
)
AUDIT_TABLES = ("classification_audit", "audit_cumulative")
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


PAPER_MODE = ScreeningMode("below_hull", "threshold", value=0.0)


@dataclass(frozen=True)
class EvaluationSettings:
    """The ``screening:`` and ``similarity:`` blocks of the config (the schema's defaults)."""

    modes: tuple[ScreeningMode, ...] = (PAPER_MODE,)
    normalizer: str = "std"
    warn_below: float = 0.002

    @classmethod
    def from_config(cls, config: Mapping) -> EvaluationSettings:
        similarity = config.get("similarity", {})
        modes = config.get("screening", {}).get("modes")
        return cls(
            modes=tuple(modes_from_config(modes)) if modes else cls.modes,
            normalizer=similarity.get("normalizer", cls.normalizer),
            warn_below=float(similarity.get("warn_below", cls.warn_below)),
        )


# --- which models exist (read by the rules) ---


def family_grid(config: Mapping) -> dict[str, tuple[list[str], list[int]]]:
    """family -> (models, limits) of the configured study; families without models are left out."""
    from qcrobust.config import allegro_limits

    grid = {
        "classical": (list(config["classical"]["models"]), list(config["limits"])),
        "allegro": (list(config["allegro"]["models"]), allegro_limits(config)),
    }
    return {family: (models, limits) for family, (models, limits) in grid.items() if models}


def family_limits(config: Mapping, family: str) -> list[int]:
    return family_grid(config)[family][1]


def shared_limits(config: Mapping) -> list[int]:
    """The limits every configured family trains on: the grid cross-family comparisons use."""
    grids = [set(limits) for _, limits in family_grid(config).values()]
    return sorted(set.intersection(*grids)) if grids else []


def _has_audit(config: Mapping, system: str) -> bool:
    return bool(config["systems"][system].get("audit"))


def system_regex(config: Mapping, audit: bool) -> str:
    """The systems with (``audit=True``) or without an audit set, as a wildcard regex."""
    import re

    names = [s for s in config["systems"] if _has_audit(config, s) == audit]
    return "|".join(re.escape(s) for s in names) if names else "(?!)"


def prediction_files(config: Mapping, system: str, family: str, model: str) -> dict[str, str]:
    """``pred_{set}_{limit}`` -> path, for every limit of the family (audit when the system has one)."""
    sets = ("test", "inference") + (("audit",) if _has_audit(config, system) else ())
    return {
        f"pred_{name}_{limit}": f"results/{system}/{family}/{model}/limit_{limit}/pred_{name}.csv"
        for limit in family_limits(config, family)
        for name in sets
    }


def summary_inputs(config: Mapping, wildcards) -> dict[str, str]:
    """Inputs of rule ``evaluate``: the prediction files, splits and targets (+ audit targets)."""
    system = wildcards.system
    inputs = prediction_files(config, system, wildcards.family, wildcards.model)
    inputs |= {"splits": f"results/{system}/splits.csv", "targets": f"results/{system}/targets.csv"}
    if _has_audit(config, system):
        inputs["audit_targets"] = f"results/{system}/audit_targets.csv"
    return inputs


def summary_dirs(config: Mapping) -> list[str]:
    return [
        f"results/{system}/{family}/{model}/summary"
        for system in config["systems"]
        for family, (models, _) in family_grid(config).items()
        for model in models
    ]


def report_inputs(config: Mapping) -> dict[str, list[str]]:
    """Inputs of rule ``report_tables``: every model's summary tables, by cross-family table."""
    return {name: [f"{d}/{table}.csv" for d in summary_dirs(config)] for name, table in REPORT_TABLES.items()}


def mode_names(config: Mapping) -> list[str]:
    return [mode["name"] for mode in config["screening"]["modes"]]


def figure_names(config: Mapping, kinds: Sequence[str]) -> list[str]:
    """``{kind}_{mode}`` for every figure kind and configured screening mode."""
    return [f"{kind}_{mode}" for kind in kinds for mode in mode_names(config)]


def targets(config: Mapping) -> list[str]:
    """Final outputs of the evaluation stage: every summary table and figure, and the report tables."""
    paths = []
    for directory in summary_dirs(config):
        system = directory.split("/")[1]
        names = SUMMARY_TABLES + (AUDIT_TABLES if _has_audit(config, system) else ())
        paths += [f"{directory}/{name}.csv" for name in names]
        paths += [f"{directory}/{name}.png" for name in [*SUMMARY_FIGURES, *figure_names(config, MODE_FIGURES)]]
        if _has_audit(config, system):
            paths += [f"{directory}/{name}.png" for name in figure_names(config, AUDIT_FIGURES)]
    if summary_dirs(config):
        paths += [f"results/report/{name}.csv" for name in REPORT_TABLES] + ["results/report/rmse_boxplot.png"]
    return paths


# --- reading the inputs ---


def read_predictions(path: str | os.PathLike, expected_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """A prediction file (``id, y_pred``), checked; rows in the order of ``expected_ids`` when given.

    Every expected id must be there exactly once, and nothing else; ``y_pred`` must be finite.
    """
    table = read_csv(path, required=["id", "y_pred"], dtype={"id": str})
    duplicated = table["id"].duplicated()
    if duplicated.any():
        raise InputError(path, f"id {table['id'][duplicated].iloc[0]!r}", "duplicate id")
    y = pd.to_numeric(table["y_pred"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(y)):
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputError(path, f"id {table['id'].iloc[row]!r}", f"y_pred is not a finite number ({table['y_pred'].iloc[row]!r})")
    table = pd.DataFrame({"id": table["id"], "y_pred": y})
    if expected_ids is None:
        return table
    expected = pd.Index(expected_ids)
    missing = expected.difference(table["id"])
    if len(missing):
        raise InputError(path, f"id {missing[0]!r}", f"no prediction ({len(missing)} of {len(expected)} ids missing)")
    extra = pd.Index(table["id"]).difference(expected)
    if len(extra):
        raise InputError(path, f"id {extra[0]!r}", f"not in the set being predicted ({len(extra)} unexpected ids)")
    return table.set_index("id").loc[expected].reset_index()


def read_test_targets(splits_path, targets_path, target: str) -> pd.DataFrame:
    """``id, y_true`` of the test set."""
    splits = read_csv(splits_path, required=["id", "split"], dtype={"id": str})
    table = read_csv(targets_path, required=["id", target], dtype={"id": str})
    test = splits.loc[splits["split"] == "test", ["id"]]
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
    predictions: Mapping[int, Mapping[str, str | os.PathLike]],
    test: pd.DataFrame,
    audit: pd.DataFrame | None = None,
    settings: EvaluationSettings = EvaluationSettings(),
) -> dict[str, pd.DataFrame]:
    """All summary tables of one (system, family, model).

    ``predictions``: limit -> {"test": path, "inference": path[, "audit": path]};
    ``test`` / ``audit``: ``id, y_true`` tables.
    """
    limits = sorted(predictions)
    if not limits:
        raise ValueError(f"{system}/{family}/{model}: no limits to evaluate")
    key = {"system": system, "family": family, "model": model}
    source = f"{system}/{family}/{model}"
    y_test = test["y_true"].to_numpy(dtype=np.float64)
    normalizer = metrics.similarity_normalizer(y_test, settings.normalizer, warn_below=settings.warn_below, source=source)

    test_pred, inference_pred, audit_pred = {}, {}, {}
    inference_ids = None
    for limit in limits:
        files = predictions[limit]
        test_pred[limit] = read_predictions(files["test"], test["id"])["y_pred"].to_numpy()
        inference = read_predictions(files["inference"], inference_ids)
        if inference_ids is None:
            inference_ids = list(inference["id"])
        inference_pred[limit] = inference
        if audit is not None:
            if "audit" not in files:
                raise ValueError(f"{source}: limit {limit} has no audit predictions")
            audit_pred[limit] = read_predictions(files["audit"], audit["id"])["y_pred"].to_numpy()

    rmse_rows = [
        {**key, "limit": x, "n_test": len(y_test), **metrics.regression_scores(y_test, test_pred[x]),
         "normalizer_kind": settings.normalizer, "normalizer": normalizer}
        for x in limits
    ]
    rmse = pd.DataFrame(rmse_rows)
    similarity = metrics.similarity_matrix(dict(zip(rmse["limit"], rmse["rmse"])), normalizer)
    similarity.columns = [str(c) for c in similarity.columns]
    tables = {"rmse_by_limit": rmse, "similarity": similarity.reset_index()}
    per_mode: dict[str, list[pd.DataFrame]] = {name: [] for name in ("screening_vs_max_limit", "overlaps", "classification_test")}
    if audit is not None:
        per_mode |= {"classification_audit": [], "audit_cumulative": []}
        y_audit = audit["y_true"].to_numpy(dtype=np.float64)
    for mode in settings.modes:
        selected = {x: mode.select(inference_pred[x]) for x in limits}
        per_mode["screening_vs_max_limit"].append(metrics.agreement_with_reference(selected, limits[-1], len(inference_ids)))
        per_mode["overlaps"].append(metrics.overlaps(selected))
        per_mode["classification_test"].append(metrics.classification_table(y_test, test_pred, select=mode.mask))
        if audit is not None:
            per_mode["classification_audit"].append(metrics.classification_table(y_audit, audit_pred, select=mode.mask))
            per_mode["audit_cumulative"].append(pd.concat(
                [cumulative_precision_recall(y_audit, audit_pred[x], mode).assign(limit=x) for x in limits], ignore_index=True
            ))
        for name in per_mode:
            per_mode[name][-1].insert(0, "mode", mode.name)
    for name, parts in per_mode.items():
        tables[name] = _keyed(key, pd.concat(parts, ignore_index=True))
    screening = tables["screening_vs_max_limit"]
    log.info(
        "%s: test RMSE %.4f-%.4f eV/atom over limits %s; selected at limit %d per mode: %s",
        source, rmse["rmse"].min(), rmse["rmse"].max(), limits, limits[-1],
        ", ".join(f"{r.mode} {r.n_selected}" for r in screening[screening["limit"] == limits[-1]].itertuples()),
    )
    return tables


def _keyed(key: Mapping[str, str], table: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({k: [v] * len(table) for k, v in key.items()}), table.reset_index(drop=True)], axis=1)


def write_tables(tables: Mapping[str, pd.DataFrame], outputs: Mapping[str, str | os.PathLike], schemas: Mapping[str, str] = TABLE_SCHEMAS) -> None:
    """Check every table against its schema first, then write them all (nothing written if one fails)."""
    from qcrobust.io import write_csv
    from qcrobust.tables import check_table

    for name, table in tables.items():
        check_table(table, schemas[name], outputs[name])
    for name, table in tables.items():
        write_csv(table, outputs[name])


def concat_tables(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One long table from many summary tables of the same kind (order of ``paths`` kept)."""
    tables = [read_csv(p, required=["system", "family", "model", "limit"], dtype={"system": str, "family": str, "model": str}) for p in paths]
    table = pd.concat(tables, ignore_index=True)
    if "note" in table.columns:  # an empty note reads back as NaN
        table["note"] = table["note"].fillna("").astype(str)
    return table


def summary_paths(directory: str | os.PathLike, audit: bool) -> dict[str, Path]:
    directory = Path(directory)
    return {name: directory / f"{name}.csv" for name in SUMMARY_TABLES + (AUDIT_TABLES if audit else ())}


def predictions_by_limit(named_inputs: Mapping[str, str]) -> dict[int, dict[str, str]]:
    """``{"pred_test_8": path, ...}`` (rule inputs) -> ``{8: {"test": path, ...}}``."""
    out: dict[int, dict[str, str]] = {}
    for name, path in named_inputs.items():
        if not name.startswith("pred_"):
            continue
        _, kind, limit = name.split("_")
        out.setdefault(int(limit), {})[kind] = str(path)
    return out
