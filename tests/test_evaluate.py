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
    predictions_by_limit,
    read_test_targets,
    summarize,
    summarize_audit,
)
from qcrobust.io import write_csv
from qcrobust.predict import of_seed, read_predictions
from qcrobust.screening import ScreeningMode
from qcrobust.study import Study
from qcrobust.workflow.evaluate import audit_inputs, report_inputs, summary_inputs, targets

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


def _prediction_path(folder, name):
    return folder / layout.path(layout.PREDICTIONS, system="S", family="fam", model="m", set=name)


def _write_table(folder, name, blocks) -> str:
    """A prediction table of seed 0: ``blocks`` limit -> (ids, values), rows of each block reversed
    (the evaluation matches by id, not by position)."""
    path = _prediction_path(folder, name)
    parts = [
        pd.DataFrame({"limit": limit, "seed": 0, "id": list(ids)[::-1], "y_pred": list(values)[::-1]})
        for limit, (ids, values) in blocks.items()
    ]
    write_csv(pd.concat(parts, ignore_index=True), path)
    return str(path)


def _write_predictions(folder, predictions=PREDICTIONS):
    """Test and inference predictions per limit (rule evaluate's)."""
    paths = {
        "test": _write_table(folder, "test", {limit: (TEST["id"], test) for limit, (test, _) in predictions.items()}),
        "inference": _write_table(
            folder, "inference", {limit: (INFERENCE_IDS, inference) for limit, (_, inference) in predictions.items()}
        ),
    }
    return predictions_by_limit(paths, seed=0)


def _write_audit_predictions(folder, predictions=PREDICTIONS):
    """Audit predictions per limit (rule evaluate_audit's): the audit set is i0-i2, predicted as in inference."""
    path = _write_table(folder, "audit", {limit: (INFERENCE_IDS[:3], inference[:3]) for limit, (_, inference) in predictions.items()})
    return predictions_by_limit({"audit": path}, seed=0)


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


def test_prediction_table_problems_name_file_model_and_id(tmp_path):
    path = tmp_path / "predictions_test.csv"

    def write(rows, columns=("limit", "seed", "id", "y_pred")):
        path.write_text(",".join(columns) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))

    write([(4, 1, "t0", 0.1), (4, 1, "t1", 0.2), (4, 1, "t2", 0.3)])
    block = read_predictions(path)[(4, 1)]
    with pytest.raises(InputError, match=r"predictions_test.csv: limit 4, seed 1, id 't3': no prediction \(1 of 4 ids missing\)"):
        block.aligned(TEST["id"])
    write([(4, 1, t, 0.1) for t in [*TEST["id"], "x"]])
    with pytest.raises(InputError, match=r"limit 4, seed 1, id 'x': not in the set being predicted"):
        read_predictions(path)[(4, 1)].aligned(TEST["id"])
    write([(0, 0, "t0", 0.1), (0, 0, "t0", 0.2)])
    with pytest.raises(InputError, match=r"predictions_test.csv: limit 0, seed 0, id 't0': duplicate id"):
        read_predictions(path)
    write([(0, 0, "t0", 0.1), (0, 1, "t0", 0.2), (4, 0, "t0", 0.3)])  # one id per model: fine
    assert sorted(read_predictions(path)) == [(0, 0), (0, 1), (4, 0)]
    write([(0, 0, "t0", 0.1), (0, 0, "t1", "nan")])
    with pytest.raises(InputError, match=r"limit 0, seed 0, id 't1': y_pred is not a finite number"):
        read_predictions(path)
    write([(0, 0, "t0", 0.1)], columns=("limit", "seed", "id", "prediction"))
    with pytest.raises(InputError, match=r"missing column\(s\) \['y_pred'\]"):
        read_predictions(path)
    with pytest.raises(InputError, match=r"no predictions of seed 3"):
        of_seed({}, 3, path)


def test_inference_sets_must_agree_across_limits(tmp_path):
    _write_predictions(tmp_path)
    path = _prediction_path(tmp_path, "inference")
    table = pd.read_csv(path, dtype={"id": str})
    write_csv(table[~((table["limit"] == 8) & (table["id"] == "i4"))], path)
    files = predictions_by_limit({"test": _prediction_path(tmp_path, "test"), "inference": path}, seed=0)
    with pytest.raises(InputError, match=r"predictions_inference.csv: limit 8, seed 0, id 'i4': no prediction"):
        summarize(system="S", family="fam", model="m", predictions=files, test=TEST, settings=SETTINGS)


def test_audit_predictions_must_cover_the_audit_set(tmp_path):
    _write_audit_predictions(tmp_path)
    path = _prediction_path(tmp_path, "audit")
    table = pd.read_csv(path, dtype={"id": str})
    write_csv(table[~((table["limit"] == 4) & (table["id"] == "i2"))], path)
    with pytest.raises(InputError, match=r"predictions_audit.csv: limit 4, seed 0, id 'i2': no prediction"):
        summarize_audit(
            system="S", family="fam", model="m", predictions=predictions_by_limit({"audit": path}, 0), audit=AUDIT, modes=SETTINGS.modes
        )


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
    # rule evaluate: the model's test and inference prediction tables, splits and the dataset's targets
    inputs = summary_inputs(study, SimpleNamespace(system="A", family="allegro", model="scratch"))
    assert inputs == {
        "test": "results/A/allegro/scratch/predictions_test.csv",
        "inference": layout.path(layout.PREDICTIONS, system="A", family="allegro", model="scratch", set="inference"),
        "targets": "results/A/dataset_targets.csv",
        "splits": "results/A/splits.csv",
    }
    # rule evaluate_audit: the audit predictions and labels
    audit = audit_inputs(study, SimpleNamespace(system="A", family="allegro", model="scratch"))
    assert audit == {"audit": "results/A/allegro/scratch/predictions_audit.csv", "audit_targets": "results/A/audit_targets.csv"}
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
    from qcrobust.workflow.predict import decode_inputs, prediction_inputs, prediction_targets

    study = study_of(CONFIG, replicas={"classical": {"seeds": 2, "limits": [0, 4]}})
    files = prediction_targets(study)
    # one table per (system, family, model) and set: A 3 sets, B 2, each 2 classical + 1 Allegro model
    assert len(files) == (3 + 2) * 3 and len(set(files)) == len(files)
    assert "results/A/classical/rf/predictions_audit.csv" in files and "results/B/classical/rf/predictions_audit.csv" not in files
    wildcards = SimpleNamespace(system="A", family="classical", model="rf")
    models, sets = decode_inputs(prediction_inputs(study, wildcards))
    # rule predict: every trained (limit, seed) -- replicas (seed 1) at 0 and 4 -- on test and inference
    assert models == {
        (x, s): f"results/A/classical/rf/limit_{x}/seed_{s}/model.joblib" for x, s in [(0, 0), (0, 1), (2, 0), (4, 0), (4, 1)]
    }
    assert sets == {
        "test": {"features": "results/A/features/dataset.parquet", "splits": "results/A/splits.csv"},
        "inference": {"features": "results/A/features/inference.parquet"},
    }
    # rule predict_audit: the base seed only, on the audit set
    models, sets = decode_inputs(prediction_inputs(study, wildcards, ("audit",)))
    assert sorted(models) == [(0, 0), (2, 0), (4, 0)] and sets == {"audit": {"features": "results/A/features/audit.parquet"}}
    models, sets = decode_inputs(prediction_inputs(study, SimpleNamespace(system="B", family="allegro", model="scratch")))
    assert models == {
        (x, 0): f"results/B/allegro/scratch/limit_{x}/seed_0/model.nequip.zip" for x in (0, 4)
    }  # Allegro trains on 0 and 4 only
    assert sets["inference"] == {"graphs": "results/B/allegro_data/inference.graphs.npz"}  # neighbour lists once per system
    assert sets["test"] == {"structures": "results/B/dataset.extxyz", "splits": "results/B/splits.csv"}


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
            tables = {
                name: read_predictions(_result(workdir, layout.PREDICTIONS, system=system, family="classical", model=model, set=name))
                for name in ("test", "inference", "audit")
            }
            assert sorted(tables["test"]) == sorted(tables["inference"]) == [(x, 0) for x in limits] == sorted(tables["audit"])
            for limit in limits:
                key = {"system": system, "family": "classical", "model": model, "limit": limit, "seed": 0}
                test = tables["test"][(limit, 0)].table
                assert list(test["id"]) == list(splits.loc[splits["split"] == "test", "id"])
                metrics = json.loads(_result(workdir, layout.METRICS, **key).read_text())
                members = splits[(splits["split"] != "test") & (splits["n_A5_defects"] <= limit)]
                assert (metrics["n_train"], metrics["n_val"]) == ((members["split"] == "train").sum(), (members["split"] == "val").sum())
                assert "rmse" not in metrics and metrics["cv_rmse"] > 0 and metrics["model"] == model
                # the test RMSE is the evaluation's, from the test predictions
                scored = regression_scores(truth.loc[test["id"]].to_numpy(), test["y_pred"].to_numpy())["rmse"]
                assert rmse.set_index("limit").loc[limit, "rmse"] == pytest.approx(scored)
                assert 0 < scored < 0.2
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
    tables = {name: _result(workdir, layout.PREDICTIONS, **key, set=name) for name in ("test", "inference", "audit")}
    before = {name: path.read_bytes() for name, path in tables.items()}
    folder = _result(workdir, layout.MODEL_DIR, **key)
    for path in [*folder.iterdir(), *tables.values()]:
        path.unlink()
    # the model is retrained, then its (system, family, model) predicts again
    run_workflow(config, workdir, str(tables["test"].relative_to(workdir)))
    assert (workdir / layout.model_file(**key)).is_file()
    run_workflow(config, workdir)  # the audit predictions and the summaries downstream
    assert {name: path.read_bytes() for name, path in tables.items()} == before
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
