"""The retraining-noise statistic on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from qcrobust.noise import jaccard_distance, set_test, value_test, verdict


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
