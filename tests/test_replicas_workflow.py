"""Replicas in the workflow (config replicas, issue 14): the seed is a wildcard of the layout,
the base seed reproduces the study without replicas byte for byte, and the noise tables and the
findings against the noise are made from the replicas."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import SMALL_STUDY, make_self_contained_study, run_workflow

from qcrobust import layout
from qcrobust.config import load_config
from qcrobust.predict import predict_set, prediction_inputs, write_predictions
from qcrobust.study import Study

pytestmark = pytest.mark.workflow

REPLICAS = {"classical": {"seeds": 3, "limits": [0, 8]}}


@pytest.fixture(scope="module")
def replica_run(tmp_path_factory):
    """The small study's classical rf, with 3 seeds at limits 0 and 8 and one at 4."""
    folder = tmp_path_factory.mktemp("replicas") / "work"
    settings = SMALL_STUDY | {"classical": SMALL_STUDY["classical"] | {"models": ["rf"]}, "allegro": {"models": []}}
    config = make_self_contained_study(folder, **settings, replicas=REPLICAS)
    run_workflow(config, folder)
    return folder, Study.from_config(load_config(config))


def test_seeds_are_trained_where_the_config_puts_them(replica_run):
    folder, study = replica_run
    assert study.seeds("classical", "rf", 8) == (0, 1, 2) and study.seeds("classical", "rf", 4) == (0,)
    for system in study.systems:
        for limit, seeds in ((0, 3), (4, 1), (8, 3)):
            found = sorted(
                (folder / layout.path(layout.MODEL_DIR, system=system, family="classical", model="rf", limit=limit, seed=0)).parent.glob(
                    "seed_*"
                )
            )
            assert [p.name for p in found] == [f"seed_{s}" for s in range(seeds)]
    # a replica predicts what is read of it (test, inference), the base seed also the audit set
    replica = folder / layout.path(layout.PREDICTIONS, system="CuPt", family="classical", model="rf", limit=8, seed=1, set="audit")
    assert not replica.exists() and replica.with_name("pred_test.csv").exists() and replica.with_name("pred_inference.csv").exists()
    assert (folder / layout.path(layout.PREDICTIONS, system="CuPt", family="classical", model="rf", limit=8, seed=0, set="audit")).exists()


def test_a_replica_predicts_test_and_inference_in_one_job(replica_run, tmp_path):
    """Rule predict_replica writes a replica's two prediction files, the bytes rule predict's
    step (qcrobust.predict.predict_set) gives each set."""
    folder, study = replica_run
    key = {"system": "CuPt", "family": "classical", "model": "rf", "limit": 8, "seed": 1}
    text = (folder / layout.log("{system}/{family}/{model}/limit_{limit}_seed_{seed}_predict_replica", **key)).read_text()
    assert "test predictions" in text and "inference predictions" in text
    for name in ("test", "inference"):
        inputs = prediction_inputs(study, SimpleNamespace(**key, set=name))
        write_predictions(predict_set("classical", name, {k: str(folder / v) for k, v in inputs.items()}), tmp_path / f"{name}.csv")
        assert (folder / layout.path(layout.PREDICTIONS, **key, set=name)).read_bytes() == (tmp_path / f"{name}.csv").read_bytes()


def test_the_base_seed_is_the_study_without_replicas_byte_for_byte(replica_run, small_study_run):
    folder, study = replica_run
    key = {"system": "CuPt", "family": "classical", "model": "rf", "seed": 0}
    for limit in (0, 4, 8):
        for set_name in ("test", "inference", "audit"):
            name = layout.path(layout.PREDICTIONS, **key, limit=limit, set=set_name)
            assert (folder / name).read_bytes() == (small_study_run / name).read_bytes(), name
    other = layout.path(layout.PREDICTIONS, **key | {"seed": 1}, limit=8, set="inference")
    assert (folder / other).read_bytes() != (folder / name.replace("pred_audit", "pred_inference")).read_bytes()
    summary = layout.path(layout.SUMMARY_TABLE, system="CuPt", family="classical", model="rf", table="rmse_by_limit")
    assert (folder / summary).read_bytes() == (small_study_run / summary).read_bytes()


def test_noise_tables_compare_the_replica_limits(replica_run):
    folder, study = replica_run
    key = {"system": "CuPt", "family": "classical", "model": "rf"}
    noise = pd.read_csv(folder / layout.path(layout.SUMMARY_TABLE, **key, table="noise"))
    assert set(zip(noise["limit_i"], noise["limit_j"])) == {(0, 8)}
    assert set(noise["quantity"]) == {"rmse", "similarity", "jaccard"}
    assert set(noise.loc[noise["quantity"] == "jaccard", "mode"]) == set(study.mode_names)
    assert (noise["n_seeds"] == 3).all() and list(noise["min_p"]) == pytest.approx([0.1] * len(noise))
    assert noise["verdict"].isin(["beyond noise", "within noise"]).all()
    scores = pd.read_csv(folder / layout.path(layout.SUMMARY_TABLE, **key, table="replica_scores"))
    assert sorted(zip(scores["limit"], scores["seed"])) == [(x, s) for x in (0, 8) for s in (0, 1, 2)]
    rmse = pd.read_csv(folder / layout.path(layout.SUMMARY_TABLE, **key, table="rmse_by_limit"))
    base = scores[scores["seed"] == 0].set_index("limit")["rmse"]
    assert base.to_dict() == pytest.approx(rmse.set_index("limit").loc[[0, 8], "rmse"].to_dict(), rel=1e-12)
    for name in ["noise_rmse", "noise_similarity"] + [f"noise_jaccard_{m}" for m in study.mode_names]:
        assert (folder / layout.path(layout.SUMMARY_FIGURE, **key, figure=name)).stat().st_size > 0


def test_findings_state_the_verdict_against_the_noise(replica_run):
    folder, _ = replica_run
    findings = pd.read_csv(folder / layout.path(layout.REPORT_TABLE, name="findings_noise"))
    rf = findings[(findings["model"] == "rf") & (findings["finding"] == "a")]
    assert set(rf["system"]) == {"CuPt", "CuPd"}
    # 3 seeds can decide; only a mode in which no seed selects anything stays undetermined
    decided = rf["verdict"].isin(["holds", "fails", "within retraining noise"])
    assert rf.loc[~decided, "numbers"].str.contains("no seed selects anything").all() and decided.any()
    page = (folder / layout.FINDINGS).read_text()
    assert "Against the retraining noise" in page and "(a)" in page
    # every screen of every seed counts in the candidates (3 + 1 + 3 rf models per system)
    candidates = pd.read_csv(folder / layout.path(layout.CANDIDATES, system="CuPt"))
    assert set(candidates.loc[candidates["status"] == "screened", "n_screens"]) == {7}
