"""The shared evaluation: prediction files in, summary tables and figures out."""

from __future__ import annotations

import copy
import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from qcrobust import layout, plots
from qcrobust.config import validate_config
from qcrobust.errors import InputError
from qcrobust.evaluate import (
    AUDIT_TABLES,
    SUMMARY_TABLES,
    EvaluationSettings,
    audit_inputs,
    predictions_by_limit,
    read_predictions,
    read_test_targets,
    report_inputs,
    summarize,
    summarize_audit,
    summary_inputs,
    targets,
)
from qcrobust.io import write_csv
from qcrobust.screening import ScreeningMode
from qcrobust.study import Study

HULL = ScreeningMode("below_hull", "threshold", value=0.0)
#: the paper's one screen (e_above_hull < 0): the hand-computed cases below are worked for it
SETTINGS = EvaluationSettings.from_config({"screening": {"modes": [{"name": "below_hull", "kind": "threshold", "value": 0.0}]}})

TEST = pd.DataFrame({"id": ["t0", "t1", "t2", "t3"], "y_true": [-0.02, 0.01, 0.03, 0.10]})
INFERENCE_IDS = ["i0", "i1", "i2", "i3", "i4"]
# limit -> (test predictions, inference predictions)
PREDICTIONS = {
    0: ([0.00, 0.01, 0.03, 0.10], [0.1, -0.2, 0.3, 0.4, 0.5]),  # RMSE 0.01; S = {i1}
    4: ([-0.02, 0.01, 0.03, 0.12], [-0.1, -0.2, 0.3, 0.4, 0.5]),  # RMSE 0.01; S = {i0, i1}
    8: ([-0.06, 0.01, 0.03, 0.10], [-0.1, 0.2, -0.3, -0.4, 0.5]),  # RMSE 0.02; S = {i0, i2, i3}
}


AUDIT = pd.DataFrame({"id": INFERENCE_IDS[:3], "y_true": [-0.05, 0.1, -0.01]})


def _prediction_path(folder, limit, name):
    return folder / layout.path(layout.PREDICTIONS, system="S", family="fam", model="m", limit=limit, seed=0, set=name)


def _write_predictions(folder, predictions=PREDICTIONS) -> dict[int, dict[str, str]]:
    """Test and inference predictions per limit (rule evaluate's)."""
    files = {}
    for limit, (test, inference) in predictions.items():
        files[limit] = {}
        for name, ids, values in (("test", TEST["id"], test), ("inference", INFERENCE_IDS, inference)):
            path = _prediction_path(folder, limit, name)
            # rows in reverse: the evaluation matches by id, not by position
            write_csv(pd.DataFrame({"id": list(ids)[::-1], "y_pred": list(values)[::-1]}), path)
            files[limit][name] = str(path)
    return files


def _write_audit_predictions(folder, predictions=PREDICTIONS) -> dict[int, dict[str, str]]:
    """Audit predictions per limit (rule evaluate_audit's): the audit set is i0-i2, predicted as in inference."""
    files = {}
    for limit, (_, inference) in predictions.items():
        path = _prediction_path(folder, limit, "audit")
        write_csv(pd.DataFrame({"id": INFERENCE_IDS[:3], "y_pred": inference[:3]}), path)
        files[limit] = {"audit": str(path)}
    return files


@pytest.fixture
def summary(tmp_path):
    """Every summary table of one (system, family, model): rule evaluate's and rule evaluate_audit's."""
    tables = summarize(system="S", family="fam", model="m", predictions=_write_predictions(tmp_path), test=TEST, settings=SETTINGS)
    audit = summarize_audit(
        system="S", family="fam", model="m", predictions=_write_audit_predictions(tmp_path), audit=AUDIT, modes=SETTINGS.modes
    )
    assert set(tables) == set(SUMMARY_TABLES) and set(audit) == set(AUDIT_TABLES)
    return tables | audit


def test_rmse_and_similarity_by_hand(summary):
    rmse = summary["rmse_by_limit"]
    assert list(rmse["limit"]) == [0, 4, 8]
    assert rmse["rmse"].tolist() == pytest.approx([0.01, 0.01, 0.02])
    assert (rmse[["system", "family", "model"]].drop_duplicates().values.tolist()) == [["S", "fam", "m"]]
    y_bar = TEST["y_true"].std(ddof=0)  # the default normalizer: the test set's spread
    assert rmse["normalizer"].tolist() == pytest.approx([y_bar] * 3)
    assert rmse["normalizer_kind"].unique().tolist() == ["std"]
    similarity = summary["similarity"].set_index("limit")
    assert list(similarity.columns) == ["0", "4", "8"]
    assert similarity.loc[0, "4"] == pytest.approx(1.0)
    assert similarity.loc[0, "8"] == pytest.approx(1 - 0.01 / y_bar)
    assert similarity.loc[8, "4"] == pytest.approx(1 - 0.01 / y_bar)


def test_screening_tables_by_hand(summary):
    screening = summary["screening_vs_max_limit"].set_index("limit")
    # S_8 = {i0, i2, i3}; S_0 = {i1}; S_4 = {i0, i1}
    assert screening["recall"].tolist() == pytest.approx([0.0, 1 / 3, 1.0])
    assert screening["precision"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert screening["jaccard"].tolist() == pytest.approx([0.0, 0.25, 1.0])
    assert screening["reference_limit"].unique().tolist() == [8]
    overlaps = summary["overlaps"].set_index(["limit_i", "limit_j"])
    assert overlaps.loc[(0, 4), "n_common"] == 1 and overlaps.loc[(4, 0), "share_of_i"] == 0.5
    assert overlaps.loc[(4, 8), "share_of_i"] == 0.5 and overlaps.loc[(4, 8), "share_of_j"] == pytest.approx(1 / 3)
    assert screening["n_selected"].tolist() == [1, 2, 3] and screening["share_selected"].tolist() == pytest.approx([0.2, 0.4, 0.6])
    assert screening["n_screened"].unique().tolist() == [5]


def test_classification_on_test_and_audit(summary):
    test = summary["classification_test"].set_index("limit")
    # true stable: t0 only; limit 8 calls t0 stable (TP), limit 0 calls nothing
    assert test.loc[8, ["tp", "fp", "fn", "tn"]].tolist() == [1, 0, 0, 3]
    assert test.loc[8, "daf"] == pytest.approx(1 / 0.25)
    assert test.loc[0, "tp"] == 0 and math.isnan(test.loc[0, "precision"])
    audit = summary["classification_audit"].set_index("limit")
    # audit truth: i0, i2 stable; limit 8 calls i0, i2 -> perfect
    assert audit.loc[8, ["tp", "fp", "fn", "tn"]].tolist() == [2, 0, 0, 1]
    assert audit.loc[0, ["tp", "fp", "fn", "tn"]].tolist() == [0, 1, 2, 0]


def test_empty_reference_set_gives_nan_recall_and_a_figure_that_says_so(tmp_path):
    calm = {limit: (test, [0.1] * 5) for limit, (test, _) in PREDICTIONS.items()}
    tables = summarize(system="S", family="fam", model="m", predictions=_write_predictions(tmp_path, calm), test=TEST, settings=SETTINGS)
    assert tables["screening_vs_max_limit"]["recall"].isna().all()
    assert tables["screening_vs_max_limit"]["note"].str.startswith("recall undefined").all()
    assert "classification_audit" not in tables
    plots.screening_vs_limit(tables["screening_vs_max_limit"], tmp_path / "recall.png")
    plots.overlap_heatmap(tables["overlaps"], tmp_path / "overlaps.png")
    assert (tmp_path / "recall.png").stat().st_size > 5000


def test_mean_abs_normalizer_and_modes_are_used(tmp_path):
    modes = (ScreeningMode("loose", "window", value=0.35), ScreeningMode("top2", "top", k=2))
    settings = dataclasses.replace(SETTINGS, modes=modes, normalizer="mean_abs")
    tables = summarize(system="S", family="fam", model="m", predictions=_write_predictions(tmp_path), test=TEST, settings=settings)
    assert tables["rmse_by_limit"]["normalizer"].iloc[0] == pytest.approx(TEST["y_true"].abs().mean())
    screening = tables["screening_vs_max_limit"]
    assert screening.loc[screening["mode"] == "loose", "n_selected"].tolist() == [3, 3, 4]
    # top 2 of the inference predictions per limit: limit 0 {i1, i0}, 4 {i1, i0}, 8 {i3, i2}
    top = screening[screening["mode"] == "top2"]
    assert top["n_selected"].tolist() == [2, 2, 2] and top["recall"].tolist() == [0.0, 0.0, 1.0]
    # on the test set, the top-2 truth is the 2 lowest true values (t0, t1)
    test = tables["classification_test"]
    assert test.loc[(test["mode"] == "top2") & (test["limit"] == 4), ["tp", "fp"]].values.tolist() == [[2, 0]]
    config = {"screening": {"modes": [{"name": "hull", "kind": "threshold", "value": 0.0}]}, "similarity": {"normalizer": "mean_abs"}}
    assert EvaluationSettings.from_config(config).modes == (ScreeningMode("hull", "threshold", value=0.0),)
    assert EvaluationSettings.from_config(config).normalizer == "mean_abs"
    # the audit tables use the same modes, one block each
    audit = summarize_audit(system="S", family="fam", model="m", predictions=_write_audit_predictions(tmp_path), audit=AUDIT, modes=modes)
    assert audit["classification_audit"]["mode"].tolist() == ["loose"] * 3 + ["top2"] * 3
    assert set(audit["audit_cumulative"]["mode"]) == {"loose", "top2"}


def test_settings_defaults_are_the_config_schemas():
    """No defaults of its own: the schema's three modes and its similarity settings."""
    from qcrobust.config import schema_defaults

    defaults = EvaluationSettings.from_config(None)
    assert [m.name for m in defaults.modes] == ["below_hull", "window_25meV", "top_5pct"]
    assert defaults.modes[0] == HULL
    assert (defaults.normalizer, defaults.warn_below) == (
        schema_defaults("similarity")["normalizer"],
        schema_defaults("similarity")["warn_below"],
    )
    assert EvaluationSettings.from_config({"similarity": {"warn_below": 0.01}}).modes == defaults.modes  # other blocks keep theirs
    assert EvaluationSettings.from_config({"similarity": {"warn_below": 0.01}}).warn_below == 0.01
    with pytest.raises(TypeError):
        EvaluationSettings()  # no dataclass defaults to drift from the schema's


def test_prediction_file_problems_name_file_and_id(tmp_path):
    path = tmp_path / "pred_test.csv"
    write_csv(pd.DataFrame({"id": ["t0", "t1", "t2"], "y_pred": [0.1, 0.2, 0.3]}), path)
    with pytest.raises(InputError, match=r"pred_test.csv: id 't3': no prediction \(1 of 4 ids missing\)"):
        read_predictions(path, TEST["id"])
    write_csv(pd.DataFrame({"id": ["t0", "t1", "t2", "t3", "x"], "y_pred": [0.1] * 5}), path)
    with pytest.raises(InputError, match=r"id 'x': not in the set being predicted"):
        read_predictions(path, TEST["id"])
    write_csv(pd.DataFrame({"id": ["t0", "t0"], "y_pred": [0.1, 0.2]}), path)
    with pytest.raises(InputError, match=r"id 't0': duplicate id"):
        read_predictions(path)
    path.write_text("id,y_pred\nt0,0.1\nt1,nan\n")
    with pytest.raises(InputError, match=r"id 't1': y_pred is not a finite number"):
        read_predictions(path)
    path.write_text("id,prediction\nt0,0.1\n")
    with pytest.raises(InputError, match=r"missing column\(s\) \['y_pred'\]"):
        read_predictions(path)


def test_inference_sets_must_agree_across_limits(tmp_path):
    files = _write_predictions(tmp_path)
    write_csv(pd.DataFrame({"id": INFERENCE_IDS[:4], "y_pred": [0.1] * 4}), files[8]["inference"])
    with pytest.raises(InputError, match=r"limit_8/seed_0/pred_inference.csv: id 'i4': no prediction"):
        summarize(system="S", family="fam", model="m", predictions=files, test=TEST, settings=SETTINGS)


def test_audit_predictions_must_cover_the_audit_set(tmp_path):
    files = _write_audit_predictions(tmp_path)
    write_csv(pd.DataFrame({"id": INFERENCE_IDS[:2], "y_pred": [0.1, 0.2]}), files[4]["audit"])
    with pytest.raises(InputError, match=r"limit_4/seed_0/pred_audit.csv: id 'i2': no prediction"):
        summarize_audit(system="S", family="fam", model="m", predictions=files, audit=AUDIT, modes=SETTINGS.modes)


def test_test_targets_come_from_splits_and_targets(tmp_path):
    write_csv(pd.DataFrame({"id": ["a", "b", "c"], "n_A5_defects": [0, 0, 2], "split": ["test", "train", "val"]}), tmp_path / "splits.csv")
    write_csv(
        pd.DataFrame({"id": ["c", "b", "a"], "e_above_hull": [0.3, 0.2, 0.1], "e_form": [-0.3, -0.2, -0.1]}), tmp_path / "targets.csv"
    )
    table = read_test_targets(tmp_path / "splits.csv", tmp_path / "targets.csv", "e_form")
    assert table.to_dict("list") == {"id": ["a"], "y_true": [-0.1]}


CONFIG = {
    "systems": {"A": {"dataset": "a", "inference": "b", "audit": "c"}, "B": {"dataset": "a", "inference": "b"}},
    "screening": {"modes": [{"name": "hull", "kind": "threshold", "value": 0.0}, {"name": "top", "kind": "top", "k": 5}]},
    "limits": [0, 2, 4],
    "classical": {"models": ["rf", "lgbm"]},
    "allegro": {"models": ["scratch"], "limits": [0, 4]},
}


def study_of(config: dict, **changes) -> Study:
    return Study.from_config(validate_config(copy.deepcopy(config) | changes))


def test_study_grid_and_rule_inputs_follow_the_config():
    study = study_of(CONFIG)
    assert {f: (study.models(f), study.family_limits(f)) for f in study.families} == {
        "classical": (("rf", "lgbm"), (0, 2, 4)),
        "allegro": (("scratch",), (0, 4)),
    }
    assert study.shared_limits() == [0, 4]  # what cross-family comparisons use
    assert study_of(CONFIG, allegro={"models": [], "limits": [0, 4]}).shared_limits() == [0, 2, 4]
    assert study.has_audit("A") and not study.has_audit("B")
    assert study.mode_names == ["hull", "top"]
    # rule evaluate: test and inference predictions of every limit, splits and the dataset's targets
    inputs = summary_inputs(study, SimpleNamespace(system="A", family="allegro", model="scratch"))
    assert sorted(k for k in inputs if k.startswith("pred_")) == sorted(f"pred_{s}_{x}" for s in ("test", "inference") for x in (0, 4))
    assert inputs["pred_test_4"] == "results/A/allegro/scratch/limit_4/seed_0/pred_test.csv"
    assert inputs["pred_test_4"] == layout.path(
        layout.PREDICTIONS, system="A", family="allegro", model="scratch", limit=4, seed=0, set="test"
    )
    assert inputs["targets"] == "results/A/dataset_targets.csv" and inputs["splits"] == "results/A/splits.csv"
    assert "audit_targets" not in inputs
    # rule evaluate_audit: the audit predictions and labels
    audit = audit_inputs(study, SimpleNamespace(system="A", family="allegro", model="scratch"))
    assert audit == {
        "pred_audit_0": "results/A/allegro/scratch/limit_0/seed_0/pred_audit.csv",
        "pred_audit_4": "results/A/allegro/scratch/limit_4/seed_0/pred_audit.csv",
        "audit_targets": "results/A/audit_targets.csv",
    }
    assert predictions_by_limit({"pred_test_4": "x", "pred_inference_4": "y", "splits": "z"}) == {4: {"test": "x", "inference": "y"}}
    assert predictions_by_limit({k: v for k, v in audit.items() if k.startswith("pred_")}) == {
        0: {"audit": audit["pred_audit_0"]},
        4: {"audit": audit["pred_audit_4"]},
    }
    # rule report_tables: one summary table per model, every (system, family, model)
    report = report_inputs(study)
    assert set(report) == {"rmse_all", "screening_all", "classification_test_all"}
    assert len(report["rmse_all"]) == 2 * 3 and "results/B/classical/lgbm/summary/rmse_by_limit.csv" in report["rmse_all"]
    paths = targets(study)
    assert "results/A/classical/rf/summary/classification_audit.csv" in paths
    assert "results/B/classical/rf/summary/classification_audit.csv" not in paths
    assert "results/B/allegro/scratch/summary/similarity.png" in paths
    assert "results/B/allegro/scratch/summary/screening_vs_limit_top.png" in paths  # one per mode
    assert "results/A/allegro/scratch/summary/audit_cumulative_hull.png" in paths
    assert "results/B/allegro/scratch/summary/audit_cumulative_hull.png" not in paths  # B has no audit set
    assert "results/report/rmse_boxplot.png" in paths
    assert study_of(CONFIG, classical={"models": []}, allegro={"models": [], "limits": None}).grids == {}
    assert targets(study_of(CONFIG, classical={"models": []}, allegro={"models": [], "limits": None})) == []


def test_prediction_files_and_inputs_follow_the_study():
    from qcrobust.predict import prediction_inputs, prediction_targets

    study = study_of(CONFIG)
    files = prediction_targets(study)
    # A: 3 sets, B: 2 sets; per system 2 classical models x 3 limits + 1 Allegro model x 2 limits
    assert len(files) == (3 + 2) * (2 * 3 + 2) and len(set(files)) == len(files)
    assert "results/A/classical/rf/limit_2/seed_0/pred_audit.csv" in files
    assert "results/B/classical/rf/limit_2/seed_0/pred_audit.csv" not in files
    assert "results/B/allegro/scratch/limit_2/seed_0/pred_test.csv" not in files  # Allegro trains on 0 and 4 only
    key = {"system": "A", "model": "rf", "limit": "2", "seed": "0"}
    assert prediction_inputs(study, SimpleNamespace(**key, family="classical", set="test")) == {
        "model": "results/A/classical/rf/limit_2/seed_0/model.joblib",
        "features": "results/A/features/dataset.parquet",
        "splits": "results/A/splits.csv",
    }
    assert prediction_inputs(study, SimpleNamespace(**key, family="classical", set="audit")) == {
        "model": "results/A/classical/rf/limit_2/seed_0/model.joblib",
        "features": "results/A/features/audit.parquet",
    }
    key = {"system": "B", "model": "scratch", "limit": "4", "seed": "0", "family": "allegro"}
    assert prediction_inputs(study, SimpleNamespace(**key, set="inference")) == {
        "model": "results/B/allegro/scratch/limit_4/seed_0/model.nequip.zip",
        "graphs": "results/B/allegro_data/inference.graphs.npz",
    }  # neighbour lists once per system
    assert prediction_inputs(study, SimpleNamespace(**key, set="test"))["structures"] == "results/B/dataset.extxyz"


def test_figures_are_written(summary, tmp_path):
    plots.rmse_vs_limit(summary["rmse_by_limit"], tmp_path / "rmse.png")
    plots.similarity_heatmap(summary["similarity"], tmp_path / "similarity.png", "title", plots.normalizer_text(summary["rmse_by_limit"]))
    assert plots.normalizer_text(summary["rmse_by_limit"]) == f"σ(y_test) = {TEST['y_true'].std(ddof=0):.4f} eV/atom"
    plots.screening_vs_limit(summary["screening_vs_max_limit"], tmp_path / "recall.png")
    plots.overlap_heatmap(summary["overlaps"], tmp_path / "overlaps.png")
    plots.audit_cumulative(summary["audit_cumulative"], tmp_path / "cumulative.png")
    two_families = pd.concat([summary["rmse_by_limit"], summary["rmse_by_limit"].assign(family="other", model="n")])
    plots.rmse_boxplots(two_families, tmp_path / "box.png", limits=[0, 8])
    for name in ("rmse", "similarity", "recall", "overlaps", "box", "cumulative"):
        data = (tmp_path / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    # no timestamp in the PNG: redrawing gives the same bytes
    plots.similarity_heatmap(summary["similarity"], tmp_path / "again.png", "title", plots.normalizer_text(summary["rmse_by_limit"]))
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "similarity.png").read_bytes()
    assert np.isfinite(summary["similarity"].drop(columns="limit").to_numpy()).all()


# --- end to end: features -> classical -> evaluation through the real workflow ---
# on a private copy of the small study's run (tests/conftest.py: rf and lgbm at limits 0, 4, 8 and
# Allegro's scratch regime at 8, two systems); tests/test_incremental.py reruns it after changes


@pytest.fixture(scope="module")
def classical_study(small_study_run, tmp_path_factory):
    """A copy of the small study's finished run; returns (config, workdir)."""
    from conftest import copy_study

    config = copy_study(small_study_run, tmp_path_factory.mktemp("classical") / "work")
    return config, config.parent


def _result(workdir, pattern, **values):
    return workdir / layout.path(pattern, **values)


@pytest.mark.workflow
def test_workflow_writes_predictions_metrics_summaries_and_report(classical_study):
    import json

    from qcrobust.metrics import regression_scores

    _, workdir = classical_study
    limits = [0, 4, 8]
    for system in ("CuPt", "CuPd"):
        features = pd.read_parquet(_result(workdir, layout.FEATURES, system=system, set="dataset"))
        targets_table = pd.read_csv(_result(workdir, layout.TARGETS, system=system, set="dataset"), dtype={"id": str})
        assert list(features["id"]) == list(targets_table["id"])
        assert any(c.startswith("ce_") for c in features.columns) and any(c.startswith("env_") for c in features.columns)
        space = json.loads(_result(workdir, layout.FEATURE_SPACE, system=system).read_text())
        for name in ("dataset", "inference", "audit"):  # every set's table in the system's one column set
            table = pd.read_parquet(_result(workdir, layout.FEATURES, system=system, set=name))
            assert list(table.columns) == ["id", *space["columns"]]
        splits = pd.read_csv(_result(workdir, layout.SPLITS, system=system), dtype={"id": str})
        truth = targets_table.set_index("id")["e_above_hull"]
        for model in ("rf", "lgbm"):
            rmse = pd.read_csv(
                _result(workdir, layout.SUMMARY_TABLE, system=system, family="classical", model=model, table="rmse_by_limit")
            )
            assert rmse["limit"].tolist() == limits
            for limit in limits:
                key = {"system": system, "family": "classical", "model": model, "limit": limit, "seed": 0}
                test = pd.read_csv(_result(workdir, layout.PREDICTIONS, **key, set="test"), dtype={"id": str})
                assert list(test["id"]) == list(splits.loc[splits["split"] == "test", "id"])
                metrics = json.loads(_result(workdir, layout.METRICS, **key).read_text())
                members = splits[(splits["split"] != "test") & (splits["n_A5_defects"] <= limit)]
                assert (metrics["n_train"], metrics["n_val"]) == ((members["split"] == "train").sum(), (members["split"] == "val").sum())
                assert "rmse" not in metrics and metrics["cv_rmse"] > 0 and metrics["model"] == model
                # the test RMSE is the evaluation's, from the test predictions
                scored = regression_scores(truth.loc[test["id"]].to_numpy(), test["y_pred"].to_numpy())["rmse"]
                assert rmse.set_index("limit").loc[limit, "rmse"] == pytest.approx(scored)
                assert 0 < scored < 0.2
                assert _result(workdir, layout.PREDICTIONS, **key, set="audit").is_file()
                assert (workdir / layout.model_file(**key)).stat().st_size > 0
            summary = _result(workdir, layout.SUMMARY_DIR, system=system, family="classical", model=model)
            assert {p.name for p in summary.glob("*.png")} == {"rmse_vs_limit.png", "similarity.png"} | {
                f"{kind}_{mode}.png"
                for kind in ("screening_vs_limit", "overlaps", "audit_cumulative")
                for mode in ("below_hull", "window_25meV", "top_5pct")
            }
            assert (summary / "classification_audit.csv").is_file()
    rmse_all = pd.read_csv(_result(workdir, layout.REPORT_TABLE, name="rmse_all"))
    # 2 systems x (2 classical models x 3 limits + Allegro's scratch at 8)
    assert len(rmse_all) == 2 * (2 * 3 + 1) and set(rmse_all["family"]) == {"classical", "allegro"}
    assert _result(workdir, layout.REPORT_FIGURE, name="rmse_boxplot").stat().st_size > 5000


@pytest.mark.workflow
def test_rerun_gives_byte_identical_predictions_and_nothing_left_to_do(classical_study):
    from conftest import run_workflow

    config, workdir = classical_study
    key = {"system": "CuPd", "family": "classical", "model": "lgbm", "limit": 4, "seed": 0}
    folder = _result(workdir, layout.MODEL_DIR, **key)
    before = {p.name: p.read_bytes() for p in folder.glob("pred_*.csv")}
    assert set(before) == {"pred_test.csv", "pred_inference.csv", "pred_audit.csv"}
    for path in folder.iterdir():
        path.unlink()
    # the model is retrained, then predicts again
    run_workflow(config, workdir, layout.path(layout.PREDICTIONS, **key, set="test"))
    assert (workdir / layout.model_file(**key)).is_file()
    run_workflow(config, workdir)  # the other sets' predictions and the summaries downstream
    assert {p.name: p.read_bytes() for p in folder.glob("pred_*.csv")} == before
    proc = run_workflow(config, workdir, "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_summary_tables_match_their_schemas_and_violations_name_the_row(summary, tmp_path):
    from qcrobust.evaluate import TABLE_SCHEMAS, write_tables
    from qcrobust.tables import check_table

    outputs = {name: tmp_path / f"{name}.csv" for name in summary}
    write_tables(summary, outputs)
    assert all(path.is_file() for path in outputs.values())
    broken = summary["overlaps"].copy()
    broken.loc[5, "share_of_i"] = 1.5
    with pytest.raises(
        InputError, match=r"overlaps.csv: row 5: does not match overlaps.schema.yaml: share_of_i: 1.5 is greater than the maximum of 1"
    ):
        check_table(broken, TABLE_SCHEMAS["overlaps"], "overlaps.csv")
    extra = summary["rmse_by_limit"].assign(surprise=1.0)
    with pytest.raises(InputError, match=r"Additional properties are not allowed \('surprise' was unexpected\)"):
        check_table(extra, "rmse_by_limit", "rmse_by_limit.csv")
    bad_kind = summary["rmse_by_limit"].copy()
    bad_kind.loc[2, "normalizer_kind"] = "median"
    with pytest.raises(InputError, match=r"row 2: does not match rmse_by_limit.schema.yaml: normalizer_kind: 'median' is not one of"):
        check_table(bad_kind, "rmse_by_limit", "rmse_by_limit.csv")
    # nothing is written when one table fails
    fresh = tmp_path / "fresh"
    with pytest.raises(InputError):
        write_tables(
            {"rmse_by_limit": summary["rmse_by_limit"], "overlaps": broken}, {"rmse_by_limit": fresh / "a.csv", "overlaps": fresh / "b.csv"}
        )
    assert not fresh.exists()
