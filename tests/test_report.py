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
from qcrobust.errors import InputError
from qcrobust.io import count_frames
from qcrobust.report import (
    dataset_row,
    family_table,
    findings,
    findings_html,
    flip_stats,
    similarity_stats,
    stability_table,
    summary_key,
)


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
    assert stats == {"flips_total": 3, "flips_max": 2, "flips_max_between": "0-2", "converged_from": 4}


def test_flips_of_a_limit_independent_selection():
    stats = flip_stats(overlaps_of({0: {"a"}, 4: {"a"}, 8: {"a"}}))
    assert stats == {"flips_total": 0, "flips_max": 0, "flips_max_between": "", "converged_from": 0}
    assert flip_stats(overlaps_of({8: set()}))["converged_from"] == 8


def test_similarity_stats_use_the_off_diagonal():
    matrix = pd.DataFrame([[1.0, 0.5, 0.2], [0.5, 1.0, 0.8], [0.2, 0.8, 1.0]], index=[0, 4, 8], columns=["0", "4", "8"])
    low, mean = similarity_stats(matrix)
    assert low == 0.2 and mean == pytest.approx(0.5)
    assert all(math.isnan(v) for v in similarity_stats(pd.DataFrame([[1.0]])))


def summaries(recalls: dict[tuple, list], rmses: dict[tuple, list], limits=(0, 4, 8)):
    rows_rmse, rows_recall, rows_below = [], [], []
    for key, values in rmses.items():
        for limit, rmse, recall in zip(limits, values, recalls[key]):
            base = dict(zip(("system", "family", "model"), key)) | {"limit": limit}
            rows_rmse.append(base | {"rmse": rmse})
            rows_recall.append(base | {"recall": recall})
            rows_below.append(base | {"n_screened": 10})
    return pd.DataFrame(rows_rmse), pd.DataFrame(rows_recall), pd.DataFrame(rows_below)


def test_stability_table_and_findings_name_the_more_stable_family():
    rf, scratch = ("S1", "classical", "rf"), ("S1", "allegro", "scratch")
    rmse, recall, below = summaries(
        recalls={rf: [1.0, 1.0, 1.0], scratch: [0.5, 0.75, 1.0]},
        rmses={rf: [0.03, 0.02, 0.01], scratch: [0.05, 0.03, 0.02]},
    )
    eye = pd.DataFrame(np.eye(3), index=[0, 4, 8], columns=["0", "4", "8"])
    similarity = {rf: eye + 0.9 * (1 - eye), scratch: eye + 0.6 * (1 - eye)}
    overlaps = {rf: overlaps_of({0: {"a"}, 4: {"a"}, 8: {"a"}}),
                scratch: overlaps_of({0: {"a"}, 4: {"a", "b", "c"}, 8: {"b", "c"}})}
    table = stability_table(rmse, recall, below, similarity, overlaps)
    assert list(table.model) == ["rf", "scratch"]
    row = table.set_index("model").loc["scratch"]
    assert row.recall_min == 0.5 and row.recall_mean == 0.625  # over limits 0 and 4, not 8
    assert row.similarity_mean == pytest.approx(0.6) and row.rmse_largest_limit == 0.02
    assert (row.flips_total, row.flips_max, row.flips_max_between, row.converged_from) == (3, 2, "0-4", 8)
    families = family_table(table).set_index("family")
    assert families.loc["classical", "recall_min"] == 1.0 and families.loc["allegro", "flip_share"] == 0.3

    sentences = findings(table, threshold=0.0, target="e_above_hull")
    assert sentences[0].startswith("Most stable family by recall against the largest limit") and ": classical (" in sentences[0]
    assert sentences[1].startswith("Most stable family by SimilarityScore") and ": classical (" in sentences[1]
    assert any(s.startswith("S1: the limit matters most for allegro scratch") and "2 of 10" in s and "limits 0 and 4" in s
               for s in sentences)
    page = findings_html(table, 0.0, "e_above_hull")
    assert page.count("<li>") == len(sentences) and "e_above_hull &lt; 0" in page and "<table" in page


def test_stability_needs_every_models_summary():
    rmse, recall, below = summaries({("S", "classical", "rf"): [1, 1, 1]}, {("S", "classical", "rf"): [0.1, 0.1, 0.1]})
    with pytest.raises(InputError, match="no similarity/overlaps table for S/classical/rf"):
        stability_table(rmse, recall, below, {}, {})


def test_findings_without_models_or_flips():
    assert findings(pd.DataFrame(columns=["system"]), 0.0, "e_form") == ["No model was trained, so there is nothing to compare."]


def test_summary_key_and_frame_count(tmp_path):
    assert summary_key("results/ScPt/allegro/self/summary/overlaps.csv") == ("ScPt", "allegro", "self")
    with pytest.raises(InputError):
        summary_key("results/ScPt/overlaps.csv")
    path = tmp_path / "two.extxyz"
    path.write_text('2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0 1\n1\nProperties=species:S:1:pos:R:3\nHe 0 0 0\n')
    assert count_frames(path) == 2


def test_dataset_row_counts_and_statistics():
    targets = pd.DataFrame({"id": list("abcd"), "n_A5_defects": [0, 0, 2, 4], "e_above_hull": [-0.1, 0.0, 0.1, 0.2]})
    splits = pd.DataFrame({"id": list("abcd"), "split": ["test", "train", "train", "val"]})
    row = dataset_row("S", targets, splits, n_inference=7, n_audit=0, target="e_above_hull", threshold=0.0)
    assert (row["n_labeled"], row["n_limit0"], row["n_train"], row["n_val"], row["n_test"]) == (4, 2, 2, 1, 1)
    assert row["max_A5_defects"] == 4 and row["share_below_threshold"] == 0.25
    assert row["target_mean"] == pytest.approx(0.05)


# --- the report of the fixture study ---

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,900", "--virtual-time-budget=5000"]


@pytest.fixture(scope="module")
def study_report(small_study_run, tmp_path_factory):
    """The HTML report of the finished fixture study; returns (workdir, report path)."""
    config = copy_study(small_study_run, tmp_path_factory.mktemp("report") / "work")
    run_workflow(config, config.parent, "--report", "results/report/report.html")
    return config.parent, config.parent / "results" / "report" / "report.html"


@pytest.mark.workflow
def test_report_holds_every_figure_and_the_tables_with_captions(study_report):
    workdir, report = study_report
    text = report.read_text()
    items = dict(re.findall(r'"(results/[^"]+)": \{"name": .*?"caption": "(.*?)(?<!\\)"', text))
    figures = {str(p.relative_to(workdir)) for p in (workdir / "results").rglob("*.png")}
    assert figures and figures <= set(items), figures - set(items)
    tables = {"results/report/datasets.csv", "results/report/stability.csv", "results/report/findings.html",
              "results/CuPt/limit_sizes.csv", "results/CuPd/limit_sizes.csv"}
    assert tables <= set(items)
    assert all(len(caption) > 40 for caption in items.values()), items
    findings_page = (workdir / "results" / "report" / "findings.html").read_text()
    assert "Most stable family by" in findings_page or "Only " in findings_page


@pytest.mark.workflow
def test_report_renders_in_headless_chromium(study_report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("no chromium: install it (bash tests/install_system_deps.sh)")
    _, report = study_report
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", report.as_uri()],
        capture_output=True, text=True, timeout=120,
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
