"""The study's metrics (paper §4.4–4.5), each a small pure function on arrays, sets or tables.

- regression: RMSE (eq. 3), MAE, R², mean error;
- SimilarityScore_ij = 1 − |RMSE_i − RMSE_j| / ȳ (eq. 4), ȳ the test-set target mean (or mean |y|);
- screening: S_x = ids predicted below ``threshold``; recall of S_x against the reference
  (largest-limit) set; pairwise overlaps |S_i ∩ S_j|, as counts and as shares of S_i and S_j;
- classification of "stable" calls against true labels, with matbench-discovery's definitions:
  precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), prevalence = (TP+FN)/N,
  DAF (discovery acceleration factor) = precision / prevalence. A structure is "stable" when its
  (true or predicted) target is below ``threshold``, the same strict rule as the screening
  (matbench-discovery counts ``<=``; the two differ only for values exactly at the threshold).
Undefined ratios (empty denominators) are NaN, never an exception.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

NORMALIZERS = ("mean", "mean_abs")


def regression_scores(y_true, y_pred) -> dict[str, float]:
    """``rmse``, ``mae``, ``r2`` (NaN for fewer than 2 rows or a constant target) and ``bias`` (mean error)."""
    # imported here: the Snakefile imports this module, and sklearn adds ~0.4 s to every start
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    constant = len(y_true) < 2 or np.all(y_true == y_true[0])
    return {
        "rmse": float(root_mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": math.nan if constant else float(r2_score(y_true, y_pred)),
        "bias": float(np.mean(y_pred - y_true)),
    }


def similarity_normalizer(y_test, kind: str = "mean", *, warn_below: float = 0.0, source: str = "test set") -> float:
    """ȳ of the SimilarityScore: the magnitude of the test-set target mean (the paper's), or
    the mean of |y|.

    The magnitude: the paper's targets have a positive mean, but a test set of limit-0
    structures can lie mostly below the hull (negative mean energy above the hull), and a
    negative ȳ would turn every score above 1. The mean of an above-hull energy can also sit
    near zero, and dividing by it magnifies every RMSE difference; when ȳ < ``warn_below`` a
    warning says so and names the alternative.
    """
    if kind not in NORMALIZERS:
        raise ValueError(f"similarity normalizer must be one of {NORMALIZERS}, got {kind!r}")
    y = np.asarray(y_test, dtype=np.float64)
    value = float(np.mean(np.abs(y)) if kind == "mean_abs" else abs(np.mean(y)))
    if value < warn_below:
        hint = "; set similarity.normalizer: mean_abs to divide by the mean |y| instead" if kind == "mean" else ""
        log.warning(
            "%s: the SimilarityScore normalizer (%s of the target) is %.3g, below %.3g: RMSE differences are magnified and scores fall far below 1%s",
            source, kind, value, warn_below, hint,
        )
    return value


def similarity_matrix(rmse: Mapping[int, float], normalizer: float) -> pd.DataFrame:
    """SimilarityScore_ij for every pair of limits (index and columns: the limits, ascending)."""
    limits = sorted(rmse)
    values = np.array([rmse[x] for x in limits], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = 1.0 - np.abs(values[:, None] - values[None, :]) / normalizer
    return pd.DataFrame(matrix, index=pd.Index(limits, name="limit"), columns=limits)


def screen(predictions: pd.DataFrame, threshold: float = 0.0) -> frozenset[str]:
    """S: the ids whose prediction ``y_pred`` is below ``threshold`` (predicted below the hull)."""
    return frozenset(predictions.loc[predictions["y_pred"] < threshold, "id"].astype(str))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def recall_vs_reference(selected: Mapping[int, frozenset], reference: int) -> pd.DataFrame:
    """recall_x = |S_x ∩ S_ref| / |S_ref| per limit; NaN (with a note) when S_ref is empty."""
    ref = selected[reference]
    rows = []
    for limit in sorted(selected):
        common = len(selected[limit] & ref)
        rows.append(
            {
                "limit": limit,
                "reference_limit": reference,
                "n_selected": len(selected[limit]),
                "n_reference": len(ref),
                "n_common": common,
                "recall": _ratio(common, len(ref)),
                "note": "" if ref else f"undefined: no structure predicted below the threshold at limit {reference}",
            }
        )
    return pd.DataFrame(rows)


def overlaps(selected: Mapping[int, frozenset]) -> pd.DataFrame:
    """Every ordered pair of limits: |S_i|, |S_j|, |S_i ∩ S_j|, its share of S_i and of S_j, Jaccard."""
    rows = []
    for i in sorted(selected):
        for j in sorted(selected):
            a, b = selected[i], selected[j]
            common = len(a & b)
            rows.append(
                {
                    "limit_i": i,
                    "limit_j": j,
                    "n_i": len(a),
                    "n_j": len(b),
                    "n_common": common,
                    "share_of_i": _ratio(common, len(a)),
                    "share_of_j": _ratio(common, len(b)),
                    "jaccard": _ratio(common, len(a | b)),
                }
            )
    return pd.DataFrame(rows)


def below_hull_share(selected: Mapping[int, frozenset], n_screened: int) -> pd.DataFrame:
    """Per limit: how many of the ``n_screened`` structures are predicted below the threshold, and their share."""
    return pd.DataFrame(
        [
            {"limit": x, "n_screened": n_screened, "n_below": len(selected[x]), "share_below": _ratio(len(selected[x]), n_screened)}
            for x in sorted(selected)
        ]
    )


def stable_counts(y_true, y_pred, threshold: float = 0.0) -> dict[str, int]:
    """TP, FP, FN, TN of "stable" (< threshold) calls against the true labels."""
    true_pos = np.asarray(y_true, dtype=np.float64) < threshold
    pred_pos = np.asarray(y_pred, dtype=np.float64) < threshold
    return {
        "tp": int(np.sum(true_pos & pred_pos)),
        "fp": int(np.sum(~true_pos & pred_pos)),
        "fn": int(np.sum(true_pos & ~pred_pos)),
        "tn": int(np.sum(~true_pos & ~pred_pos)),
    }


def classification_scores(y_true, y_pred, threshold: float = 0.0) -> dict[str, float]:
    """Counts plus precision, recall, F1, accuracy, prevalence and DAF (matbench-discovery definitions)."""
    c = stable_counts(y_true, y_pred, threshold)
    n = sum(c.values())
    precision = _ratio(c["tp"], c["tp"] + c["fp"])
    recall = _ratio(c["tp"], c["tp"] + c["fn"])
    prevalence = _ratio(c["tp"] + c["fn"], n)
    f1 = _ratio(2 * precision * recall, precision + recall) if not (math.isnan(precision) or math.isnan(recall)) else math.nan
    return {
        **c,
        "n": n,
        "prevalence": prevalence,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _ratio(c["tp"] + c["tn"], n),
        "daf": _ratio(precision, prevalence) if not (math.isnan(precision) or math.isnan(prevalence)) else math.nan,
    }


def classification_table(y_true, predictions: Mapping[int, Sequence[float]], threshold: float = 0.0) -> pd.DataFrame:
    """:func:`classification_scores` per limit (``predictions``: limit -> y_pred aligned with ``y_true``)."""
    return pd.DataFrame([{"limit": x, **classification_scores(y_true, predictions[x], threshold)} for x in sorted(predictions)])
