"""Screening modes on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qcrobust.errors import InputError
from qcrobust.screening import ScreeningMode, cumulative_precision_recall, modes_from_config

PREDICTIONS = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "y_pred": [0.030, -0.002, 0.010, 0.024, 0.010]})


def test_threshold_and_window_select_below_their_value():
    assert ScreeningMode("hull", "threshold", value=0.0).select(PREDICTIONS) == {"b"}
    assert ScreeningMode("meta", "window", value=0.025).select(PREDICTIONS) == {"b", "c", "d", "e"}
    # nothing below the hull is an empty set, not an error (the paper's mode on ScPd / ScRh)
    assert ScreeningMode("hull", "threshold", value=-0.01).select(PREDICTIONS) == frozenset()


def test_threshold_is_strictly_below():
    predictions = pd.DataFrame({"id": ["a", "b", "c", "d"], "y_pred": [-0.1, 0.0, 0.2, -1e-9]})
    assert ScreeningMode("hull", "threshold", value=0.0).select(predictions) == {"a", "d"}
    assert ScreeningMode("loose", "threshold", value=0.1).select(predictions) == {"a", "b", "d"}


def test_top_modes_always_select_and_take_every_tie_at_the_cut():
    # c and e tie at 0.010, the 2nd lowest value: both are in, whatever their rows
    assert ScreeningMode("top2", "top", k=2).select(PREDICTIONS) == {"b", "c", "e"}
    assert ScreeningMode("top2", "top", k=2).nominal(5) == 2
    assert ScreeningMode("top40", "top", fraction=0.4).select(PREDICTIONS) == {"b", "c", "e"}
    assert ScreeningMode("top1pct", "top", fraction=0.01).select(PREDICTIONS) == {"b"}  # at least one
    assert ScreeningMode("top3", "top", k=3).select(PREDICTIONS) == {"b", "c", "e"}  # the tie fills k exactly
    assert ScreeningMode("top9", "top", k=9).count(5) == 5
    assert ScreeningMode("hull", "threshold", value=0.0).nominal(5) is None
    everything_above_hull = PREDICTIONS.assign(y_pred=PREDICTIONS["y_pred"] + 1.0)
    assert len(ScreeningMode("top1", "top", k=1).select(everything_above_hull)) == 1
    assert not ScreeningMode("top1", "top", k=1).mask([]).any()


@pytest.mark.parametrize("seed", range(5))
def test_top_selection_does_not_depend_on_row_order(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, size=40) / 100.0  # many ties
    table = pd.DataFrame({"id": [f"s{i}" for i in range(40)], "y_pred": values})
    mode = ScreeningMode("top10", "top", k=10)
    shuffled = table.sample(frac=1.0, random_state=seed)
    assert mode.select(table) == mode.select(shuffled)
    chosen = mode.select(table)
    cut = np.sort(values)[9]
    assert chosen == set(table.loc[table["y_pred"] <= cut, "id"]) and len(chosen) >= 10


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "x", "kind": "top"}, "exactly one of 'k' and 'fraction'"),
        ({"name": "x", "kind": "top", "k": 2, "fraction": 0.1}, "exactly one of 'k' and 'fraction'"),
        ({"name": "x", "kind": "top", "fraction": 1.5}, r"fraction must be in \(0, 1\]"),
        ({"name": "x", "kind": "window"}, "needs a 'value'"),
        ({"name": "x", "kind": "best"}, "kind must be one of"),
    ],
)
def test_bad_modes_name_the_key(entry, message):
    with pytest.raises(InputError, match=message):
        modes_from_config([entry])


def test_mode_names_are_unique():
    with pytest.raises(InputError, match=r"\['m'\] repeat"):
        modes_from_config([{"name": "m", "kind": "threshold", "value": 0.0}, {"name": "m", "kind": "top", "k": 1}])


def test_cumulative_precision_and_recall_by_hand():
    y_true = [-0.01, 0.02, -0.03, 0.05]
    y_pred = [0.00, -0.02, -0.01, 0.04]  # ranking: 1, 2, 0, 3
    table = cumulative_precision_recall(y_true, y_pred, ScreeningMode("hull", "threshold", value=0.0))
    # truly below the hull: 0 and 2; hits along the ranking: 1 (no), 2 (yes), 0 (yes), 3 (no)
    assert table["n_true_selected"].tolist() == [0, 1, 2, 2]
    assert table["precision"].tolist() == pytest.approx([0.0, 0.5, 2 / 3, 0.5])
    assert table["recall"].tolist() == pytest.approx([0.0, 0.5, 1.0, 1.0])
    # a top mode's truth is rank-based: the 2 lowest true values (0 and 2)
    top = cumulative_precision_recall(y_true, y_pred, ScreeningMode("top2", "top", k=2))
    assert top["recall"].tolist() == pytest.approx([0.0, 0.5, 1.0, 1.0])
    none_true = cumulative_precision_recall([0.1, 0.2], [0.0, 0.1], ScreeningMode("hull", "threshold", value=0.0))
    assert np.isnan(none_true["recall"]).all() and none_true["precision"].tolist() == [0.0, 0.0]


def test_cumulative_curve_enters_ties_together_and_ignores_row_order():
    y_true = [-0.01, 0.02, -0.03, 0.05, -0.02]
    y_pred = [0.00, -0.02, -0.02, 0.04, 0.00]  # two ties: (1, 2) and (0, 4)
    mode = ScreeningMode("hull", "threshold", value=0.0)
    table = cumulative_precision_recall(y_true, y_pred, mode)
    assert table["k"].tolist() == [2, 4, 5]
    assert table["n_true_selected"].tolist() == [1, 3, 3]
    order = [4, 3, 2, 1, 0]
    reversed_table = cumulative_precision_recall(np.array(y_true)[order], np.array(y_pred)[order], mode)
    pd.testing.assert_frame_equal(table, reversed_table)
    # Wilson intervals around every rate (scipy's binomtest): 1 of 2 -> (0.0945, 0.9055)
    assert table.loc[0, "precision_ci_low"] == pytest.approx(0.09453, abs=1e-4)
    assert table.loc[0, "precision_ci_high"] == pytest.approx(0.90547, abs=1e-4)
    assert (table["recall_ci_low"] <= table["recall"]).all() and (table["recall"] <= table["recall_ci_high"]).all()
