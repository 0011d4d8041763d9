"""Every metric against small cases computed by hand."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from qcrobust import metrics


def test_regression_scores_by_hand():
    scores = metrics.regression_scores([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert scores["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert scores["mae"] == pytest.approx(2 / 3)
    assert scores["r2"] == pytest.approx(1 - 4 / 2)  # SS_res = 4, SS_tot = 2
    assert scores["bias"] == pytest.approx(2 / 3)


def test_r2_is_nan_for_a_constant_target():
    assert math.isnan(metrics.regression_scores([0.1, 0.1], [0.1, 0.2])["r2"])


def test_similarity_matrix_by_hand():
    matrix = metrics.similarity_matrix({4: 0.02, 0: 0.01, 2: 0.03}, normalizer=0.1)
    assert list(matrix.index) == [0, 2, 4] and list(matrix.columns) == [0, 2, 4]
    expected = np.array([[1.0, 0.8, 0.9], [0.8, 1.0, 0.9], [0.9, 0.9, 1.0]])
    np.testing.assert_allclose(matrix.to_numpy(), expected)


def test_similarity_normalizer_std_mean_and_mean_abs():
    y = [-0.1, 0.1, 0.003]
    assert metrics.similarity_normalizer(y) == pytest.approx(np.sqrt(((np.array(y) - 0.001) ** 2).mean()))  # std is the default
    assert metrics.similarity_normalizer(y, "mean") == pytest.approx(0.001)
    assert metrics.similarity_normalizer(y, "mean_abs") == pytest.approx(0.203 / 3)
    # a test set mostly below the hull: the magnitude of its mean, so no score exceeds 1
    below = [-0.01, -0.004, 0.002]
    assert metrics.similarity_normalizer(below, "mean") == pytest.approx(0.004)
    matrix = metrics.similarity_matrix({0: 0.003, 2: 0.004}, metrics.similarity_normalizer(below, "mean"))
    np.testing.assert_allclose(matrix.to_numpy(), [[1.0, 0.75], [0.75, 1.0]])
    with pytest.raises(ValueError, match="mean_abs"):
        metrics.similarity_normalizer(y, "median")


def test_std_normalizer_is_the_rmse_of_predicting_the_test_mean_and_scale_free():
    """Near-zero mean (issue 12, point 4): two test sets with the same spread, means 1.9 and
    30 meV/atom. Divided by |mean|, the same 1 meV/atom RMSE difference costs 0.53 and 0.033;
    divided by the spread, it costs the same on both."""
    spread = np.array([-0.006, -0.002, 0.002, 0.006])
    near_zero, far = spread + 0.0019, spread + 0.030
    rmse = {0: 0.004, 24: 0.005}
    paper = [metrics.similarity_matrix(rmse, metrics.similarity_normalizer(y, "mean")).loc[0, 24] for y in (near_zero, far)]
    assert paper == pytest.approx([1 - 0.001 / 0.0019, 1 - 0.001 / 0.030])
    scale_free = [metrics.similarity_matrix(rmse, metrics.similarity_normalizer(y, "std")).loc[0, 24] for y in (near_zero, far)]
    assert scale_free[0] == pytest.approx(scale_free[1]) == pytest.approx(1 - 0.001 / np.sqrt(0.00002))
    mean_predictor = metrics.regression_scores(near_zero, np.full(4, near_zero.mean()))["rmse"]
    assert metrics.similarity_normalizer(near_zero, "std") == pytest.approx(mean_predictor)


def test_similarity_normalizer_near_zero_warns_and_names_the_alternative(caplog):
    with caplog.at_level(logging.WARNING, logger="qcrobust.metrics"):
        metrics.similarity_normalizer([-0.1, 0.1, 0.003], "mean", warn_below=0.01, source="ScPt/classical/rf")
    assert "ScPt/classical/rf" in caplog.text and "similarity.normalizer: std" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="qcrobust.metrics"):
        metrics.similarity_normalizer([-0.1, 0.1, 0.003], "mean_abs", warn_below=0.01)
    assert caplog.text == ""


def test_agreement_with_reference_by_hand():
    selected = {0: frozenset("a"), 2: frozenset("abe"), 24: frozenset("abcd")}
    table = metrics.agreement_with_reference(selected, 24, n_screened=10).set_index("limit")
    assert table["recall"].tolist() == [0.25, 0.5, 1.0]
    assert table["precision"].tolist() == pytest.approx([1.0, 2 / 3, 1.0])
    assert table["jaccard"].tolist() == pytest.approx([0.25, 2 / 5, 1.0])  # |{a,b}| / |{a,b,c,d,e}| at limit 2
    assert table["share_selected"].tolist() == pytest.approx([0.1, 0.3, 0.4])
    assert table["n_common"].tolist() == [1, 2, 4]
    assert table["n_reference"].tolist() == [4, 4, 4]
    assert (table["note"] == "").all()


def test_a_flood_of_selections_scores_full_recall_but_low_precision():
    """Issue 12, point 3 (ScPt Allegro scratch: 1,034 of 3,942 selected at limit 12 against 7 at
    limit 24): recall 1 says nothing when almost everything is selected."""
    reference = frozenset(f"s{k}" for k in range(7))
    flood = reference | frozenset(f"x{k}" for k in range(1027))
    row = metrics.agreement_with_reference({12: flood, 24: reference}, 24, n_screened=3942).set_index("limit").loc[12]
    assert row["recall"] == 1.0
    assert row["precision"] == pytest.approx(7 / 1034) and row["jaccard"] == pytest.approx(7 / 1034)
    assert row["share_selected"] == pytest.approx(1034 / 3942)


def test_undefined_ratios_are_nan_with_a_note():
    table = metrics.agreement_with_reference({0: frozenset("a"), 4: frozenset(), 8: frozenset()}, 8, n_screened=5).set_index("limit")
    assert table["recall"].isna().all()
    assert table["note"].str.contains("recall undefined: nothing selected at limit 8").all()
    assert table.loc[0, "precision"] == 0.0 and table.loc[0, "jaccard"] == 0.0
    assert np.isnan(table.loc[4, "precision"]) and np.isnan(table.loc[4, "jaccard"])  # both sets empty
    assert "precision undefined: nothing selected at limit 4" in table.loc[4, "note"]


def test_overlaps_by_hand():
    table = metrics.overlaps({0: frozenset("ab"), 2: frozenset("bcd"), 4: frozenset()}).set_index(["limit_i", "limit_j"])
    row = table.loc[(0, 2)]
    assert (row["n_i"], row["n_j"], row["n_common"]) == (2, 3, 1)
    assert row["share_of_i"] == 0.5 and row["share_of_j"] == pytest.approx(1 / 3)
    assert row["jaccard"] == pytest.approx(1 / 4)
    assert table.loc[(2, 0), "share_of_i"] == pytest.approx(1 / 3)
    assert table.loc[(2, 2), "share_of_i"] == 1.0
    assert math.isnan(table.loc[(4, 0), "share_of_i"]) and table.loc[(0, 4), "share_of_i"] == 0.0
    assert math.isnan(table.loc[(4, 4), "jaccard"])
    assert len(table) == 9


def test_classification_scores_by_hand():
    y_true = [-0.1, -0.05, 0.02, 0.3, 0.1]  # stable: 0, 1
    y_pred = [-0.2, 0.01, -0.01, 0.2, 0.3]  # called stable: 0, 2
    s = metrics.classification_scores(y_true, y_pred)
    assert (s["tp"], s["fp"], s["fn"], s["tn"], s["n"]) == (1, 1, 1, 2, 5)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5
    assert s["prevalence"] == pytest.approx(0.4)
    assert s["daf"] == pytest.approx(0.5 / 0.4)
    assert s["accuracy"] == pytest.approx(0.6)


def test_classification_agrees_with_sklearn_on_random_labels():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(0.05, 0.1, 200), rng.normal(0.05, 0.1, 200)
    s = metrics.classification_scores(y_true, y_pred)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true < 0, y_pred < 0, average="binary")
    assert (s["precision"], s["recall"], s["f1"]) == pytest.approx((precision, recall, f1))
    assert s["daf"] == pytest.approx(precision / np.mean(y_true < 0))


def test_classification_undefined_ratios_are_nan():
    nothing_called = metrics.classification_scores([-0.1, 0.2], [0.1, 0.2])
    assert math.isnan(nothing_called["precision"]) and math.isnan(nothing_called["f1"]) and math.isnan(nothing_called["daf"])
    assert nothing_called["recall"] == 0.0
    nothing_stable = metrics.classification_scores([0.1, 0.2], [-0.1, 0.2])
    assert nothing_stable["prevalence"] == 0.0 and nothing_stable["precision"] == 0.0
    assert math.isnan(nothing_stable["recall"]) and math.isnan(nothing_stable["daf"])


def test_classification_table_one_row_per_limit():
    table = metrics.classification_table([-0.1, 0.1], {8: [-0.1, -0.1], 0: [0.1, 0.1]})
    assert table["limit"].tolist() == [0, 8]
    assert table["tp"].tolist() == [0, 1] and table["fp"].tolist() == [0, 1]
