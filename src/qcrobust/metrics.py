"""The study's metrics (paper §4.4–4.5), each a small pure function on arrays, sets or tables.

- regression: RMSE (eq. 3), MAE, R², mean error;
- SimilarityScore_ij = 1 − |RMSE_i − RMSE_j| / ȳ (eq. 4), ȳ a scale of the test-set target:
  its standard deviation (the default: the RMSE of predicting the test mean, so the score is
  scale-free and comparable across systems), the paper's |mean|, or the mean of |y|;
- screening: S_x = ids a screening mode selects (:mod:`qcrobust.screening`; the paper's: predicted
  below ``threshold``); against the reference (largest-limit)
  set S_ref: recall |S_x ∩ S_ref| / |S_ref|, precision |S_x ∩ S_ref| / |S_x| (a flood of
  selections scores recall 1 but precision near 0), Jaccard |S_x ∩ S_ref| / |S_x ∪ S_ref| and
  the selected share |S_x| / N; pairwise overlaps |S_i ∩ S_j|, as counts and as shares of S_i and S_j;
- classification of "stable" calls against true labels, with matbench-discovery's definitions:
  precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), prevalence = (TP+FN)/N,
  DAF (discovery acceleration factor) = precision / prevalence. A structure is "selected" when the
  screening mode selects its (true or predicted) target -- for the paper's mode, below
  ``threshold``, the same strict rule as the screening (matbench-discovery counts ``<=``; the two
  differ only for values exactly at the threshold).
- intervals: every precision, recall, F1 and DAF against true labels carries a 95 % Wilson score
  interval (``{name}_ci_low``, ``{name}_ci_high``; ``ci_method`` names it): precision and recall
  as binomial proportions; F1 through J = TP/(TP+FP+FN), a proportion with F1 = 2J/(1+J), so
  the interval of J maps onto one of F1; DAF as the precision interval over the labeled set's
  prevalence (a fixed property of that set, not an estimate).
Undefined ratios (empty denominators) are NaN, never an exception; so are their intervals.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

NORMALIZERS = ("std", "mean", "mean_abs")


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


def similarity_normalizer(y_test, kind: str = "std", *, warn_below: float = 0.0, source: str = "test set") -> float:
    """ȳ of the SimilarityScore, from the test-set targets ``y_test``:

    - ``std``: their standard deviation (ddof 0), i.e. the RMSE of a model that predicts the
      test mean. Scale-free: a score then says how large an RMSE difference is against the
      spread the models have to explain, the same on every system.
    - ``mean``: the magnitude of their mean (the paper's ȳ; its targets have a positive mean).
      The magnitude, because a limit-0 test set can lie mostly below the hull and a negative ȳ
      would turn every score above 1. An energy above the hull can average near zero, and
      dividing by it magnifies every RMSE difference (1 meV/atom costs 0.53 on a test set with
      |ȳ| = 1.9 meV/atom, 0.03 on one with 30 meV/atom).
    - ``mean_abs``: the mean of |y|.

    When ȳ < ``warn_below`` a warning says so (and, for ``mean``, names the alternative).
    """
    if kind not in NORMALIZERS:
        raise ValueError(f"similarity normalizer must be one of {NORMALIZERS}, got {kind!r}")
    y = np.asarray(y_test, dtype=np.float64)
    if kind == "std":
        value = float(np.std(y))
    elif kind == "mean_abs":
        value = float(np.mean(np.abs(y)))
    else:
        value = float(abs(np.mean(y)))
    if value < warn_below:
        hint = "; set similarity.normalizer: std to divide by the test set's spread instead" if kind != "std" else ""
        log.warning(
            "%s: the SimilarityScore normalizer (%s of the target) is %.3g, below %.3g: RMSE differences are magnified and scores fall far below 1%s",
            source,
            kind,
            value,
            warn_below,
            hint,
        )
    return value


NORMALIZER_LABELS = {"std": "σ(y_test)", "mean": "|mean(y_test)|", "mean_abs": "mean(|y_test|)"}


def similarity_matrix(rmse: Mapping[int, float], normalizer: float) -> pd.DataFrame:
    """SimilarityScore_ij for every pair of limits (index and columns: the limits, ascending)."""
    limits = sorted(rmse)
    values = np.array([rmse[x] for x in limits], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = 1.0 - np.abs(values[:, None] - values[None, :]) / normalizer
    return pd.DataFrame(matrix, index=pd.Index(limits, name="limit"), columns=limits)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def agreement_with_reference(selected: Mapping[int, frozenset], reference: int, n_screened: int) -> pd.DataFrame:
    """Each limit's screening set S_x against the reference set S_ref (the largest limit's).

    recall = |S_x ∩ S_ref| / |S_ref| (NaN when S_ref is empty), precision = |S_x ∩ S_ref| / |S_x|
    (NaN when S_x is empty), Jaccard = |S_x ∩ S_ref| / |S_x ∪ S_ref| (NaN when both are empty),
    share_selected = |S_x| / ``n_screened``. ``note`` names every undefined ratio.
    """
    ref = selected[reference]
    rows = []
    for limit in sorted(selected):
        own = selected[limit]
        common = len(own & ref)
        notes = []
        if not ref:
            notes.append(f"recall undefined: nothing selected at limit {reference}")
        if not own:
            notes.append(f"precision undefined: nothing selected at limit {limit}")
        rows.append(
            {
                "limit": limit,
                "reference_limit": reference,
                "n_screened": n_screened,
                "n_selected": len(own),
                "n_reference": len(ref),
                "n_common": common,
                "share_selected": _ratio(len(own), n_screened),
                "recall": _ratio(common, len(ref)),
                "precision": _ratio(common, len(own)),
                "jaccard": _ratio(common, len(own | ref)),
                "note": "; ".join(notes),
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


CI_METHOD = "wilson_95"


@functools.cache
def _wilson(successes: int, total: int, confidence: float) -> tuple[float, float]:
    from scipy.stats import binomtest

    interval = binomtest(successes, total).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def wilson_interval(successes, totals, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion successes / totals (scipy's ``binomtest``),
    elementwise; NaN where the total is 0."""
    successes = np.atleast_1d(np.asarray(successes, dtype=np.int64))
    totals = np.broadcast_to(np.atleast_1d(np.asarray(totals, dtype=np.int64)), successes.shape)
    low, high = np.full(successes.shape, math.nan), np.full(successes.shape, math.nan)
    for index in np.flatnonzero(totals > 0):
        low[index], high[index] = _wilson(int(successes[index]), int(totals[index]), confidence)
    return low, high


def _interval(successes: int, total: int) -> tuple[float, float]:
    low, high = wilson_interval([successes], [total])
    return float(low[0]), float(high[0])


def _selector(threshold: float, select):
    """The rule that marks values "selected": ``select`` (e.g. a screening mode's ``mask``) or ``< threshold``."""
    return select or (lambda values: np.asarray(values, dtype=np.float64) < threshold)


def stable_counts(y_true, y_pred, threshold: float = 0.0, select=None) -> dict[str, int]:
    """TP, FP, FN, TN of "selected" calls against the true labels: a value is selected when it is
    below ``threshold``, or by ``select`` (a function of the whole array, for rank-based modes)."""
    rule = _selector(threshold, select)
    true_pos = np.asarray(rule(np.asarray(y_true, dtype=np.float64)), dtype=bool)
    pred_pos = np.asarray(rule(np.asarray(y_pred, dtype=np.float64)), dtype=bool)
    return {
        "tp": int(np.sum(true_pos & pred_pos)),
        "fp": int(np.sum(~true_pos & pred_pos)),
        "fn": int(np.sum(true_pos & ~pred_pos)),
        "tn": int(np.sum(~true_pos & ~pred_pos)),
    }


def classification_scores(y_true, y_pred, threshold: float = 0.0, select=None) -> dict[str, float]:
    """Counts plus precision, recall, F1, accuracy, prevalence and DAF (matbench-discovery
    definitions), each rate with its 95 % Wilson interval (see the module docstring)."""
    c = stable_counts(y_true, y_pred, threshold, select)
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    n = sum(c.values())
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    prevalence = _ratio(tp + fn, n)
    defined = not (math.isnan(precision) or math.isnan(recall))
    f1 = _ratio(2 * precision * recall, precision + recall) if defined else math.nan
    daf_defined = not (math.isnan(precision) or math.isnan(prevalence)) and prevalence > 0
    intervals = {"precision": _interval(tp, tp + fp), "recall": _interval(tp, tp + fn)}
    # F1 = 2J / (1 + J), J = TP / (TP + FP + FN) a proportion: J's interval maps onto F1's
    j_low, j_high = _interval(tp, tp + fp + fn) if defined else (math.nan, math.nan)
    intervals["f1"] = (2 * j_low / (1 + j_low), 2 * j_high / (1 + j_high)) if not math.isnan(f1) else (math.nan, math.nan)
    intervals["daf"] = tuple(v / prevalence for v in intervals["precision"]) if daf_defined else (math.nan, math.nan)
    scores = {
        **c,
        "n": n,
        "prevalence": prevalence,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _ratio(tp + c["tn"], n),
        "daf": _ratio(precision, prevalence) if daf_defined else math.nan,
    }
    for name, (low, high) in intervals.items():
        scores[f"{name}_ci_low"], scores[f"{name}_ci_high"] = low, high
    return scores | {"ci_method": CI_METHOD}


def classification_table(y_true, predictions: Mapping[int, Sequence[float]], threshold: float = 0.0, select=None) -> pd.DataFrame:
    """:func:`classification_scores` per limit (``predictions``: limit -> y_pred aligned with ``y_true``)."""
    return pd.DataFrame([{"limit": x, **classification_scores(y_true, predictions[x], threshold, select)} for x in sorted(predictions)])
