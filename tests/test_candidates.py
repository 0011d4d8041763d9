"""Robust candidates and the consensus precision on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qcrobust.candidates import candidate_table, consensus_precision, ranking_precision
from qcrobust.screening import ScreeningMode

IDS = ["a", "b", "c", "d"]


def preds(values):
    return pd.DataFrame({"id": IDS, "y_pred": values})


# 4 screens: 2 classical (limits 0, 24), 2 allegro (seeds 0, 1 at limit 24)
PREDICTIONS = {
    ("classical", "rf", 0, 0): preds([-0.02, 0.01, 0.03, -0.01]),
    ("classical", "rf", 24, 0): preds([-0.01, -0.005, 0.02, 0.00]),
    ("allegro", "scratch", 24, 0): preds([-0.03, 0.02, 0.01, -0.02]),
    ("allegro", "scratch", 24, 1): preds([-0.01, 0.02, -0.01, 0.01]),
}
HULL = ScreeningMode("hull", "threshold", value=0.0)
AUDIT = pd.DataFrame({"id": ["a", "b", "c"], "y_true": [-0.004, 0.003, -0.001]})


def test_candidate_table_by_hand():
    table = candidate_table(PREDICTIONS, [HULL, ScreeningMode("top1", "top", k=1)], AUDIT)
    hull = table[table["mode"] == "hull"].set_index("id")
    # a: selected by all 4; d: by 2 (rf 0, allegro seed 0); b: rf 24 only; c: allegro seed 1 only
    assert hull["share_selected"].to_dict() == {"a": 1.0, "d": 0.5, "b": 0.25, "c": 0.25}
    assert hull.loc["d", "share_classical"] == 0.5 and hull.loc["d", "share_allegro"] == 0.5
    assert hull.loc["b", "share_allegro"] == 0.0
    assert hull.loc["b", "share_balanced"] == 0.25 and hull.loc["a", "share_balanced"] == 1.0
    assert list(hull.index) == ["a", "d", "b", "c"]  # b and c tie at 0.25: b has the lower mean prediction (0.01125 < 0.0125)
    assert hull["rank"].tolist() == [1, 2, 3, 4]
    assert hull.loc["a", "y_pred_mean"] == pytest.approx(-0.0175) and hull.loc["a", "y_pred_sd"] == pytest.approx(0.00829156, rel=1e-5)
    assert hull.loc["a", "truly_selected"] == "yes" and hull.loc["b", "truly_selected"] == "no" and hull.loc["d", "truly_selected"] == ""
    assert math.isnan(hull.loc["d", "y_true"])
    top = table[table["mode"] == "top1"].set_index("id")
    # the lowest prediction of every screen is a; seed 1 ties a with c at -0.01: both are in
    assert top["share_selected"].to_dict() == {"a": 1.0, "c": 0.25, "b": 0.0, "d": 0.0}
    assert set(table["status"]) == {"screened"} and (table["known_id"] == "").all()


def test_candidate_table_does_not_depend_on_row_order():
    shuffled = {key: table.iloc[::-1].reset_index(drop=True) for key, table in PREDICTIONS.items()}
    modes = [HULL, ScreeningMode("top1", "top", k=1)]
    pd.testing.assert_frame_equal(candidate_table(PREDICTIONS, modes, AUDIT), candidate_table(shuffled, modes, AUDIT.iloc[::-1]))


def test_labeled_structures_are_listed_with_their_known_label_and_no_rank():
    known = pd.DataFrame({"id": ["e"], "known_id": ["ds-7"], "known_split": ["test"], "y_known": [-0.02]})
    table = candidate_table(PREDICTIONS, [HULL, ScreeningMode("top1", "top", k=1)], AUDIT, known, {"a": "a2;a3"})
    labeled = table[table["status"] == "labeled"].set_index("mode")
    assert labeled.loc["hull", "id"] == "e" and labeled.loc["hull", "known_id"] == "ds-7" and labeled.loc["hull", "y_known"] == -0.02
    assert pd.isna(labeled.loc["hull", "rank"]) and pd.isna(labeled.loc["hull", "share_selected"])
    assert labeled.loc["hull", "truly_selected"] == "yes" and labeled.loc["top1", "truly_selected"] == ""
    assert table.set_index(["mode", "id"]).loc[("hull", "a"), "equivalent_ids"] == "a2;a3"


def test_consensus_precision_against_a_single_screen():
    result = consensus_precision(PREDICTIONS, [HULL], AUDIT, levels=(0.5, 1.0)).iloc[0]
    # audited a (true), b (false), c (true); per screen (a, b, c selected): rf0 a; rf24 a b; allegro0 a; allegro1 a c
    assert result["single_screen_precision_pooled"] == pytest.approx(5 / 6)
    assert result["single_screen_precision_mean"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert result["n_screens"] == 4 and result["n_screens_none"] == 0
    assert result["consensus50_selected"] == 1 and result["consensus50_precision"] == 1.0
    assert result["consensus100_selected"] == 1 and result["n_truly_selected"] == 2
    # Wilson interval of 1 of 1, and bootstrap intervals that hold the estimates
    assert result["consensus50_ci_low"] == pytest.approx(0.2065, abs=1e-4) and result["consensus50_ci_high"] == 1.0
    for name in ("mean", "pooled"):
        low, high = result[f"single_screen_precision_{name}_ci_low"], result[f"single_screen_precision_{name}_ci_high"]
        assert low <= result[f"single_screen_precision_{name}"] <= high
    # with three audited structures nothing separates: no verdict beyond the intervals
    assert result["consensus50_verdict"] == "no difference beyond the intervals"
    again = consensus_precision(PREDICTIONS, [HULL], AUDIT, levels=(0.5, 1.0)).iloc[0]
    assert again.equals(result)  # seeded resampling


def test_consensus_verdict_needs_separated_intervals():
    # 200 audited structures; every screen picks the 40 truly stable ones and 20 others, each screen different ones
    rng = np.random.default_rng(1)
    ids = [f"s{k:03d}" for k in range(200)]
    truth = np.r_[np.full(40, -0.01), np.full(160, 0.01)]
    screens = {}
    for k in range(10):
        y = truth.copy()
        y[rng.choice(np.arange(40, 200), size=20, replace=False)] = -0.005
        screens[("classical", "rf", k, 0)] = pd.DataFrame({"id": ids, "y_pred": y})
    audit = pd.DataFrame({"id": ids, "y_true": truth})
    result = consensus_precision(screens, [HULL], audit, levels=(0.5,)).iloc[0]
    assert result["single_screen_precision_mean"] == pytest.approx(2 / 3)
    assert result["consensus50_precision"] >= 0.95 and result["consensus50_verdict"] == "consensus better"
    assert result["consensus50_ci_low"] > result["single_screen_precision_mean_ci_high"]


def test_candidate_figure_is_drawn(tmp_path):
    from qcrobust import plots

    table = candidate_table(PREDICTIONS, [HULL, ScreeningMode("top1", "top", k=1)], AUDIT)
    plots.candidate_shares(table, tmp_path / "candidates.png", "e_above_hull", "S: robust candidates")
    assert (tmp_path / "candidates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_candidate_rules_read_every_screen_of_the_system(tmp_path):
    from types import SimpleNamespace

    from qcrobust import layout
    from qcrobust.config import validate_config
    from qcrobust.study import Study
    from qcrobust.workflow.report import candidate_inputs, candidate_targets

    config = {
        "systems": {"A": {"dataset": "a", "inference": "b", "audit": "c"}, "B": {"dataset": "a", "inference": "b"}},
        "limits": [0, 4, 8],
        "classical": {"models": ["rf", "lgbm"]},
        "allegro": {"models": ["scratch"], "limits": [8]},
    }
    study = Study.from_config(validate_config(config))
    inputs = candidate_inputs(study, SimpleNamespace(system="A"))
    screens = {k: v for k, v in inputs.items() if k.startswith("pred__")}
    # every (family, model)'s inference table: each trained (limit, seed) in it is a screen
    assert screens == {
        "pred__classical__rf": "results/A/classical/rf/predictions_inference.csv",
        "pred__classical__lgbm": layout.path(layout.PREDICTIONS, system="A", family="classical", model="lgbm", set="inference"),
        "pred__allegro__scratch": "results/A/allegro/scratch/predictions_inference.csv",
    }
    assert inputs["audit_targets"] == "results/A/audit_targets.csv"
    assert "audit_targets" not in candidate_inputs(study, SimpleNamespace(system="B"))
    from qcrobust.io import write_csv
    from qcrobust.workflow.report import screen_predictions

    for model, blocks in {"rf": [(0, 0), (4, 0), (4, 1)], "scratch": [(8, 2)]}.items():
        rows = [{"limit": x, "seed": s, "id": i, "y_pred": 0.1 * x + s} for x, s in blocks for i in ("a", "b")]
        write_csv(pd.DataFrame(rows), tmp_path / f"{model}.csv")
    named = {"pred__classical__rf": tmp_path / "rf.csv", "pred__allegro__scratch": tmp_path / "scratch.csv", "splits": "x"}
    screens = screen_predictions(named)
    assert list(screens) == [("classical", "rf", 0, 0), ("classical", "rf", 4, 0), ("classical", "rf", 4, 1), ("allegro", "scratch", 8, 2)]
    assert screens[("classical", "rf", 4, 1)].to_dict("list") == {"id": ["a", "b"], "y_pred": [1.4, 1.4]}
    assert candidate_targets(study) == [
        "results/A/candidates.csv",
        "results/A/candidates.png",
        "results/A/consensus.csv",
        "results/B/candidates.csv",
        "results/B/candidates.png",
    ]
    assert candidate_targets(Study.from_config(validate_config({**config, "classical": {"models": []}, "allegro": {"models": []}}))) == []


def test_selection_share_interval_resamples_whole_models():
    hull = candidate_table(PREDICTIONS, [HULL], AUDIT).set_index("id")
    # a: every screen of both models selects it; b: 1 of rf's 2 screens, none of scratch's --
    # resampling the 2 models gives 0 (scratch twice), 1/4 or 1/2 (rf twice, probability 1/4)
    assert hull.loc["a", ["share_ci_low", "share_ci_high"]].tolist() == [1.0, 1.0]
    assert hull.loc["b", ["share_ci_low", "share_ci_high"]].tolist() == [0.0, 0.5]
    assert set(hull["ci_method"]) == {"bootstrap over 2 models, 2000 resamples, seed 0, 95 %"}


def test_rankings_by_mean_and_by_lower_confidence_bound():
    values = np.array([p["y_pred"].to_numpy() for p in PREDICTIONS.values()])
    lcb = dict(zip(IDS, values.mean(axis=0) - values.std(axis=0)))  # a -0.0258, b 0.0010, c -0.0023, d -0.0162
    by_mean = candidate_table(PREDICTIONS, [HULL], rank_by="mean")
    by_lcb = candidate_table(PREDICTIONS, [HULL], rank_by="lcb")
    assert by_mean["id"].tolist() == ["a", "d", "b", "c"] and by_lcb["id"].tolist() == ["a", "d", "c", "b"]
    assert by_lcb["rank"].tolist() == [1, 2, 3, 4]
    assert by_lcb.set_index("id")["y_pred_lcb"].to_dict() == pytest.approx(lcb)
    wider = candidate_table(PREDICTIONS, [HULL], rank_by="lcb", lcb_k=2.0).set_index("id")
    assert wider.loc["c", "y_pred_lcb"] == pytest.approx(values.mean(axis=0)[2] - 2 * values.std(axis=0)[2])
    with pytest.raises(ValueError, match="rank_by 'best'"):
        candidate_table(PREDICTIONS, [HULL], rank_by="best")


def test_ranking_precision_on_the_audit():
    # audited a (yes), b (no), c (yes): share and mean put b second, the bound puts c second
    table = candidate_table(PREDICTIONS, [HULL], AUDIT)
    result = ranking_precision(table, k=2).set_index("ranking")
    assert result["hits"].to_dict() == {"share": 1, "mean": 1, "lcb": 2}
    assert result.loc["lcb", "precision"] == 1.0 and result.loc["share", "n_audited"] == 3 and result.loc["share", "n_truly"] == 2
    assert result.loc["lcb", "ci_low"] == pytest.approx(0.342, abs=1e-3) and result.loc["lcb", "ci_high"] == 1.0
    assert ranking_precision(candidate_table(PREDICTIONS, [HULL]), k=2).empty
