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
  a limit (the n(n-1)/2 pairs at i and those at j);
- scalars (RMSE): T = |mean_i - mean_j|.

Every split of the 2n models into two groups of n is a relabelling under the null hypothesis
"the limit does not matter"; p = the share of splits with T at least the observed one. The
smallest p possible is 1 / (number of distinct splits): 1/3 with 2 seeds, 1/10 with 3, 1/35
with 4 -- so with fewer than 3 seeds no difference can be called beyond noise at α = 0.1, and
the verdict says "too few seeds" instead of "within noise".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

VERDICTS = ("beyond noise", "within noise", "too few seeds")


def jaccard_distance(a: frozenset, b: frozenset) -> float:
    """1 - |a ∩ b| / |a ∪ b|; two empty sets are identical (0)."""
    union = len(a | b)
    return 1.0 - len(a & b) / union if union else 0.0


def _splits(n: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every split of items 0..2n-1 into two groups of n, each unordered split once (item 0 in the first group)."""
    items = range(2 * n)
    out = []
    for first in itertools.combinations(items, n):
        if 0 in first:
            out.append((first, tuple(i for i in items if i not in first)))
    return out


def _permutation_p(observed: float, statistic: Callable[[tuple, tuple], float], n: int) -> tuple[float, int]:
    splits = _splits(n)
    values = np.array([statistic(a, b) for a, b in splits])
    # a tolerance: the observed split is one of them and must count against itself exactly
    return float(np.mean(values >= observed - 1e-12)), len(splits)


def set_test(sets_i: Sequence[frozenset], sets_j: Sequence[frozenset]) -> dict:
    """Permutation test of the screening sets of limits i and j (one per seed, same count)."""
    if len(sets_i) != len(sets_j) or len(sets_i) < 1:
        raise ValueError("both limits need the same number (>= 1) of seeds")
    n = len(sets_i)
    items = list(sets_i) + list(sets_j)
    distance = np.array([[jaccard_distance(a, b) for b in items] for a in items])

    def statistic(a: tuple, b: tuple) -> float:
        between = distance[np.ix_(a, b)].mean()
        within = [distance[x, y] for group in (a, b) for x, y in itertools.combinations(group, 2)]
        return float(between - (np.mean(within) if within else 0.0))

    first, second = tuple(range(n)), tuple(range(n, 2 * n))
    observed = statistic(first, second)
    p, count = _permutation_p(observed, statistic, n)
    within = [distance[x, y] for group in (first, second) for x, y in itertools.combinations(group, 2)]
    return {
        "between": float(distance[np.ix_(first, second)].mean()),
        "within": float(np.mean(within)) if within else math.nan,
        "within_max": float(np.max(within)) if within else math.nan,
        "statistic": observed,
        "p_value": p,
        "min_p": 1.0 / count,
    }


def value_test(values_i: Sequence[float], values_j: Sequence[float]) -> dict:
    """Permutation test of a scalar (e.g. test RMSE) of limits i and j (one per seed, same count)."""
    if len(values_i) != len(values_j) or len(values_i) < 1:
        raise ValueError("both limits need the same number (>= 1) of seeds")
    n = len(values_i)
    values = np.asarray(list(values_i) + list(values_j), dtype=np.float64)

    def statistic(a: tuple, b: tuple) -> float:
        return float(abs(values[list(a)].mean() - values[list(b)].mean()))

    observed = statistic(tuple(range(n)), tuple(range(n, 2 * n)))
    p, count = _permutation_p(observed, statistic, n)
    spread = [float(np.std(values[:n], ddof=1)) if n > 1 else math.nan, float(np.std(values[n:], ddof=1)) if n > 1 else math.nan]
    return {
        "difference": float(values[n:].mean() - values[:n].mean()),
        "seed_sd": float(np.nanmax(spread)) if n > 1 else math.nan,
        "statistic": observed,
        "p_value": p,
        "min_p": 1.0 / count,
    }


def verdict(p_value: float, min_p: float, alpha: float) -> str:
    """'beyond noise' (p <= alpha), 'within noise', or 'too few seeds' (no split could reach alpha)."""
    if min_p > alpha:
        return "too few seeds"
    return "beyond noise" if p_value <= alpha else "within noise"
