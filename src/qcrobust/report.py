"""The study's HTML report: the dataset table, the cross-family stability table and a short
generated "findings" section (rules in rules/report.smk; the report itself is snakemake's own,
``snakemake --report results/report/report.html``).

Stability of one model (system, family, model) across the limit grid, from its summary tables:
- recall: the lowest recall of the screening set S_x against the largest limit's (over the
  limits below it), and the mean;
- SimilarityScore: the lowest and the mean off-diagonal entry of its matrix;
- flips: screening calls (below / not below the threshold) that change between neighbouring
  limits, |S_i Δ S_j| = n_i + n_j - 2 |S_i ∩ S_j|, in total and for the worst pair;
- converged_from: the smallest limit from which every larger limit screens exactly S_max.
A family's stability is the mean over its models and systems.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from qcrobust.errors import InputError
from qcrobust.io import count_frames, read_csv

KEY = ["system", "family", "model"]
STABILITY_COLUMNS = KEY + [
    "n_limits",
    "largest_limit",
    "rmse_largest_limit",
    "rmse_min",
    "rmse_max",
    "recall_min",
    "recall_mean",
    "similarity_min",
    "similarity_mean",
    "n_inference",
    "flips_total",
    "flips_max",
    "flips_max_between",
    "converged_from",
]
DATASET_COLUMNS = [
    "system",
    "n_labeled",
    "n_limit0",
    "n_train",
    "n_val",
    "n_test",
    "n_inference",
    "n_audit",
    "max_A5_defects",
    "target_mean",
    "target_std",
    "target_min",
    "target_max",
    "share_below_threshold",
]


# --- which files the report rules read (used by rules/report.smk) ---


def dataset_inputs(config: Mapping) -> dict[str, list[str]]:
    """Per-system tables the dataset table is made of, by kind (lists in ``config`` order)."""
    systems = list(config["systems"])
    inputs = {
        "targets": [f"results/{s}/targets.csv" for s in systems],
        "splits": [f"results/{s}/splits.csv" for s in systems],
        "inference": [f"results/{s}/inference.extxyz" for s in systems],
    }
    audit = [f"results/{s}/audit_targets.csv" for s in systems if config["systems"][s].get("audit")]
    if audit:
        inputs["audit_targets"] = audit
    return inputs


def findings_inputs(config: Mapping) -> dict[str, str | list[str]]:
    """The cross-family tables of rule ``report_tables`` and every model's similarity and
    overlap tables."""
    from qcrobust.evaluate import summary_dirs

    dirs = summary_dirs(config)
    return {
        "rmse": "results/report/rmse_all.csv",
        "recall": "results/report/recall_all.csv",
        "below_hull": "results/report/below_hull_all.csv",
        "similarity": [f"{d}/similarity.csv" for d in dirs],
        "overlaps": [f"{d}/overlaps.csv" for d in dirs],
    }


def as_paths(value) -> list[str]:
    """A named input as a list of paths (snakemake hands over a one-element list as a string)."""
    return [value] if isinstance(value, (str, os.PathLike)) else [str(v) for v in value]


def summary_key(path: str | os.PathLike) -> tuple[str, str, str]:
    """(system, family, model) of ``results/{system}/{family}/{model}/summary/<table>.csv``."""
    parts = Path(path).parts
    if len(parts) < 5 or parts[-2] != "summary":
        raise InputError(path, None, "not a summary table path results/{system}/{family}/{model}/summary/*.csv")
    return parts[-5], parts[-4], parts[-3]


# --- the dataset table ---


def dataset_row(system: str, targets: pd.DataFrame, splits: pd.DataFrame, n_inference: int,
                n_audit: int, target: str, threshold: float) -> dict:
    """One system's row of the dataset table."""
    y = targets[target].astype(float)
    counts = splits["split"].value_counts()
    return {
        "system": system,
        "n_labeled": len(targets),
        "n_limit0": int((targets["n_A5_defects"] == 0).sum()),
        "n_train": int(counts.get("train", 0)),
        "n_val": int(counts.get("val", 0)),
        "n_test": int(counts.get("test", 0)),
        "n_inference": n_inference,
        "n_audit": n_audit,
        "max_A5_defects": int(targets["n_A5_defects"].max()),
        "target_mean": float(y.mean()),
        "target_std": float(y.std(ddof=0)),
        "target_min": float(y.min()),
        "target_max": float(y.max()),
        "share_below_threshold": float((y < threshold).mean()),
    }


def dataset_table(systems: Sequence[str], inputs: Mapping[str, Sequence[str]], audit_systems: Iterable[str],
                  target: str, threshold: float) -> pd.DataFrame:
    """The dataset table from :func:`dataset_inputs`' files (``audit_systems``: those with an audit set)."""
    audit_paths = dict(zip(audit_systems, inputs.get("audit_targets", []), strict=True))
    rows = []
    for system, targets_path, splits_path, inference in zip(
        systems, inputs["targets"], inputs["splits"], inputs["inference"], strict=True
    ):
        targets = read_csv(targets_path, required=["id", "n_A5_defects", target], dtype={"id": str})
        splits = read_csv(splits_path, required=["id", "split"], dtype={"id": str})
        n_audit = len(read_csv(audit_paths[system])) if system in audit_paths else 0
        rows.append(dataset_row(system, targets, splits, count_frames(inference), n_audit, target, threshold))
    return pd.DataFrame(rows, columns=DATASET_COLUMNS)


# --- stability of each model across the limit grid ---


def similarity_stats(matrix: pd.DataFrame) -> tuple[float, float]:
    """(min, mean) of the off-diagonal SimilarityScores (NaN with a single limit)."""
    values = matrix.to_numpy(dtype=float)
    off = values[~np.eye(len(values), dtype=bool)]
    off = off[np.isfinite(off)]
    return (float(off.min()), float(off.mean())) if off.size else (math.nan, math.nan)


def flip_stats(overlaps: pd.DataFrame) -> dict:
    """Screening calls that change between neighbouring limits, and where S_x stops changing."""
    pairs = {(int(r.limit_i), int(r.limit_j)): r for r in overlaps.itertuples()}
    limits = sorted({i for i, _ in pairs} | {j for _, j in pairs})
    flips = {}
    for low, high in zip(limits, limits[1:]):
        row = pairs.get((low, high))
        if row is None:
            raise InputError("overlaps", None, f"no row for limits ({low}, {high})")
        flips[(low, high)] = int(row.n_i + row.n_j - 2 * row.n_common)
    largest = limits[-1]
    converged = largest
    for limit in reversed(limits):
        row = pairs[(limit, largest)]
        if row.n_i == row.n_j == row.n_common:
            converged = limit
        else:
            break
    worst = max(flips, key=flips.get) if flips and max(flips.values()) > 0 else None
    return {
        "flips_total": sum(flips.values()),
        "flips_max": flips[worst] if worst else 0,
        "flips_max_between": f"{worst[0]}-{worst[1]}" if worst else "",
        "converged_from": converged,
    }


def stability_table(rmse: pd.DataFrame, recall: pd.DataFrame, below_hull: pd.DataFrame,
                    similarity: Mapping[tuple, pd.DataFrame], overlaps: Mapping[tuple, pd.DataFrame]) -> pd.DataFrame:
    """One row per (system, family, model) of ``rmse`` with the stability columns (module
    docstring); ``recall`` and ``below_hull`` are the cross-family tables, ``similarity`` and
    ``overlaps`` each model's summary table by (system, family, model)."""
    recalls = {tuple(k): g for k, g in recall.groupby(KEY, sort=False)}
    screened = below_hull.groupby(KEY, sort=False)["n_screened"].max()
    rows = []
    for key, group in rmse.groupby(KEY, sort=False):
        key = tuple(key)
        if key not in similarity or key not in overlaps:
            raise InputError("summary tables", None, f"no similarity/overlaps table for {'/'.join(key)}")
        group = group.sort_values("limit")
        largest = int(group["limit"].max())
        own = recalls.get(key, recall.iloc[:0])
        below = own.loc[own["limit"] < largest, "recall"].astype(float).dropna()
        sim_min, sim_mean = similarity_stats(similarity[key])
        rows.append(
            dict(zip(KEY, key))
            | {
                "n_limits": len(group),
                "largest_limit": largest,
                "rmse_largest_limit": float(group["rmse"].iloc[-1]),
                "rmse_min": float(group["rmse"].min()),
                "rmse_max": float(group["rmse"].max()),
                "recall_min": float(below.min()) if len(below) else math.nan,
                "recall_mean": float(below.mean()) if len(below) else math.nan,
                "similarity_min": sim_min,
                "similarity_mean": sim_mean,
                "n_inference": int(screened.get(key, 0)),
            }
            | flip_stats(overlaps[key])
        )
    return pd.DataFrame(rows, columns=STABILITY_COLUMNS)


def family_table(stability: pd.DataFrame) -> pd.DataFrame:
    """Mean stability per family over its systems and models (NaN recalls left out)."""
    table = stability.assign(flip_share=stability["flips_total"] / stability["n_inference"].replace(0, np.nan))
    return (
        table.groupby("family", sort=False)
        .agg(
            n_models=("model", "size"),
            recall_min=("recall_min", "mean"),
            recall_mean=("recall_mean", "mean"),
            similarity_min=("similarity_min", "mean"),
            similarity_mean=("similarity_mean", "mean"),
            rmse_largest_limit=("rmse_largest_limit", "mean"),
            flip_share=("flip_share", "mean"),
        )
        .reset_index()
    )


# --- the findings section ---


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _best(table: pd.DataFrame, column: str, label) -> str | None:
    """``label(row)`` of the row with the highest finite ``column`` (ties: all of them)."""
    finite = table[np.isfinite(table[column].astype(float))]
    if finite.empty:
        return None
    top = finite[finite[column] == finite[column].max()]
    return " and ".join(label(row) for _, row in top.iterrows())


def findings(stability: pd.DataFrame, threshold: float, target: str) -> list[str]:
    """The findings as short plain sentences (HTML-escaped by :func:`findings_html`)."""
    if stability.empty:
        return ["No model was trained, so there is nothing to compare."]
    families = family_table(stability)
    out = []
    for column, what in (("recall_min", "recall against the largest limit (lowest over the smaller limits)"),
                         ("similarity_mean", "SimilarityScore (mean over limit pairs)")):
        best = _best(families, column, lambda r: r["family"])
        if best is None:
            out.append(f"No family has a defined {what}.")
            continue
        values = ", ".join(f"{r.family} {_fmt(getattr(r, column))}" for r in families.itertuples())
        if np.isfinite(families[column].astype(float)).sum() < 2:
            out.append(f"Only {best} has a defined {what} ({values}; mean over systems and models).")
        else:
            out.append(f"Most stable family by {what}: {best} ({values}; mean over systems and models).")
    model_label = lambda r: f"{r['family']} {r['model']}"  # noqa: E731
    per_model = stability.groupby(["family", "model"], sort=False)[["recall_min", "similarity_mean"]].mean().reset_index()
    for column, what in (("recall_min", "recall"), ("similarity_mean", "SimilarityScore")):
        best = _best(per_model, column, model_label)
        if best:
            out.append(f"Most stable model by {what}: {best} ({_fmt(per_model[column].max())}, mean over systems).")
    undefined = stability[stability["recall_min"].isna() & (stability["n_limits"] > 1)]
    if len(undefined):
        names = ", ".join(f"{r.system} {r.family} {r.model}" for r in undefined.itertuples())
        out.append(f"Recall is undefined where the largest limit selects nothing ({target} < {threshold:g} "
                   f"predicted for no inference structure): {names}.")
    single = stability[stability["n_limits"] < 2]
    if len(single):
        names = ", ".join(f"{r.system} {r.family} {r.model}" for r in single.itertuples())
        out.append(f"Trained at one limit only, so without stability measures: {names}.")
    ranked = stability.sort_values(["flips_max", "family", "model"], ascending=[False, True, True], kind="stable")
    for system, rows in ranked.groupby("system", sort=False):
        row = rows.iloc[0]
        if row["flips_max"] == 0:
            out.append(f"{system}: no screening call changes with the limit, for any model.")
            continue
        low, high = row["flips_max_between"].split("-")
        out.append(
            f"{system}: the limit matters most for {row['family']} {row['model']}, whose screening calls "
            f"change for {row['flips_max']} of {row['n_inference']} inference structures between limits "
            f"{low} and {high}; its selection is final from limit {row['converged_from']} on."
        )
    return out


def findings_html(stability: pd.DataFrame, threshold: float, target: str) -> str:
    """A small standalone HTML page: the findings, then the per-family and per-model tables."""
    items = "\n".join(f"<li>{html.escape(sentence)}</li>" for sentence in findings(stability, threshold, target))
    tables = ""
    if not stability.empty:
        tables = (
            "<h2>Per family</h2>\n" + family_table(stability).to_html(index=False, float_format="%.3f", border=0)
            + "\n<h2>Per model</h2>\n" + stability.to_html(index=False, float_format="%.3f", border=0)
        )
    style = ("body{font-family:sans-serif;margin:1.5em;max-width:70em} li{margin:.4em 0} "
             "table{border-collapse:collapse;font-size:.85em} td,th{padding:.2em .6em;border-bottom:1px solid #ddd}")
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Findings</title><style>{style}</style></head>\n"
        f"<body>\n<h1>Findings</h1>\n<p>Screening: {html.escape(target)} &lt; {threshold:g} eV/atom. "
        "Stability measures are explained in the caption.</p>\n"
        f"<ul>\n{items}\n</ul>\n{tables}\n</body></html>\n"
    )


def read_summaries(paths: Sequence[str], **kwargs) -> dict[tuple, pd.DataFrame]:
    """Per-model summary tables by (system, family, model), from their paths."""
    return {summary_key(path): read_csv(path, **kwargs) for path in paths}


def targets(config: Mapping) -> list[str]:
    """Final outputs of the report stage (the findings only once some model is configured)."""
    from qcrobust.evaluate import summary_dirs

    paths = ["results/report/datasets.csv"]
    if summary_dirs(config):
        paths += ["results/report/stability.csv", "results/report/findings.html"]
    return paths
