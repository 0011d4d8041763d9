"""The retraining-noise statistic on hand-computed cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qcrobust.permutation import distance_test, holm, jaccard_distance, set_test, split_matrix, value_test, verdict


def test_jaccard_distance():
    assert jaccard_distance(frozenset("ab"), frozenset("bc")) == pytest.approx(1 - 1 / 3)
    assert jaccard_distance(frozenset(), frozenset()) == 0.0
    assert jaccard_distance(frozenset("a"), frozenset()) == 1.0


def test_limits_that_differ_more_than_seeds_are_beyond_noise_with_three_seeds():
    # seeds agree within a limit (distance 1/3 at most), the two limits share nothing
    at_0 = [frozenset("abc"), frozenset("abd"), frozenset("abc")]
    at_24 = [frozenset("xyz"), frozenset("xyz"), frozenset("xyw")]
    result = set_test(at_0, at_24)
    assert result["between"] == 1.0
    # within: at 0 pairs 0.5, 0, 0.5; at 24 pairs 0, 0.5, 0.5 -> mean 1/3, max 0.5
    assert result["within"] == pytest.approx(1 / 3) and result["within_max"] == 0.5
    assert result["min_p"] == pytest.approx(1 / 10)  # 20 splits of 6 models, each counted once
    assert result["p_value"] == pytest.approx(1 / 10)  # the observed split is the most extreme
    assert verdict(result["p_value"], result["min_p"], alpha=0.1) == "beyond noise"


def test_a_limit_effect_no_larger_than_the_seed_spread_is_within_noise():
    # every model differs from every other by the same amount: no split stands out
    at_0 = [frozenset("a"), frozenset("b"), frozenset("c")]
    at_24 = [frozenset("d"), frozenset("e"), frozenset("f")]
    result = set_test(at_0, at_24)
    assert result["statistic"] == pytest.approx(0.0) and result["p_value"] == 1.0
    assert verdict(result["p_value"], result["min_p"], alpha=0.1) == "within noise"


def test_two_seeds_cannot_separate_anything():
    result = set_test([frozenset("a"), frozenset("a")], [frozenset("z"), frozenset("z")])
    assert result["min_p"] == pytest.approx(1 / 3) and result["p_value"] == pytest.approx(1 / 3)
    assert verdict(result["p_value"], result["min_p"], alpha=0.1) == "too few seeds"


def test_rmse_difference_against_seed_spread():
    separated = value_test([0.010, 0.011, 0.012], [0.020, 0.021, 0.022])
    assert separated["difference"] == pytest.approx(0.010) and separated["seed_sd"] == pytest.approx(0.001)
    assert separated["p_value"] == pytest.approx(1 / 10)  # only the observed split (and its mirror, counted once) is as extreme
    overlapping = value_test([0.010, 0.020, 0.015], [0.012, 0.018, 0.016])
    assert overlapping["p_value"] > 0.5
    single = value_test([0.01], [0.02])
    assert single["min_p"] == 1.0 and math.isnan(single["seed_sd"])
    assert verdict(single["p_value"], single["min_p"], 0.1) == "too few seeds"


def test_distance_test_by_hand():
    # scalars 0, 1, 2 at limit i and 10, 11, 12 at limit j, distance |x - y|:
    # between: 10, 11, 12, 9, 10, 11, 8, 9, 10 -> mean 10; within each limit: 1, 2, 1 -> 4/3
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    result = distance_test(np.abs(x[:, None] - x[None, :]))
    assert result["between"] == pytest.approx(10.0)
    assert result["within_i"] == pytest.approx(4 / 3) and result["within_j"] == pytest.approx(4 / 3)
    assert (result["within_min"], result["within_max"]) == (1.0, 2.0)
    assert result["statistic"] == pytest.approx(10 - 4 / 3)
    assert result["n_splits"] == 10 and result["p_value"] == pytest.approx(0.1)


def test_one_seed_has_one_split_and_no_within_pair():
    result = distance_test(np.array([[0.0, 0.5], [0.5, 0.0]]))
    assert result["statistic"] == 0.5 and result["p_value"] == 1.0 and result["n_splits"] == 1
    assert math.isnan(result["within"]) and math.isnan(result["within_i"])
    with pytest.raises(ValueError):
        distance_test(np.zeros((3, 3)))


def _naive_p(items, statistic, n):
    """The textbook enumeration: every split with model 0 in the first group, T recomputed."""
    values = []
    for first in itertools.combinations(range(2 * n), n):
        if 0 in first:
            second = tuple(k for k in range(2 * n) if k not in first)
            values.append(statistic([items[k] for k in first], [items[k] for k in second]))
    return sum(v >= values[0] - 1e-12 for v in values) / len(values)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_vectorised_enumeration_matches_the_textbook_one(n):
    rng = np.random.default_rng(n)
    values = list(rng.normal(size=2 * n).round(2))  # rounded: ties between splits occur
    mean_gap = lambda a, b: abs(np.mean(a) - np.mean(b))  # noqa: E731
    assert value_test(values[:n], values[n:])["p_value"] == pytest.approx(_naive_p(values, mean_gap, n))
    sets = [frozenset(rng.choice(list("abcdef"), size=rng.integers(0, 4), replace=False)) for _ in range(2 * n)]

    def set_gap(a, b):
        between = np.mean([jaccard_distance(x, y) for x in a for y in b])
        within = [jaccard_distance(x, y) for g in (a, b) for x, y in itertools.combinations(g, 2)]
        return between - (np.mean(within) if within else 0.0)

    assert set_test(sets[:n], sets[n:])["p_value"] == pytest.approx(_naive_p(sets, set_gap, n))


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04, 0.2 -> 4 x 0.01, 3 x 0.03, max(0.09, 2 x 0.04), max(0.09, 0.2)
    assert holm([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert holm([0.5, 0.5]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.1]) == pytest.approx([0.1])


def test_split_matrix_counts_each_unordered_split_once():
    members = split_matrix(3)
    assert members.shape == (10, 6) and members[:, 0].all() and (members.sum(axis=1) == 3).all()
    assert members[0].tolist() == [True, True, True, False, False, False]  # the observed split first
    assert len({tuple(row) for row in members.tolist()}) == 10
    assert split_matrix(1).tolist() == [[True, False]]
    with pytest.raises(ValueError, match="1 to 12 seeds"):
        split_matrix(13)
