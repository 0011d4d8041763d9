"""Retraining replicas against the limit effect: hand-computed tables, summaries and findings."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from qcrobust import findings_vs_noise, plots, replicas
from qcrobust.findings_vs_noise import FINDING_COLUMNS, findings_lines
from qcrobust.replicas import NOISE_COLUMNS, SPREAD_COLUMNS, SUMMARY_COLUMNS, noise_summary, replica_scores, seed_spread
from qcrobust.screening import ScreeningMode

# the tests are written at alpha 0.1, which 3 seeds can reach (the config's default is 0.05)
noise_table = functools.partial(replicas.noise_table, alpha=0.1)
finding_verdicts = functools.partial(findings_vs_noise.finding_verdicts, alpha=0.1)

# σ(y_test) = 0.1 exactly (mean 0): the SimilarityScore's ȳ
TRUTH = pd.DataFrame({"id": ["t0", "t1", "t2", "t3"], "y_true": [-0.1, 0.1, -0.1, 0.1]})
INFERENCE = ["a", "b", "c", "d", "x", "y", "z", "w"]
BELOW = ScreeningMode("below", "threshold", value=0.0)
NOTHING = ScreeningMode("deep", "threshold", value=-5.0)  # no prediction is that low: every set empty


def _model(rmse: float, selected: str) -> dict[str, pd.DataFrame]:
    """Test predictions off by ``rmse`` everywhere (RMSE = ``rmse``); inference -1 on the ids of
    ``selected`` (the "below" set), +1 elsewhere. Rows reversed: matching is by id."""
    test = pd.DataFrame({"id": TRUTH["id"], "y_pred": TRUTH["y_true"] + rmse}).iloc[::-1]
    inference = pd.DataFrame({"id": INFERENCE, "y_pred": [-1.0 if i in selected else 1.0 for i in INFERENCE]}).iloc[::-1]
    return {"test": test, "inference": inference}


def _grid(rmse: dict[int, list[float]], sets: dict[int, list[str]]) -> dict[tuple[int, int], dict]:
    return {(limit, seed): _model(r, sets[limit][seed]) for limit, values in rmse.items() for seed, r in enumerate(values)}


# 3 seeds x 2 limits: RMSE 0.01, 0.02, 0.03 at limit 0 and 0.05, 0.06, 0.07 at limit 8;
# screening sets abc, abd, abc at 0 and xyz, xyz, xyw at 8
SEPARATED = _grid({0: [0.01, 0.02, 0.03], 8: [0.05, 0.06, 0.07]}, {0: ["abc", "abd", "abc"], 8: ["xyz", "xyz", "xyw"]})


def _row(table: pd.DataFrame, quantity: str, mode: str = "", i: int = 0, j: int = 8) -> pd.Series:
    match = table[(table["quantity"] == quantity) & (table["mode"] == mode) & (table["limit_i"] == i) & (table["limit_j"] == j)]
    assert len(match) == 1
    return match.iloc[0]


def test_three_seeds_two_limits_by_hand():
    table = noise_table(SEPARATED, TRUTH, [BELOW], [0, 8])
    assert list(table.columns) == NOISE_COLUMNS
    assert list(zip(table["quantity"], table["mode"])) == [("rmse", ""), ("similarity", ""), ("jaccard", "below")]
    assert set(table["n_seeds"]) == {3} and set(table["n_splits"]) == {10} and table["min_p"].tolist() == pytest.approx([0.1] * 3)

    rmse = _row(table, "rmse")
    # between: 0.06 - 0.02; within: |Δ| over seed pairs 0.01, 0.02, 0.01 -> 0.04 / 3 at each limit
    assert rmse["between"] == pytest.approx(0.04) and rmse["statistic"] == pytest.approx(0.04)
    assert rmse["within_i"] == pytest.approx(0.04 / 3) and rmse["within_j"] == pytest.approx(0.04 / 3)
    assert (rmse["within_min"], rmse["within_max"]) == (pytest.approx(0.01), pytest.approx(0.02))
    assert rmse["p_value"] == pytest.approx(0.1) and rmse["verdict"] == "beyond noise"

    similarity = _row(table, "similarity")
    # between-limit |ΔRMSE| (0.01 units): 4 5 6 3 4 5 2 3 4 -> mean 0.04 -> score 1 - 0.04 / 0.1
    assert similarity["between"] == pytest.approx(0.6)
    assert similarity["within_i"] == pytest.approx(1 - 0.4 / 3) and similarity["within"] == pytest.approx(1 - 0.4 / 3)
    assert (similarity["within_min"], similarity["within_max"]) == (pytest.approx(0.8), pytest.approx(0.9))
    assert similarity["statistic"] == pytest.approx((0.04 - 0.04 / 3) / 0.1)  # mean within - mean between score
    assert similarity["p_value"] == pytest.approx(0.1) and similarity["verdict"] == "beyond noise"

    jaccard = _row(table, "jaccard", "below")
    # no id shared between the limits; within: 1/2, 1, 1/2 at each limit
    assert jaccard["between"] == 0.0 and jaccard["within_i"] == pytest.approx(2 / 3) and jaccard["within_j"] == pytest.approx(2 / 3)
    assert (jaccard["within_min"], jaccard["within_max"]) == (0.5, 1.0)
    assert jaccard["statistic"] == pytest.approx(2 / 3) and jaccard["p_value"] == pytest.approx(0.1)
    assert jaccard["verdict"] == "beyond noise" and jaccard["n_undefined_pairs"] == 0 and jaccard["note"] == ""
    # one pair per quantity: Holm leaves p alone
    assert list(table["p_holm"]) == pytest.approx(list(table["p_value"]))
    assert list(table["verdict_holm"]) == list(table["verdict"])


def test_empty_screening_sets_are_counted_not_dropped():
    # sets {a}, {}, {a} at limit 0 and {}, {}, {b} at limit 8. Jaccard distances: a-a 0, e-e 0 (two
    # empty sets: identical by convention), any other pair 1. The 15 pairs sum to 11; a split with
    # within-limit sum W has T = (11 - W) / 9 - W / 6. Observed W = 2 + 2 -> T = 7/9 - 4/6 = 1/9.
    # The 10 splits (model A1 with either): {a,a,e}|{e,e,b} x3: W 4; {a,a,b}|{e,e,e}: W 2;
    # {a,e,e}|{a,e,b} x3 and {a,e,b}|{a,e,e} x3: W 5. T >= 1/9 <=> W <= 4: 4 splits, p = 0.4.
    grid = _grid({0: [0.01, 0.02, 0.03], 8: [0.01, 0.02, 0.03]}, {0: ["a", "", "a"], 8: ["", "", "b"]})
    table = noise_table(grid, TRUTH, [BELOW, NOTHING], [0, 8])
    jaccard = _row(table, "jaccard", "below")
    assert jaccard["statistic"] == pytest.approx(1 / 9) and jaccard["p_value"] == pytest.approx(0.4)
    assert jaccard["between"] == pytest.approx(2 / 9) and jaccard["within_i"] == pytest.approx(1 / 3)
    assert (jaccard["n_empty_i"], jaccard["n_empty_j"], jaccard["n_undefined_pairs"]) == (1, 2, 3)
    assert jaccard["verdict"] == "within noise"
    assert "1 of 3 screening sets empty at limit 0, 2 at limit 8: 3 of 15 pairs" in jaccard["note"]
    # nothing selected anywhere: the row is kept, every index 1 by convention, and it says so
    empty = _row(table, "jaccard", "deep")
    assert (empty["n_empty_i"], empty["n_empty_j"], empty["n_undefined_pairs"]) == (3, 3, 15)
    assert empty["between"] == 1.0 and empty["statistic"] == 0.0 and empty["p_value"] == 1.0
    assert "no seed selects anything at limit 0 or 8" in empty["note"]
    # equal RMSEs at both limits: no difference at all
    assert _row(table, "rmse")["statistic"] == pytest.approx(0.0) and _row(table, "rmse")["p_value"] == 1.0


def test_holm_across_three_limit_pairs_by_hand():
    # RMSE (0.01 units) 1 2 3 | 5 6 7 | 5.5 6.5 7.5: pairs (0,4) and (0,8) fully separated, p = 0.1;
    # (4,8): T = 0.5, and 7 of the 10 splits have |2S - 37.5| / 3 >= 0.5 (S: sum of the group
    # with the first model): p = 0.7. Holm: 3 x 0.1, max(0.3, 2 x 0.1), max(0.3, 0.7).
    grid = _grid({0: [0.01, 0.02, 0.03], 4: [0.05, 0.06, 0.07], 8: [0.055, 0.065, 0.075]}, {x: ["a"] * 3 for x in (0, 4, 8)})
    table = noise_table(grid, TRUTH, [BELOW], [0, 4, 8])
    rmse = table[table["quantity"] == "rmse"]
    assert list(zip(rmse["limit_i"], rmse["limit_j"])) == [(0, 4), (0, 8), (4, 8)]
    assert list(rmse["p_value"]) == pytest.approx([0.1, 0.1, 0.7])
    assert list(rmse["p_holm"]) == pytest.approx([0.3, 0.3, 0.7])
    assert list(rmse["verdict"]) == ["beyond noise", "beyond noise", "within noise"]
    # 3 pairs x smallest p 0.1 > alpha: no pair could pass Holm with 3 seeds
    assert set(rmse["verdict_holm"]) == {"too few seeds"}
    summary = noise_summary(table)
    assert list(summary.columns) == SUMMARY_COLUMNS
    row = summary[summary["quantity"] == "rmse"].iloc[0]
    assert (row["smallest_limit"], row["largest_limit"], row["n_pairs"], row["n_beyond"], row["n_beyond_holm"]) == (0, 8, 3, 2, 0)
    assert row["limit_effect"] == "beyond noise" and row["share_beyond"] == pytest.approx(2 / 3)
    assert row["between"] == pytest.approx(0.045) and row["p_value"] == pytest.approx(0.1)
    assert row["statement"].startswith("rmse: limit 0 -> 8 changes the mean test RMSE by 0.045 eV/atom")
    assert "p = 0.1 (3 seeds, 10 splits, alpha 0.1): beyond noise; beyond noise at 2 of 3 limit pairs (0 after Holm)" in row["statement"]
    # identical screening sets everywhere: nothing to separate
    jaccard = summary[summary["quantity"] == "jaccard"].iloc[0]
    assert jaccard["limit_effect"] == "within noise" and jaccard["n_beyond"] == 0


def test_one_seed_says_too_few_seeds_and_fills_every_other_field():
    grid = {key: value for key, value in SEPARATED.items() if key[1] == 0}
    table = noise_table(grid, TRUTH, [BELOW], [0, 8])
    assert len(table) == 3 and set(table["verdict"]) == {"too few seeds"} and set(table["verdict_holm"]) == {"too few seeds"}
    assert set(table["n_splits"]) == {1} and set(table["min_p"]) == {1.0} and set(table["p_value"]) == {1.0}
    defined = ["between", "statistic", "p_value", "p_holm", "min_p", "alpha"]
    assert np.isfinite(table[defined].to_numpy(dtype=float)).all()
    assert table[["within_i", "within_j", "within", "within_min", "within_max"]].isna().all().all()
    assert all(note.startswith("one seed: no within-limit pair") for note in table["note"])
    assert _row(table, "rmse")["between"] == pytest.approx(0.04) and _row(table, "jaccard", "below")["statistic"] == 1.0
    spread = seed_spread(grid, TRUTH, [BELOW], [0, 8])
    assert spread.loc[spread["quantity"] == "rmse", "mean"].tolist() == pytest.approx([0.01, 0.05])
    assert spread.loc[spread["quantity"] == "rmse", "std"].isna().all()


def test_two_seeds_cannot_pass_alpha():
    grid = {key: value for key, value in SEPARATED.items() if key[1] < 2}
    table = noise_table(grid, TRUTH, [BELOW], [0, 8])
    assert table["min_p"].tolist() == pytest.approx([1 / 3] * 3) and set(table["verdict"]) == {"too few seeds"}
    assert all("2 seeds: the smallest possible p is 0.333 > alpha 0.1" in note for note in table["note"])
    # a looser alpha can: 1/3 is reachable at alpha 0.4
    assert set(noise_table(grid, TRUTH, [BELOW], [0, 8], alpha=0.4)["verdict"]) == {"beyond noise"}


def test_seed_spread_by_hand():
    grid = _grid({0: [0.01, 0.02, 0.03], 8: [0.05, 0.06, 0.07]}, {0: ["abc", "abd", "abc"], 8: ["xyz", "", "xyw"]})
    spread = seed_spread(grid, TRUTH, [BELOW], [0, 8], key={"system": "S", "family": "classical", "model": "rf"})
    assert list(spread.columns) == ["system", "family", "model", *SPREAD_COLUMNS]
    rmse = spread[(spread["quantity"] == "rmse") & (spread["limit"] == 0)].iloc[0]
    assert (rmse["over"], rmse["n_values"]) == ("seeds", 3)
    assert (rmse["mean"], rmse["std"], rmse["min"], rmse["max"]) == pytest.approx((0.02, 0.01, 0.01, 0.03))
    similarity = spread[(spread["quantity"] == "similarity") & (spread["limit"] == 8)].iloc[0]
    assert similarity["n_values"] == 3 and similarity["mean"] == pytest.approx(1 - 0.4 / 3) and similarity["min"] == pytest.approx(0.8)
    at_0 = spread[(spread["quantity"] == "jaccard") & (spread["limit"] == 0)].iloc[0]
    assert at_0["mean"] == pytest.approx(2 / 3) and (at_0["min"], at_0["max"]) == (0.5, 1.0)
    assert (at_0["n_selected_min"], at_0["n_selected_max"], at_0["n_empty"]) == (3, 3, 0)
    # xyz, {}, xyw: indices 0, 1/2, 0; one seed selects nothing, no pair of two empty sets
    at_8 = spread[(spread["quantity"] == "jaccard") & (spread["limit"] == 8)].iloc[0]
    assert at_8["mean"] == pytest.approx(1 / 6) and (at_8["n_empty"], at_8["n_undefined_pairs"], at_8["n_selected_min"]) == (1, 0, 0)
    assert at_8["note"].startswith("1 of 3 seeds select nothing")


def test_tables_are_deterministic_and_ignore_row_and_key_order():
    first = noise_table(SEPARATED, TRUTH, [BELOW, NOTHING], [0, 8])
    shuffled = {
        key: {name: frame.sample(frac=1.0, random_state=7) for name, frame in SEPARATED[key].items()}
        for key in sorted(SEPARATED, reverse=True)
    }
    pd.testing.assert_frame_equal(first, noise_table(shuffled, TRUTH, [BELOW, NOTHING], [8, 0]))
    pd.testing.assert_frame_equal(seed_spread(SEPARATED, TRUTH, [BELOW], [0, 8]), seed_spread(shuffled, TRUTH, [BELOW], [0, 8]))


def test_the_normalizer_scales_the_score_but_not_its_p():
    std = noise_table(SEPARATED, TRUTH, [BELOW], [0, 8], normalizer="std")
    mean_abs = noise_table(SEPARATED, TRUTH, [BELOW], [0, 8], normalizer="mean_abs")  # also 0.1 here
    assert _row(mean_abs, "similarity")["between"] == pytest.approx(_row(std, "similarity")["between"])
    constant = TRUTH.assign(y_true=0.0)  # ȳ = 0: the score is undefined, its test is not
    grid = {
        key: {"test": pd.DataFrame({"id": TRUTH["id"], "y_pred": [r] * 4}), "inference": v["inference"]}
        for key, v in SEPARATED.items()
        for r in [0.01 * (key[1] + 1) + (0.04 if key[0] == 8 else 0.0)]
    }
    table = noise_table(grid, constant, [BELOW], [0, 8])
    row = _row(table, "similarity")
    assert math.isnan(row["between"]) and row["p_value"] == pytest.approx(0.1) and "normalizer ȳ = 0" in row["note"]


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="every limit needs the same seeds"):
        noise_table({k: v for k, v in SEPARATED.items() if k != (8, 2)}, TRUTH, [BELOW], [0, 8])
    with pytest.raises(ValueError, match="no predictions at limit"):
        noise_table(SEPARATED, TRUTH, [BELOW], [0, 4, 8])
    broken = dict(SEPARATED)
    broken[(8, 1)] = {"test": SEPARATED[(8, 1)]["test"].iloc[1:], "inference": SEPARATED[(8, 1)]["inference"]}
    with pytest.raises(ValueError, match="limit 8 seed 1 test: ids differ"):
        noise_table(broken, TRUTH, [BELOW], [0, 8])
    # a single limit has no pair: an empty table with every column
    assert list(noise_table(SEPARATED, TRUTH, [BELOW], [8]).columns) == NOISE_COLUMNS


def test_replica_scores_by_hand():
    scores = replica_scores(SEPARATED, TRUTH, [0, 8], key={"system": "S", "family": "classical", "model": "rf"})
    assert list(scores.columns[:5]) == ["system", "family", "model", "limit", "seed"]
    assert scores["rmse"].tolist() == pytest.approx([0.01, 0.02, 0.03, 0.05, 0.06, 0.07])
    assert scores["normalizer"].tolist() == pytest.approx([0.1] * 6) and set(scores["normalizer_kind"]) == {"std"}


# --- the findings ---


def _classical_noise(system: str, sets: dict[int, list[str]], seeds: int = 3) -> pd.DataFrame:
    grid = _grid({x: [0.01 * (s + 1) for s in range(seeds)] for x in sets}, sets)
    return noise_table(grid, TRUTH, [BELOW], sorted(sets), key={"system": system, "family": "classical", "model": "rf"})


def _scores(system: str, model: str, rmse: dict[int, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "system": system,
                "family": "allegro",
                "model": model,
                "limit": x,
                "seed": s,
                "rmse": r,
                "normalizer_kind": "std",
                "normalizer": 0.1,
            }
            for x, values in rmse.items()
            for s, r in enumerate(values)
        ]
    )


def _verdicts(noise: pd.DataFrame, scores: pd.DataFrame) -> dict[tuple, pd.Series]:
    table = finding_verdicts(noise, scores)
    assert list(table.columns) == FINDING_COLUMNS
    return {(r["system"], r["finding"], r["model"]): r for _, r in table.iterrows()}


def test_finding_a_rf_screening_stability():
    noise = pd.concat(
        [
            _classical_noise("stable", {0: ["abc"] * 3, 8: ["abc"] * 3}),  # Jaccard 1, T 0, p 1
            _classical_noise("moved", {0: ["abc", "abd", "abc"], 8: ["xyz", "xyz", "xyw"]}),  # Jaccard 0, p 0.1
            _classical_noise("noisy", {0: ["a", "", "a"], 8: ["", "", "b"]}),  # Jaccard 2/9, p 0.4 (by hand above)
            _classical_noise("single", {0: ["abc"], 8: ["abc"]}, seeds=1),
            _classical_noise("empty", {0: ["", "", ""], 8: ["", "", ""]}),  # Jaccard 1 by convention, nothing selected
            _classical_noise("all", {0: [INFERENCE] * 3, 8: [INFERENCE] * 3}),  # Jaccard 1: every structure selected
        ],
        ignore_index=True,
    )
    rows = _verdicts(noise, pd.DataFrame(columns=["system", "family", "model", "limit", "seed", "rmse", "normalizer_kind", "normalizer"]))
    assert rows[("stable", "a", "rf")]["verdict"] == "holds"
    assert rows[("stable", "a", "rf")]["numbers"].startswith("Jaccard with limit 8 (mean over seed pairs) at least 1 (at limit 0")
    assert rows[("moved", "a", "rf")]["verdict"] == "fails" and rows[("moved", "a", "rf")]["p_value"] == pytest.approx(0.1)
    assert rows[("noisy", "a", "rf")]["verdict"] == "within retraining noise"
    assert "at least 0.222" in rows[("noisy", "a", "rf")]["numbers"]
    assert rows[("single", "a", "rf")]["verdict"] == "undetermined"
    assert rows[("empty", "a", "rf")]["verdict"] == "undetermined"
    assert "no seed selects anything" in rows[("empty", "a", "rf")]["numbers"]
    assert rows[("all", "a", "rf")]["verdict"] == "undetermined"
    assert "every seed selects every inference structure" in rows[("all", "a", "rf")]["numbers"]
    assert _row(noise[noise["system"] == "all"], "jaccard", "below")[["n_all_i", "n_all_j"]].tolist() == [3, 3]
    assert _row(noise[noise["system"] == "moved"], "jaccard", "below")[["n_all_i", "n_all_j"]].tolist() == [0, 0]
    assert "1 seed(s) cannot reach p <= 0.1" in rows[("single", "a", "rf")]["numbers"]
    assert {r["mode"] for r in rows.values()} == {"below"}


def test_finding_a_high_overlap_but_beyond_noise_is_not_stable():
    # seeds agree exactly at each limit (within index 1); the limits share 3 of 4 ids (index 0.75):
    # T = 0.25 for the observed split only, p = 0.1 -> beyond noise, so not stable at any bar for "high"
    noise = _classical_noise("S", {0: ["abc"] * 3, 8: ["abcd"] * 3})
    row = finding_verdicts(noise, _scores("S", "scratch", {0: [0.01] * 3})).iloc[0]
    assert row["verdict"] == "fails" and "at least 0.75" in row["numbers"]
    lenient = finding_verdicts(noise, _scores("S", "scratch", {0: [0.01] * 3}), jaccard_high=0.7).iloc[0]
    assert lenient["verdict"] == "fails"  # high enough, but not within noise


def test_finding_b_self_below_scratch():
    scratch = {0: [0.01, 0.01, 0.01], 12: [0.05, 0.06, 0.07]}
    scores = pd.concat(
        [
            _scores("better", "scratch", scratch),
            _scores("better", "self", {0: scratch[0], 12: [0.01, 0.02, 0.03]}),
            _scores("worse", "scratch", scratch),
            _scores("worse", "self", {0: scratch[0], 12: [0.08, 0.09, 0.10]}),
            _scores("same", "scratch", scratch),
            _scores("same", "self", {0: scratch[0], 12: [0.055, 0.06, 0.065]}),
            _scores("lonely", "scratch", scratch),
        ],
        ignore_index=True,
    )
    rows = _verdicts(pd.DataFrame(columns=NOISE_COLUMNS + ["system", "family", "model"]), scores)
    better = rows[("better", "b", "self")]
    assert better["verdict"] == "holds" and better["p_value"] == pytest.approx(0.1)
    assert "limit 12: self 0.02 vs scratch 0.06 eV/atom (Δ -0.04" in better["numbers"]
    # limit 0: self is scratch's model (identical RMSEs): left out, and said so
    assert "not compared at limit(s) 0: self is scratch's model there" in better["numbers"]
    assert rows[("worse", "b", "self")]["verdict"] == "fails"
    assert rows[("same", "b", "self")]["verdict"] == "within retraining noise" and rows[("same", "b", "self")]["p_value"] == 1.0
    assert rows[("lonely", "b", "self")]["verdict"] == "undetermined" and rows[("lonely", "b", "self")]["numbers"] == "no self model"


def test_finding_c_pretrained_similarity_above_scratch():
    # replica SimilarityScores with ȳ = 0.1, limits 0 and 12 (one pair): 1 - |ΔRMSE| / 0.1
    # scratch: gaps 0.04, 0.05, 0.06 -> 0.6, 0.5, 0.4; external: gaps 0.01, 0.02, 0.03 -> 0.9, 0.8, 0.7
    # (separated: p = 0.1); self: gaps 0.045, 0.05, 0.055 -> 0.55, 0.5, 0.45 (same mean: T = 0, p = 1)
    scores = pd.concat(
        [
            _scores("S", "scratch", {0: [0.01] * 3, 12: [0.05, 0.06, 0.07]}),
            _scores("S", "external", {0: [0.01] * 3, 12: [0.02, 0.03, 0.04]}),
            _scores("S", "self", {0: [0.01] * 3, 12: [0.055, 0.06, 0.065]}),
            _scores("T", "scratch", {0: [0.01] * 3, 12: [0.02, 0.03, 0.04]}),
            _scores("T", "external", {0: [0.01] * 3, 12: [0.05, 0.06, 0.07]}),
        ],
        ignore_index=True,
    )
    rows = _verdicts(pd.DataFrame(columns=NOISE_COLUMNS + ["system", "family", "model"]), scores)
    external = rows[("S", "c", "external")]
    assert external["verdict"] == "holds" and external["p_value"] == pytest.approx(0.1)
    assert "external 0.8 vs scratch 0.5 (Δ 0.3" in external["numbers"]
    assert rows[("S", "c", "self")]["verdict"] == "within retraining noise"
    assert rows[("T", "c", "external")]["verdict"] == "fails"
    assert rows[("T", "c", "self")]["verdict"] == "undetermined"


def test_findings_lines():
    scores = pd.concat(
        [
            _scores("S", "scratch", {0: [0.01] * 3, 12: [0.05, 0.06, 0.07]}),
            _scores("S", "external", {0: [0.01] * 3, 12: [0.02, 0.03, 0.04]}),
        ],
        ignore_index=True,
    )
    noise = _classical_noise("S", {0: ["abc"] * 3, 8: ["abc"] * 3})
    lines = findings_lines(finding_verdicts(noise, scores))
    assert lines[0].startswith("S classical rf [below]: (a) RandomForest's screening is stable across limits: holds -- Jaccard")
    assert any(
        line.startswith("S allegro external: (c) pretrained Allegro's SimilarityScores are above scratch's: holds -- ") for line in lines
    )
    assert any(
        line.startswith("S allegro self: (b) self-pretrained Allegro's test errors are below scratch's: undetermined -- no self model")
        for line in lines
    )


# --- the figure ---


def test_noise_cells_mark_the_cells_beyond_noise():
    grid = _grid({0: [0.01, 0.02, 0.03], 4: [0.05, 0.06, 0.07], 8: [0.055, 0.065, 0.075]}, {x: ["a"] * 3 for x in (0, 4, 8)})
    limits, values, text, marks = plots.noise_cells(noise_table(grid, TRUTH, [BELOW], [0, 4, 8]), "rmse")
    assert limits == [0, 4, 8]
    # (0,4) and (0,8) beyond noise by their own p (not after Holm: 3 seeds, 3 pairs); (4,8) within
    assert marks.tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 0]]
    assert text[0, 1] == "+0.04*" and text[1, 0] == "-0.04*" and text[1, 2] == "+0.005"
    assert values[0, 1] == pytest.approx(0.04) and values[0, 0] == pytest.approx(0.04 / 3)  # diagonal: seed noise
    with pytest.raises(ValueError, match="no 'jaccard' rows for mode 'other'"):
        plots.noise_cells(noise_table(grid, TRUTH, [BELOW], [0, 4, 8]), "jaccard", "other")


@pytest.mark.parametrize("quantity, mode", [("rmse", ""), ("similarity", ""), ("jaccard", "below")])
def test_noise_heatmap_writes_the_same_png_twice(tmp_path, quantity, mode):
    grid = _grid({0: [0.01, 0.02, 0.03], 8: [0.05, 0.06, 0.07]}, {0: ["abc", "", "abc"], 8: ["xyz", "xyz", "xyw"]})
    noise, spread = noise_table(grid, TRUTH, [BELOW], [0, 8]), seed_spread(grid, TRUTH, [BELOW], [0, 8])
    plots.noise_heatmap(noise, spread, tmp_path / "a.png", quantity, mode)
    plots.noise_heatmap(noise, spread, tmp_path / "b.png", quantity, mode)
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_noise_heatmap_with_one_seed(tmp_path):
    grid = {key: value for key, value in SEPARATED.items() if key[1] == 0}
    noise, spread = noise_table(grid, TRUTH, [BELOW], [0, 8]), seed_spread(grid, TRUTH, [BELOW], [0, 8])
    _, values, text, marks = plots.noise_cells(noise, "jaccard", "below")
    assert text[0, 0] == "n/a" and np.isnan(values[0, 0]) and not marks.any()
    plots.noise_heatmap(noise, spread, tmp_path / "one.png", "jaccard", "below")
    assert (tmp_path / "one.png").stat().st_size > 0


def test_noise_heatmap_when_the_mean_of_equal_seeds_lands_an_ulp_above_them(tmp_path):
    """Three seeds agreeing on 0.1: their mean (0.1 + 0.1 + 0.1) / 3 is above 0.1 in floating point,
    so max - mean < 0; the bars must still draw (the default study's ScRh Allegro failed here)."""
    grid = _grid({0: [0.01, 0.02, 0.03], 8: [0.05, 0.06, 0.07]}, {0: ["abc", "", "abc"], 8: ["xyz", "xyz", "xyw"]})
    noise, spread = noise_table(grid, TRUTH, [BELOW], [0, 8]), seed_spread(grid, TRUTH, [BELOW], [0, 8])
    rows = spread["quantity"] == "jaccard"
    spread.loc[rows, ["min", "max"]] = 0.1
    spread.loc[rows, "mean"] = np.mean([0.1, 0.1, 0.1])
    assert (spread.loc[rows, "max"] - spread.loc[rows, "mean"] < 0).all()
    plots.noise_heatmap(noise, spread, tmp_path / "ulp.png", "jaccard", "below")
    assert (tmp_path / "ulp.png").stat().st_size > 0


def test_replica_scores_need_no_inference_predictions():
    test_only = {key: {"test": value["test"]} for key, value in SEPARATED.items()}
    assert replica_scores(test_only, TRUTH, [0, 8])["rmse"].tolist() == pytest.approx([0.01, 0.02, 0.03, 0.05, 0.06, 0.07])


def test_only_the_configured_limit_pairs_are_compared_and_holm_runs_over_them():
    # the grid of test_holm_across_three_limit_pairs_by_hand, two of its three pairs compared
    grid = _grid({0: [0.01, 0.02, 0.03], 4: [0.05, 0.06, 0.07], 8: [0.055, 0.065, 0.075]}, {x: ["a"] * 3 for x in (0, 4, 8)})
    table = noise_table(grid, TRUTH, [BELOW], [0, 4, 8], pairs=[[0, 8], [4, 8], [2, 8]])  # [2, 8]: no such replica limit
    rmse = table[table["quantity"] == "rmse"]
    assert list(zip(rmse["limit_i"], rmse["limit_j"])) == [(0, 8), (4, 8)]
    assert list(rmse["p_value"]) == pytest.approx([0.1, 0.7]) and list(rmse["p_holm"]) == pytest.approx([0.2, 0.7])


def test_three_seeds_give_no_verdict_at_alpha_005_and_every_finding_names_its_floor():
    moved = _classical_noise("moved", {0: ["abc", "abd", "abc"], 8: ["xyz", "xyz", "xyw"]})  # p 0.1 at alpha 0.1: fails
    strict_noise = replicas.noise_table(
        _grid({0: [0.01, 0.02, 0.03], 8: [0.05, 0.06, 0.07]}, {0: ["abc", "abd", "abc"], 8: ["xyz", "xyz", "xyw"]}),
        TRUTH,
        [BELOW],
        [0, 8],
        alpha=0.05,
    )
    assert set(strict_noise["verdict"]) == {"too few seeds"} and set(strict_noise["alpha"]) == {0.05}
    scores = pd.concat(
        [
            _scores("moved", "scratch", {0: [0.01] * 3, 12: [0.05, 0.06, 0.07]}),
            _scores("moved", "self", {0: [0.01] * 3, 12: [0.01, 0.02, 0.03]}),
        ]
    )
    settings = findings_vs_noise.settings_from_config(
        {
            "alpha": 0.05,
            "pairs": None,
            "stability_model": "rf",
            "jaccard_high": 0.8,
            "reference": "scratch",
            "self_pretrained": "self",
            "pretrained": ["external", "self"],
        }
    )
    table = findings_vs_noise.finding_verdicts(moved, scores, **settings)
    rows = {(r["finding"], r["model"]): r for _, r in table.iterrows()}
    a, b = rows[("a", "rf")], rows[("b", "self")]
    assert a["verdict"] == "undetermined" and "3 seed(s) cannot reach p <= 0.05" in a["numbers"]
    assert a["p_value"] == pytest.approx(0.1) and a["min_p"] == pytest.approx(0.1) and a["alpha"] == 0.05
    assert a["correction"].startswith("holds: no pair beyond noise by raw p; fails: Holm over 1 limit pair(s), floor 0.1")
    assert b["verdict"] == "undetermined" and b["min_p"] == pytest.approx(0.1) and "intersection-union" in b["correction"]
    assert rows[("c", "external")]["verdict"] == "undetermined" and math.isnan(rows[("c", "external")]["min_p"])
    # the same data at alpha 0.1 decide: the floor is the deciding p, which is why 0.05 is the default
    assert finding_verdicts(moved, scores).set_index(["finding", "model"]).loc[("a", "rf"), "verdict"] == "fails"
    line = findings_lines(table)[0]
    assert line.endswith(
        "[p 0.1, smallest possible p 0.1, holds: no pair beyond noise by raw p; fails: Holm over 1 limit pair(s), floor 0.1, alpha 0.05]"
    )


def test_claims_name_the_configured_models():
    assert findings_vs_noise.claim("a") == "RandomForest's screening is stable across limits"
    assert findings_vs_noise.claim("b", self_pretrained="external", reference="self") == "external Allegro's test errors are below self's"
    noise = _classical_noise("S", {0: ["abc"] * 3, 8: ["abc"] * 3})
    scores = _scores("S", "external", {0: [0.01] * 3, 8: [0.02] * 3})
    table = finding_verdicts(noise, scores, reference="external", self_pretrained="scratch", pretrained=("self",))
    rows = {(r["finding"], r["model"]): r for _, r in table.iterrows()}
    assert rows[("b", "scratch")]["claim"] == "scratch Allegro's test errors are below external's"
    assert rows[("b", "scratch")]["numbers"] == "no scratch model" and rows[("c", "self")]["numbers"] == "no self model"
