"""The report stage: stability measures and findings (hand-computed cases), and the HTML report
of the fixture study, opened in headless Chromium."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import copy_study, run_workflow

from qcrobust import layout
from qcrobust.errors import InputError
from qcrobust.io import count_frames
from qcrobust.report.datasets import dataset_row
from qcrobust.report.findings_page import findings_html, findings_sentences
from qcrobust.report.stability import family_table, flip_stats, similarity_stats, stability_table
from qcrobust.workflow.report import summary_key


def overlaps_of(sets: dict[int, set]) -> pd.DataFrame:
    """An overlaps table (as rule evaluate writes it) of the screening sets by limit."""
    return pd.DataFrame(
        [
            {"limit_i": i, "limit_j": j, "n_i": len(a), "n_j": len(b), "n_common": len(a & b)}
            for i, a in sets.items()
            for j, b in sets.items()
        ]
    )


def test_flips_count_changed_calls_between_neighbouring_limits():
    # S_0 = {a}, S_2 = {a, b, c}, S_4 = {b, c}, S_6 = {b, c}: 2 calls change 0->2, 1 (a) 2->4, 0 after
    stats = flip_stats(overlaps_of({0: {"a"}, 2: {"a", "b", "c"}, 4: {"b", "c"}, 6: {"b", "c"}}))
    assert stats == {"flips_total": 3, "flips_per_step": 1.0, "flips_max": 2, "flips_max_between": "0-2", "converged_from": 4}
    assert flip_stats(overlaps_of({0: {"a"}, 2: {"a", "b", "c"}, 4: {"b", "c"}, 6: {"b", "c"}}), [0, 6])["flips_total"] == 3


def test_flips_of_a_limit_independent_selection():
    stats = flip_stats(overlaps_of({0: {"a"}, 4: {"a"}, 8: {"a"}}))
    assert stats == {"flips_total": 0, "flips_per_step": 0.0, "flips_max": 0, "flips_max_between": "", "converged_from": 0}
    assert flip_stats(overlaps_of({8: set()}))["converged_from"] == 8


def test_similarity_stats_use_the_off_diagonal():
    matrix = pd.DataFrame([[1.0, 0.5, 0.2], [0.5, 1.0, 0.8], [0.2, 0.8, 1.0]], index=[0, 4, 8], columns=["0", "4", "8"])
    low, mean = similarity_stats(matrix)
    assert low == 0.2 and mean == pytest.approx(0.5)
    assert similarity_stats(matrix, [0, 8]) == (0.2, 0.2)  # only the compared limits
    assert all(math.isnan(v) for v in similarity_stats(pd.DataFrame([[1.0]])))


def summaries(screens: dict[tuple, dict[int, set]], rmses: dict[tuple, list], n_screened: int = 10):
    """rmse_all and screening_all tables (as rule report_tables writes them) of models with the
    given screening sets per limit (the largest limit is the reference) and RMSEs per limit."""
    from qcrobust.metrics import agreement_with_reference

    rows_rmse, screening = [], []
    for key, sets in screens.items():
        base = dict(zip(("system", "family", "model"), key))
        for limit, rmse in zip(sorted(sets), rmses[key]):
            rows_rmse.append(base | {"limit": limit, "rmse": rmse, "normalizer_kind": "std"})
        table = agreement_with_reference({x: frozenset(v) for x, v in sets.items()}, max(sets), n_screened)
        screening.append(table.assign(**base))
    return pd.DataFrame(rows_rmse), pd.concat(screening, ignore_index=True)


def similarity_of(limits, off: float) -> pd.DataFrame:
    eye = np.eye(len(limits))
    return pd.DataFrame(eye + off * (1 - eye), index=limits, columns=[str(x) for x in limits])


def test_stability_table_and_findings_name_the_more_stable_family():
    rf, scratch = ("S1", "classical", "rf"), ("S1", "allegro", "scratch")
    screens = {rf: {0: {"a"}, 4: {"a"}, 8: {"a"}}, scratch: {0: {"a"}, 4: {"a", "b", "c"}, 8: {"b", "c"}}}
    rmse, screening = summaries(screens, rmses={rf: [0.03, 0.02, 0.01], scratch: [0.05, 0.03, 0.02]})
    similarity = {rf: similarity_of([0, 4, 8], 0.9), scratch: similarity_of([0, 4, 8], 0.6)}
    overlaps = {key: overlaps_of(sets) for key, sets in screens.items()}
    table = stability_table(rmse, screening, similarity, overlaps, limits=[0, 4, 8])
    assert list(table.model) == ["rf", "scratch"]
    row = table.set_index("model").loc["scratch"]
    assert row.recall_min == 0.0 and row.recall_mean == 0.5  # S_0 ∩ S_8 = {}, S_4 ⊇ S_8 = {b, c}: over limits 0 and 4, not 8
    assert row.precision_min == 0.0 and row.precision_mean == pytest.approx(1 / 3)
    assert row.jaccard_mean == pytest.approx(1 / 3) and row.n_compared == 2 and row.n_recall_undefined == 0
    assert row.similarity_mean == pytest.approx(0.6) and row.rmse_largest_limit == 0.02 and row.limits == "0 4 8"
    assert (row.flips_total, row.flips_per_step, row.flips_max, row.flips_max_between, row.converged_from) == (3, 1.5, 2, "0-4", 8)
    families = family_table(table).set_index("family")
    assert families.loc["classical", "recall_min"] == 1.0 and families.loc["allegro", "flip_share_per_step"] == 0.15
    assert families.loc["classical", "recall_cells"] == 2 and families.loc["classical", "recall_undefined"] == 0

    sentences = findings_sentences(table, target="e_above_hull", notes={"S1": "stand-in labels"})
    assert sentences[0] == "Compared on the limits every family trained on: 0 4 8 (cross-family numbers use no other limit)."
    recall = next(s for s in sentences if s.startswith("Highest recall"))
    assert ": classical (" in recall and "over 1 of 1 (system, model) pairs, 2 of 2 limit cells" in recall
    assert recall.endswith("[stand-in labels]")
    assert any(
        s.startswith("S1: the limit matters most for allegro scratch") and "2 of 10" in s and "limits 0 and 4" in s for s in sentences
    )
    page = findings_html(table, "e_above_hull", modes={"": "e_above_hull < 0 eV/atom"}, extra=["An extra sentence."])
    assert page.count("<li>") == len(findings_sentences(table, "e_above_hull")) + 1 and "e_above_hull &lt; 0" in page and "<table" in page


def test_families_on_different_grids_are_compared_on_the_shared_limits():
    """Issue 12, point 1: classical on 0, 2, ..., 8, Allegro on 0, 8. The classical model flips
    calls at 2->4 only, which the shared grid (0, 8) does not see; without the shared grid it
    would be compared over 4 neighbouring pairs against Allegro's 1."""
    rf, scratch = ("S", "classical", "rf"), ("S", "allegro", "scratch")
    screens = {rf: {0: {"a"}, 2: {"a"}, 4: {"a", "b"}, 6: {"a"}, 8: {"a"}}, scratch: {0: {"a"}, 8: {"a"}}}
    rmse, screening = summaries(screens, rmses={rf: [0.01] * 5, scratch: [0.02, 0.02]})
    similarity = {rf: similarity_of([0, 2, 4, 6, 8], 0.5), scratch: similarity_of([0, 8], 0.9)}
    overlaps = {key: overlaps_of(sets) for key, sets in screens.items()}
    shared = stability_table(rmse, screening, similarity, overlaps, limits=[0, 8]).set_index("model")
    assert shared["limits"].tolist() == ["0 8", "0 8"] and shared["n_limits"].tolist() == [2, 2]
    assert shared.loc["rf", "flips_total"] == 0 and shared.loc["rf", "n_compared"] == 1
    own = stability_table(rmse, screening, similarity, overlaps).set_index("model")  # each model's own grid
    assert own.loc["rf", "flips_total"] == 2 and own.loc["rf", "n_compared"] == 4
    with pytest.raises(InputError, match=r"S/allegro/scratch: no model at limit\(s\) \[4\] of the compared grid \[0, 4, 8\]"):
        stability_table(rmse, screening, similarity, overlaps, limits=[0, 4, 8])


def test_undefined_recall_is_counted_and_named_never_dropped_silently():
    """Issue 12, point 2: a family mean over the pairs where recall is defined says how many
    pairs and limit cells that is, and which systems had nothing selected."""
    keys = [("A", "classical", "rf"), ("B", "classical", "rf"), ("A", "allegro", "scratch"), ("B", "allegro", "scratch")]
    screens = {
        keys[0]: {0: {"a"}, 8: {"a", "b"}},
        keys[1]: {0: set(), 8: set()},
        keys[2]: {0: {"a"}, 8: {"a"}},
        keys[3]: {0: {"c"}, 8: {"d"}},
    }
    rmse, screening = summaries(screens, rmses={k: [0.01, 0.01] for k in keys})
    table = stability_table(
        rmse, screening, {k: similarity_of([0, 8], 0.9) for k in keys}, {k: overlaps_of(v) for k, v in screens.items()}, limits=[0, 8]
    )
    b_rf = table[(table.system == "B") & (table.family == "classical")].iloc[0]
    assert math.isnan(b_rf.recall_min) and b_rf.n_recall_undefined == 1 and b_rf.n_precision_undefined == 1
    families = family_table(table).set_index("family")
    assert families.loc["classical", "recall_min"] == 0.5  # A only
    assert (
        families.loc["classical", "recall_models"],
        families.loc["classical", "recall_cells"],
        families.loc["classical", "recall_undefined"],
    ) == (1, 1, 1)
    sentences = findings_sentences(table, "e_above_hull")
    recall = next(s for s in sentences if s.startswith("Highest recall"))
    assert "classical 0.500 over 1 of 2 (system, model) pairs, 1 of 2 limit cells (undefined, an empty screening set: B 1)" in recall
    assert any(
        s.startswith("Recall is undefined where the mode selects no e_above_hull prediction at the largest limit") and "B classical rf" in s
        for s in sentences
    )


def test_a_flood_of_false_positives_is_called_out():
    key = ("S", "allegro", "scratch")
    screens = {key: {0: set("abcdefgh"), 8: {"a"}}}
    rmse, screening = summaries(screens, rmses={key: [0.01, 0.01]})
    table = stability_table(rmse, screening, {key: similarity_of([0, 8], 0.9)}, {key: overlaps_of(screens[key])}, limits=[0, 8])
    assert table.iloc[0].recall_min == 1.0 and table.iloc[0].precision_min == pytest.approx(1 / 8)
    assert table.iloc[0].share_selected_max == pytest.approx(0.8)
    assert any(
        "recall 1.000 against limit 8 hides false positives: precision down to 0.125, up to 80.0 %" in s
        for s in findings_sentences(table, "e_above_hull")
    )


def test_stability_and_findings_per_screening_mode():
    key = ("S", "classical", "rf")
    rmse, hull = summaries({key: {0: set(), 8: set()}}, rmses={key: [0.01, 0.01]})
    _, top = summaries({key: {0: {"a"}, 8: {"a"}}}, rmses={key: [0.01, 0.01]})
    screening = pd.concat([hull.assign(mode="hull"), top.assign(mode="top1")], ignore_index=True)
    overlaps = pd.concat([overlaps_of({0: set(), 8: set()}).assign(mode="hull"), overlaps_of({0: {"a"}, 8: {"a"}}).assign(mode="top1")])
    table = stability_table(rmse, screening, {key: similarity_of([0, 8], 1.0)}, {key: overlaps}, limits=[0, 8])
    assert table["mode"].tolist() == ["hull", "top1"]
    assert math.isnan(table.loc[0, "recall_min"]) and table.loc[1, "recall_min"] == 1.0  # the rank-based mode always answers
    sentences = findings_sentences(table, "e_above_hull", modes={"hull": "e_above_hull < 0 eV/atom", "top1": "the 1 lowest e_above_hull"})
    assert any(s.startswith("[hull: e_above_hull < 0 eV/atom] No family has a defined recall") for s in sentences)
    assert any(s.startswith("[top1: the 1 lowest e_above_hull] Only classical has a defined recall") for s in sentences)
    assert sum("SimilarityScore" in s for s in sentences) == 1  # mode-free, said once


def test_stability_needs_every_models_summary():
    key = ("S", "classical", "rf")
    rmse, screening = summaries({key: {0: set(), 4: set(), 8: set()}}, {key: [0.1, 0.1, 0.1]})
    with pytest.raises(InputError, match="no similarity/overlaps table for S/classical/rf"):
        stability_table(rmse, screening, {}, {})


def test_findings_without_models_or_flips():
    assert findings_sentences(pd.DataFrame(columns=["system"]), "e_form") == ["No model was trained, so there is nothing to compare."]


def test_notes_and_budgets(tmp_path):
    from qcrobust.io import write_json
    from qcrobust.report.budgets import BUDGET_COLUMNS, budget_table
    from qcrobust.workflow.report import data_notes, external_corpus_note

    config = {
        "systems": {"ScPt": {"dataset": "results/default_data/ScPt/dataset.extxyz"}, "Mine": {"dataset": "my/data.extxyz"}},
        "allegro": {"models": ["scratch", "external"], "pretrain": {"corpus": None, "target": "e_form"}},
    }
    assert data_notes(config) == {"ScPt": "CHGNet stand-in labels (capped relaxations), not DFT"}
    assert "partly distillation from the labeler" in external_corpus_note(config)
    own = {**config, "allegro": {"models": ["external"], "pretrain": {"corpus": "aflow.extxyz", "target": "e_form"}}}
    assert external_corpus_note(own).startswith("Allegro external: pretrained on the user corpus aflow.extxyz")
    write_json(
        {
            "system": "S",
            "model": "self",
            "limit": 8,
            "n_train": 25,
            "n_val": 3,
            "epochs": 125,
            "steps": 500,
            "checkpoint": "last",
            "selected_epoch": 124,
            "fit_seconds": 20.0,
            "pretrain": {"stage": "self_pretrain", "steps": 2300, "fit_seconds": 100.0},
        },
        tmp_path / "a.json",
    )
    write_json(
        {
            "system": "S",
            "model": "self",
            "limit": 0,
            "n_train": 9,
            "n_val": 3,
            "epochs": 125,
            "steps": 250,
            "checkpoint": "last",
            "selected_epoch": 124,
            "fit_seconds": 0.0,
            "reused_from": "scratch",
        },
        tmp_path / "b.json",
    )
    # the test RMSE comes from the evaluation's rmse_all table (training never reads the test set);
    # the classical row of the same system and limit is not an Allegro model's
    rmse = pd.DataFrame(
        {
            "system": ["S", "S", "S", "S"],
            "family": ["allegro", "allegro", "classical", "allegro"],
            "model": ["self", "self", "self", "scratch"],
            "limit": [0, 8, 8, 8],
            "rmse": [0.03, 0.01, 0.5, 0.02],
        }
    )
    table = budget_table([tmp_path / "a.json", tmp_path / "b.json"], rmse)
    assert list(table.columns) == BUDGET_COLUMNS
    assert table.iloc[0][["limit", "rmse", "steps", "pretrain_steps", "total_seconds", "checkpoint"]].tolist() == [
        8,
        0.01,
        500,
        2300,
        120.0,
        "last",
    ]
    assert table.iloc[1][["limit", "rmse", "total_seconds", "reused_from"]].tolist() == [0, 0.03, 0.0, "scratch"]
    with pytest.raises(InputError, match=r"rmse_all.csv: S/self limit 8: no test RMSE for this Allegro model"):
        budget_table([tmp_path / "a.json"], rmse[rmse["limit"] == 0])


def test_summary_key_and_frame_count(tmp_path):
    assert summary_key("results/ScPt/allegro/self/summary/overlaps.csv") == ("ScPt", "allegro", "self")
    path = layout.path(layout.SUMMARY_TABLE, system="Sc-Pt", family="classical", model="rf", table="similarity")
    assert summary_key(tmp_path / path) == ("Sc-Pt", "classical", "rf")  # below any folder
    for wrong in (
        "results/ScPt/overlaps.csv",
        "results/ScPt/allegro/self/limit_8/overlaps.csv",
        "results/ScPt/allegro/self/summary/overlaps.png",
    ):
        with pytest.raises(InputError, match="not a summary table path"):
            summary_key(wrong)
    path = tmp_path / "two.extxyz"
    path.write_text("2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0 1\n1\nProperties=species:S:1:pos:R:3\nHe 0 0 0\n")
    assert count_frames(path) == 2


def test_dataset_row_counts_and_statistics():
    targets = pd.DataFrame({"id": list("abcd"), "n_A5_defects": [0, 0, 2, 4], "e_above_hull": [-0.1, 0.0, 0.1, 0.2]})
    splits = pd.DataFrame({"id": list("abcd"), "split": ["test", "train", "train", "val"]})
    row = dataset_row("S", targets, splits, n_inference=7, n_audit=0, target="e_above_hull")
    assert (row["n_labeled"], row["n_limit0"], row["n_train"], row["n_val"], row["n_test"]) == (4, 2, 2, 1, 1)
    assert row["max_A5_defects"] == 4 and row["share_negative"] == 0.25
    assert row["target_mean"] == pytest.approx(0.05)


def test_report_rules_read_the_studys_files():
    from qcrobust.config import validate_config
    from qcrobust.study import Study
    from qcrobust.workflow.report import budget_inputs, dataset_inputs, findings_inputs, targets

    config = {
        "systems": {"A": {"dataset": "a", "inference": "b", "audit": "c"}, "B": {"dataset": "a", "inference": "b"}},
        "limits": [0, 4],
        "classical": {"models": ["rf"]},
        "allegro": {"models": ["scratch", "self"], "limits": [4]},
    }
    study = Study.from_config(validate_config(config))
    data = dataset_inputs(study)
    assert data["targets"] == ["results/A/dataset_targets.csv", "results/B/dataset_targets.csv"]
    assert data["targets"][0] == layout.path(layout.TARGETS, system="A", set="dataset")
    assert data["inference"] == ["results/A/inference.extxyz", "results/B/inference.extxyz"]
    assert data["audit_targets"] == ["results/A/audit_targets.csv"]  # B has no audit set
    found = findings_inputs(study)
    assert found["rmse"] == "results/report/rmse_all.csv"
    assert len(found["similarity"]) == 2 * 3 and "results/B/allegro/self/summary/overlaps.csv" in found["overlaps"]
    budgets = budget_inputs(study)
    assert budgets["rmse"] == found["rmse"]
    assert sorted(budgets["metrics"]) == sorted(
        f"results/{s}/allegro/{m}/limit_4/seed_0/metrics.json" for s in "AB" for m in ("scratch", "self")
    )
    assert targets(study) == [
        "results/report/datasets.csv",
        "results/report/stability.csv",
        "results/report/findings.html",
        "results/report/allegro_budgets.csv",
    ]
    classical_only = Study.from_config(validate_config({**config, "allegro": {"models": []}}))
    assert "results/report/allegro_budgets.csv" not in targets(classical_only)
    assert budget_inputs(classical_only)["metrics"] == []
    nothing = Study.from_config(validate_config({**config, "classical": {"models": []}, "allegro": {"models": []}}))
    assert targets(nothing) == ["results/report/datasets.csv"]


# --- the report of the fixture study ---

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--virtual-time-budget=5000",
]


@pytest.fixture(scope="module")
def study_report(small_study_run, tmp_path_factory):
    """The HTML report of the finished fixture study; returns (workdir, report path)."""
    config = copy_study(small_study_run, tmp_path_factory.mktemp("report") / "work")
    run_workflow(config, config.parent, "--report", layout.REPORT_HTML)
    return config.parent, config.parent / layout.REPORT_HTML


@pytest.mark.workflow
def test_report_holds_every_figure_and_the_tables_with_captions(study_report):
    workdir, report = study_report
    text = report.read_text()
    items = dict(re.findall(r'"(results/[^"]+)": \{"name": .*?"caption": "(.*?)(?<!\\)"', text))
    figures = {str(p.relative_to(workdir)) for p in (workdir / "results").rglob("*.png")}
    assert figures and figures <= set(items), figures - set(items)
    tables = {layout.path(layout.REPORT_TABLE, name=name) for name in ("datasets", "stability", "allegro_budgets")}
    tables |= {layout.FINDINGS} | {layout.path(layout.LIMIT_SIZES, system=system) for system in ("CuPt", "CuPd")}
    assert tables <= set(items)
    assert all(len(caption) > 40 for caption in items.values()), items
    findings_page = (workdir / layout.FINDINGS).read_text()
    # the fixture's Allegro trains limit 8 only: the families share one limit, and the page says so
    assert "Compared on the limits every family trained on: 8 (cross-family numbers use no other limit)." in findings_page
    assert "No family has a defined recall against the largest limit" in findings_page


@pytest.mark.workflow
def test_report_renders_in_headless_chromium(study_report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("no chromium: install it (bash tests/install_system_deps.sh)")
    _, report = study_report
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1280)
    # not blank: many pixels differ from the page background, in more than one colour
    background = np.median(pixels.reshape(-1, 3), axis=0)
    drawn = np.abs(pixels - background).sum(axis=2) > 0.1
    assert drawn.mean() > 0.02, drawn.mean()
    assert pixels.std() > 0.05
    assert len(np.unique((pixels.reshape(-1, 3) * 8).astype(int), axis=0)) > 8
