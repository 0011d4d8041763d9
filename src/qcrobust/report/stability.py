"""Each model's stability across the limit grid, and per family (rule report_findings: ``stability.csv``).

Families compare like with like: every cross-family number is computed on the limits every
configured family trained on (``shared_limits``; the default study: Allegro's 0, 12, 24 of the
classical family's 13), and every aggregate says how many (system, model, limit) cells it rests on
and how many were undefined (nothing selected). Stability of one model (system, family, model)
over those limits, from its summary tables:
- against the largest limit's screening set S_ref, over the smaller limits: recall (lowest, mean),
  precision (a flood of selections has recall 1 and precision near 0), Jaccard, and the range of
  the selected share of the inference set; ``n_compared`` limits, ``n_*_undefined`` of them
  without a value;
- SimilarityScore: the lowest and the mean off-diagonal entry of its matrix on those limits;
- flips: screening calls (selected / not selected by the screening mode) that change between neighbouring
  limits, |S_i Δ S_j| = n_i + n_j - 2 |S_i ∩ S_j|: in total, per limit step, and for the worst pair;
- converged_from: the smallest limit from which every larger limit screens exactly S_ref.
A family's row is the mean over its models and systems of the defined values, with the counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from qcrobust.errors import InputError
from qcrobust.report import KEY

# ratios against the largest limit's screening set, summarised over the smaller limits
AGREEMENT = ("recall", "precision", "jaccard")


STABILITY_COLUMNS = KEY + [
    "mode",
    "limits",
    "n_limits",
    "largest_limit",
    "rmse_largest_limit",
    "rmse_min",
    "rmse_max",
    "n_compared",
    *[f"{m}_{stat}" for m in AGREEMENT for stat in ("min", "mean")],
    *[f"n_{m}_undefined" for m in AGREEMENT],
    "share_selected_min",
    "share_selected_max",
    "similarity_min",
    "similarity_mean",
    "normalizer_kind",
    "n_inference",
    "flips_total",
    "flips_per_step",
    "flips_max",
    "flips_max_between",
    "converged_from",
]


def similarity_stats(matrix: pd.DataFrame, limits: Sequence[int] | None = None) -> tuple[float, float]:
    """(min, mean) of the off-diagonal SimilarityScores, over ``limits`` only when given (NaN
    with a single limit). ``matrix``: index = limits, columns = the same limits (any type)."""
    matrix = matrix.copy()
    matrix.index = [int(x) for x in matrix.index]
    matrix.columns = [int(x) for x in matrix.columns]
    if limits is not None:
        matrix = matrix.loc[list(limits), list(limits)]
    values = matrix.to_numpy(dtype=float)
    off = values[~np.eye(len(values), dtype=bool)]
    off = off[np.isfinite(off)]
    return (float(off.min()), float(off.mean())) if off.size else (math.nan, math.nan)


def flip_stats(overlaps: pd.DataFrame, limits: Sequence[int] | None = None) -> dict:
    """Screening calls that change between neighbouring ``limits`` (default: every limit of the
    table), and where S_x stops changing."""
    pairs = {(int(r.limit_i), int(r.limit_j)): r for r in overlaps.itertuples()}
    limits = sorted(limits) if limits is not None else sorted({i for i, _ in pairs} | {j for _, j in pairs})
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
        "flips_per_step": sum(flips.values()) / len(flips) if flips else math.nan,
        "flips_max": flips[worst] if worst else 0,
        "flips_max_between": f"{worst[0]}-{worst[1]}" if worst else "",
        "converged_from": converged,
    }


def _summary(values: pd.Series) -> tuple[float, float, int]:
    """(min, mean, number undefined) of a column of ratios."""
    defined = values.astype(float).dropna()
    undefined = len(values) - len(defined)
    return (float(defined.min()), float(defined.mean()), undefined) if len(defined) else (math.nan, math.nan, undefined)


def stability_table(
    rmse: pd.DataFrame,
    screening: pd.DataFrame,
    similarity: Mapping[tuple, pd.DataFrame],
    overlaps: Mapping[tuple, pd.DataFrame],
    limits: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per (system, family, model) of ``rmse`` and screening mode with the stability
    columns (module docstring), computed on ``limits`` (the limits every family shares; default:
    each model's own). ``screening`` is the cross-family ``screening_all`` table; ``similarity``
    and ``overlaps`` each model's summary table by (system, family, model). Screening tables
    without a ``mode`` column count as one mode named ""."""
    modes = list(dict.fromkeys(screening["mode"])) if "mode" in screening else [""]
    tables = []
    for mode in modes:
        own = screening[screening["mode"] == mode] if mode else screening
        pairs = {key: (table[table["mode"] == mode] if mode else table) for key, table in overlaps.items()}
        tables.append(_stability_of_mode(rmse, own, similarity, pairs, limits).assign(mode=mode))
    return pd.concat(tables, ignore_index=True)[STABILITY_COLUMNS]


def _stability_of_mode(
    rmse: pd.DataFrame,
    screening: pd.DataFrame,
    similarity: Mapping[tuple, pd.DataFrame],
    overlaps: Mapping[tuple, pd.DataFrame],
    limits: Sequence[int] | None,
) -> pd.DataFrame:
    own_screening = {tuple(k): g for k, g in screening.groupby(KEY, sort=False)}
    rows = []
    for key, group in rmse.groupby(KEY, sort=False):
        key = tuple(key)
        if key not in similarity or key not in overlaps:
            raise InputError("summary tables", None, f"no similarity/overlaps table for {'/'.join(key)}")
        grid = sorted(int(x) for x in group["limit"]) if limits is None else sorted(limits)
        missing = sorted(set(grid) - set(int(x) for x in group["limit"]))
        if missing:
            raise InputError("summary tables", "/".join(key), f"no model at limit(s) {missing} of the compared grid {grid}")
        group = group[group["limit"].isin(grid)].sort_values("limit")
        largest = grid[-1]
        own = own_screening.get(key, screening.iloc[:0])
        own = own[own["limit"].isin(grid)]
        if len(own) and int(own["reference_limit"].iloc[0]) != largest:
            raise InputError(
                "screening table",
                "/".join(key),
                f"reference limit {int(own['reference_limit'].iloc[0])} is not the compared grid's largest {largest}",
            )
        smaller = own[own["limit"] < largest]
        agreement = {}
        for metric in AGREEMENT:
            low, mean, undefined = _summary(smaller[metric]) if metric in smaller else (math.nan, math.nan, 0)
            agreement |= {f"{metric}_min": low, f"{metric}_mean": mean, f"n_{metric}_undefined": undefined}
        share = own["share_selected"].astype(float) if len(own) else pd.Series(dtype=float)
        sim_min, sim_mean = similarity_stats(similarity[key], grid)
        rows.append(
            dict(zip(KEY, key))
            | {
                "limits": " ".join(map(str, grid)),
                "n_limits": len(grid),
                "largest_limit": largest,
                "rmse_largest_limit": float(group["rmse"].iloc[-1]),
                "rmse_min": float(group["rmse"].min()),
                "rmse_max": float(group["rmse"].max()),
                "n_compared": len(smaller),
                **agreement,
                "share_selected_min": float(share.min()) if len(share) else math.nan,
                "share_selected_max": float(share.max()) if len(share) else math.nan,
                "similarity_min": sim_min,
                "similarity_mean": sim_mean,
                "normalizer_kind": str(group["normalizer_kind"].iloc[0]) if "normalizer_kind" in group else "",
                "n_inference": int(own["n_screened"].max()) if len(own) else 0,
            }
            | flip_stats(overlaps[key], grid)
        )
    return pd.DataFrame(rows, columns=[c for c in STABILITY_COLUMNS if c != "mode"])


def family_table(stability: pd.DataFrame) -> pd.DataFrame:
    """Per family: the mean of each stability measure over the (system, model) rows where it is
    defined, and the counts behind it: ``n_models`` rows, ``{m}_cells`` defined (system, model,
    limit) comparisons of recall / precision / Jaccard and ``{m}_undefined`` cells without a value."""
    table = stability.assign(flip_share_per_step=stability["flips_per_step"] / stability["n_inference"].replace(0, np.nan))
    out = []
    for (mode, family), rows in table.groupby(["mode", "family"], sort=False):
        record = {"mode": mode, "family": family, "n_models": len(rows), "limits": " | ".join(dict.fromkeys(rows["limits"]))}
        for metric in AGREEMENT:
            defined = rows[f"{metric}_min"].notna()
            record[f"{metric}_min"] = float(rows.loc[defined, f"{metric}_min"].mean()) if defined.any() else math.nan
            record[f"{metric}_mean"] = float(rows.loc[defined, f"{metric}_mean"].mean()) if defined.any() else math.nan
            record[f"{metric}_models"] = int(defined.sum())
            record[f"{metric}_undefined"] = int(rows[f"n_{metric}_undefined"].sum())
            record[f"{metric}_cells"] = int(rows["n_compared"].sum()) - record[f"{metric}_undefined"]
        for column in ("similarity_min", "similarity_mean", "rmse_largest_limit", "flip_share_per_step"):
            record[column] = float(rows[column].mean())
        out.append(record)
    return pd.DataFrame(out)
