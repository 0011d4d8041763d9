"""The real workflow, end to end, on the synthetic fixture study."""

from __future__ import annotations

import ase.io
import pandas as pd
import pytest
import yaml
from conftest import edit_config, run_workflow

from qcrobust import layout
from qcrobust.config import load_config
from qcrobust.study import Study

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def finished_study(fixture_study_template, tmp_path_factory):
    """One complete run (rule all) of the fixture study's every model and regime but the external
    one, on its first system (the small study runs both systems: tests/conftest.py); returns
    (config, workdir)."""
    workdir = tmp_path_factory.mktemp("run")
    config = yaml.safe_load(fixture_study_template.read_text())
    first = next(iter(config["systems"]))
    config["systems"] = {first: config["systems"][first]}
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    run_workflow(path, workdir)
    return path, workdir


def test_ingest_and_split_outputs(finished_study):
    config_path, workdir = finished_study
    config = yaml.safe_load(config_path.read_text())
    for system in config["systems"]:
        results = workdir / "results" / system
        frames = ase.io.read(results / "dataset.extxyz", ":")
        targets = pd.read_csv(workdir / layout.path(layout.TARGETS, system=system, set="dataset"), dtype={"id": str})
        splits = pd.read_csv(results / "splits.csv", dtype={"id": str})
        assert [a.info["id"] for a in frames] == list(targets.id)
        assert set(splits.id) == set(targets.id)
        assert (splits.split == "test").sum() == config["split"]["test_size"]
        assert (splits[splits.split == "test"].n_A5_defects == 0).all()
        sizes = pd.read_csv(results / "limit_sizes.csv")
        assert list(sizes.limit) == config["limits"]
        assert sizes.n_train.is_monotonic_increasing and sizes.n_val.is_monotonic_increasing
        assert sizes.n_train.iloc[-1] + sizes.n_val.iloc[-1] + sizes.n_test.iloc[-1] == len(targets)
        assert f"{system} dataset: {len(frames)} frames" in (workdir / layout.log("{system}/ingest_dataset", system=system)).read_text()
        assert len(pd.read_csv(results / "audit_targets.csv")) == len(ase.io.read(results / "audit.extxyz", ":"))


def test_every_model_predicts_every_set_through_one_rule(finished_study):
    """Both families' saved models predict test, inference and audit with rules predict and
    predict_audit, one job per (system, family, model); the test predictions cover exactly the
    test split, in its order."""
    from qcrobust.predict import read_predictions

    config_path, workdir = finished_study
    study = Study.from_config(load_config(config_path))
    trained = list(study.trained())
    assert {key["family"] for key in trained} == {"classical", "allegro"}
    for system, family, model in study.model_keys():
        key = {"system": system, "family": family, "model": model}
        splits = pd.read_csv(workdir / layout.path(layout.SPLITS, system=system), dtype={"id": str})
        models = [(k["limit"], k["seed"]) for k in study.trained(system) if k["family"] == family and k["model"] == model]
        for set_name in ("test", "inference", "audit"):
            blocks = read_predictions(workdir / layout.path(layout.PREDICTIONS, **key, set=set_name))
            assert list(blocks) == models, (key, set_name)
            if set_name == "test":
                assert all(list(b.table["id"]) == list(splits.loc[splits["split"] == "test", "id"]) for b in blocks.values())
        assert f"{len(models)} models" in (workdir / layout.log("{system}/{family}/{model}/predict", **key)).read_text()
        assert "audit predictions" in (workdir / layout.log("{system}/{family}/{model}/predict_audit", **key)).read_text()
    for key in trained:
        metrics = yaml.safe_load((workdir / layout.path(layout.METRICS, **key)).read_text())
        assert "rmse" not in metrics  # training never scores the test set


def test_rerun_with_nothing_changed_runs_no_job(finished_study):
    config_path, workdir = finished_study
    proc = run_workflow(config_path, workdir, "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def _break_frame(path, key, value):
    frames = ase.io.read(path, ":")
    frames[3].info[key] = value
    ase.io.write(path, frames, format="extxyz")


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("odd_defects", "frame 3 (id='CuPt-0003'): 'n_A5_defects' = 3 is not a multiple of defect_step = 2"),
        ("config_type", "'lots' is not of type 'integer'"),
        # decided at start, from the frame headers, before any job
        ("too_few_limit0", "CuPt_dataset.extxyz: only 16 limit-0 structures (n_A5_defects = 0), fewer than split.test_size = 500"),
    ],
)
def test_bad_input_stops_the_run_with_one_clear_message(fixture_study, tmp_path, breakage, message):
    config = yaml.safe_load(fixture_study.read_text())
    if breakage == "odd_defects":
        broken = tmp_path / "broken.extxyz"
        broken.write_text(open(config["systems"]["CuPt"]["dataset"]).read())
        _break_frame(broken, "n_A5_defects", 3)
        config["systems"]["CuPt"]["dataset"] = str(broken)
        edit_config(fixture_study, systems=config["systems"])
    elif breakage == "config_type":
        edit_config(fixture_study, split={**config["split"], "test_size": "lots"})
    else:
        edit_config(fixture_study, split={**config["split"], "test_size": 500})
    workdir = tmp_path / "run"
    proc = run_workflow(fixture_study, workdir, "results/CuPt/splits.csv", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    # nothing half-written: the failing stage left no output behind
    assert not (workdir / "results" / "CuPt" / "splits.csv").exists()
    if breakage == "odd_defects":
        assert not (workdir / "results" / "CuPt" / "dataset.extxyz").exists()


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("unknown_element", "{inference}: frame 2 (id={id!r}): element(s) ['Ag'] absent from the labeled dataset"),
        # decided at start, from the frame headers (the job would say it too, without the detail)
        (
            "too_many_folds",
            "{dataset}: limit 0: only 10 train+val structures (n_A5_defects <= 0, less the 6 test ones), fewer than classical.folds = 11",
        ),
    ],
)
def test_bad_data_stops_the_run_before_any_model_trains_naming_the_users_file(fixture_study, tmp_path, breakage, message):
    config = yaml.safe_load(fixture_study.read_text())
    spec = config["systems"]["CuPt"]
    unknown_id = None
    if breakage == "unknown_element":  # Ag has a reference energy, but no labeled structure holds Ag
        frames = ase.io.read(spec["inference"], ":")
        frames[2].symbols[0] = "Ag"
        unknown_id = frames[2].info["id"]
        spec["inference"] = str(tmp_path / "inference.extxyz")
        ase.io.write(spec["inference"], frames, format="extxyz")
        spec["references"] = {"Ag": -2.8}
        edit_config(fixture_study, systems=config["systems"])
    else:
        edit_config(fixture_study, classical={**config["classical"], "folds": 11})
    workdir = tmp_path / "run"
    proc = run_workflow(fixture_study, workdir, "results/CuPt/classical/rf/limit_8/seed_0/metrics.json", check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert message.format(**spec, id=unknown_id) in output
    assert "no reference energy" not in output  # the dataset's ingest no longer reports the inference file too
    assert f"{layout.path(layout.TARGETS, system='CuPt', set='dataset')}:" not in output and "splits.csv:" not in output
    assert not (workdir / "results" / "CuPt" / "classical").exists()  # no model started


@pytest.mark.parametrize(
    "change, message",
    [
        ({"limitz": [0, 2]}, "key 'limitz': unknown key; did you mean 'limits'?"),
        ({"limits": [0, 3, 6]}, "key 'limits': 3 is not a multiple of defect_step = 2"),
    ],
)
def test_config_error_is_one_line_not_the_schema(fixture_study, tmp_path, change, message):
    edit_config(fixture_study, **change)
    proc = run_workflow(fixture_study, tmp_path / "run", "--dry-run", check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert f"{fixture_study}: {message}" in output
    assert "Failed validating" not in output and len(output.splitlines()) < 12, output
