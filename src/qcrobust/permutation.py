"""Is the limit effect real? Retraining noise against the effect of changing the training set.

For one (system, model), every limit is trained once per seed (config ``replicas``): the seed
changes the model's initialisation, data shuffling and CV folds, never the train/val/test split.
Two limits i and j then give 2n models (n seeds each). A quantity the study compares across
limits -- the screening set (compared by Jaccard distance 1 - |A ∩ B| / |A ∪ B|), the test RMSE --
is compared between seeds at one limit too, and the question is whether the models of limit i
differ from those of limit j more than retrained models of one limit differ among themselves.

The statistic is an exact permutation test over the 2n models (no distribution assumed, valid
for any n):

- sets: T = mean distance between the limits' models (n × n pairs) minus mean distance within
  a limit (the n(n-1)/2 pairs at i and those at j); :func:`distance_test` is the same statistic
  for any distance between models (e.g. |RMSE_a - RMSE_b| / ȳ, one minus a SimilarityScore);
- scalars (RMSE): T = |mean_i - mean_j|.

Every split of the 2n models into two groups of n is a relabelling under the null hypothesis
"the limit does not matter"; p = the share of splits with T at least the observed one. The
smallest p possible is 1 / (number of distinct splits): 1/3 with 2 seeds, 1/10 with 3, 1/35
with 4 -- so with fewer than 4 seeds no difference can be called beyond noise at α = 0.05 (3 at 0.1), and
the verdict says "too few seeds" instead of "within noise". The splits are enumerated once per
seed count (:func:`split_matrix`) and every statistic is computed for all of them at once; up to
``MAX_SEEDS`` seeds (1,352,078 splits) the test stays exact. :func:`holm` adjusts a family of
p-values (e.g. every pair of limits of one model) for multiple comparisons. The tables built on
these tests (every pair of limits of a model, the paper's findings) are in :mod:`qcrobust.replicas`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np

VERDICTS = ("beyond noise", "within noise", "too few seeds")


def jaccard_distance(a: frozenset, b: frozenset) -> float:
    """1 - |a ∩ b| / |a ∪ b|; two empty sets are identical (0)."""
    union = len(a | b)
    return 1.0 - len(a & b) / union if union else 0.0


MAX_SEEDS = 12  # C(24, 12) / 2 = 1,352,078 splits: still exact, in chunks


@functools.cache
def split_matrix(n: int) -> np.ndarray:
    """Every split of models 0..2n-1 into two groups of n, each unordered split once: row k is
    the membership (bool, length 2n) of the group holding model 0. Row 0 is the observed split
    (models 0..n-1, i.e. the seeds of limit i). C(2n, n) / 2 rows."""
    if not 1 <= n <= MAX_SEEDS:
        raise ValueError(f"the exact test enumerates every split: 1 to {MAX_SEEDS} seeds per limit, got {n}")
    members = np.zeros((math.comb(2 * n, n) // 2 if n > 1 else 1, 2 * n), dtype=bool)
    members[:, 0] = True
    for k, rest in enumerate(itertools.combinations(range(1, 2 * n), n - 1)):  # lexicographic: the observed split first
        members[k, list(rest)] = True
    members.setflags(write=False)
    return members


def _p_value(values: np.ndarray) -> float:
    """The share of splits whose statistic reaches the observed one (``values[0]``). A relative
    tolerance: splits that tie the observed value in exact arithmetic must count even when the
    floating-point sums differ in the last bits (the observed split always counts itself)."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    return float(np.mean(values >= values[0] - 1e-9 * scale))


def _chunks(members: np.ndarray, size: int = 65536):
    for start in range(0, len(members), size):
        yield members[start : start + size].astype(np.float64)


def distance_test(distance: np.ndarray) -> dict:
    """Permutation test on the 2n x 2n matrix of distances between models, the first n of limit i
    and the last n of limit j (symmetric, zero diagonal). T = mean distance between the groups
    (n x n pairs) minus the mean distance within them (the n(n-1)/2 pairs of each; 0 for one seed).

    Returns ``between`` (mean between-limit distance), ``within`` (mean within-limit distance,
    both limits pooled; NaN for one seed), ``within_i`` / ``within_j`` (each limit's),
    ``within_min`` / ``within_max`` (over all within-limit pairs), ``statistic`` (T),
    ``p_value``, ``min_p`` and ``n_splits`` (the distinct splits enumerated).
    """
    distance = np.asarray(distance, dtype=np.float64)
    size = distance.shape[0]
    if distance.shape != (size, size) or size < 2 or size % 2:
        raise ValueError(f"need a square matrix of an even number (>= 2) of models, got shape {distance.shape}")
    n = size // 2
    members = split_matrix(n)
    values = []
    for m in _chunks(members):
        other = 1.0 - m
        between = np.einsum("ki,ij,kj->k", m, distance, other) / n**2
        if n > 1:
            within = (np.einsum("ki,ij,kj->k", m, distance, m) + np.einsum("ki,ij,kj->k", other, distance, other)) / (2 * n * (n - 1))
        else:
            within = 0.0
        values.append(between - within)
    values = np.concatenate(values)
    pairs_i = [distance[x, y] for x, y in itertools.combinations(range(n), 2)]
    pairs_j = [distance[x, y] for x, y in itertools.combinations(range(n, 2 * n), 2)]
    pooled = pairs_i + pairs_j
    return {
        "between": float(distance[:n, n:].mean()),
        "within": float(np.mean(pooled)) if pooled else math.nan,
        "within_i": float(np.mean(pairs_i)) if pairs_i else math.nan,
        "within_j": float(np.mean(pairs_j)) if pairs_j else math.nan,
        "within_min": float(np.min(pooled)) if pooled else math.nan,
        "within_max": float(np.max(pooled)) if pooled else math.nan,
        "statistic": float(values[0]),
        "p_value": _p_value(values),
        "min_p": 1.0 / len(members),
        "n_splits": len(members),
    }


def set_test(sets_i: Sequence[frozenset], sets_j: Sequence[frozenset]) -> dict:
    """Permutation test of the screening sets of limits i and j (one per seed, same count), on
    Jaccard distances (:func:`distance_test`; two empty sets count as identical)."""
    if len(sets_i) != len(sets_j) or len(sets_i) < 1:
        raise ValueError("both limits need the same number (>= 1) of seeds")
    items = list(sets_i) + list(sets_j)
    return distance_test(np.array([[jaccard_distance(a, b) for b in items] for a in items]))


def value_test(values_i: Sequence[float], values_j: Sequence[float]) -> dict:
    """Permutation test of a scalar (e.g. test RMSE) of limits i and j (one per seed, same
    count): T = |mean_i - mean_j|. ``difference`` = mean_j - mean_i; ``seed_sd`` the larger of
    the two limits' standard deviations over seeds (ddof 1; NaN for one seed)."""
    if len(values_i) != len(values_j) or len(values_i) < 1:
        raise ValueError("both limits need the same number (>= 1) of seeds")
    n = len(values_i)
    values = np.asarray(list(values_i) + list(values_j), dtype=np.float64)
    members = split_matrix(n)
    total = values.sum()
    statistics = []
    for m in _chunks(members):
        first = m @ values
        statistics.append(np.abs(first - (total - first)) / n)
    statistics = np.concatenate(statistics)
    spread = [float(np.std(values[:n], ddof=1)), float(np.std(values[n:], ddof=1))] if n > 1 else [math.nan]
    return {
        "difference": float(values[n:].mean() - values[:n].mean()),
        "seed_sd": float(max(spread)) if n > 1 else math.nan,
        "statistic": float(statistics[0]),
        "p_value": _p_value(statistics),
        "min_p": 1.0 / len(members),
        "n_splits": len(members),
    }


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (same order as given): the k-th
    smallest p becomes max over l <= k of min(1, (m - l + 1) p_(l)). Controls the chance of
    calling any of the m comparisons beyond noise when none is, at the cost of power."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def verdict(p_value: float, min_p: float, alpha: float) -> str:
    """'beyond noise' (p <= alpha), 'within noise', or 'too few seeds' (no split could reach alpha)."""
    if min_p > alpha:
        return "too few seeds"
    return "beyond noise" if p_value <= alpha else "within noise"
