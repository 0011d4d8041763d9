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
from qcrobust.io import write_csv
from qcrobust.predict import predict_set, read_predictions
from qcrobust.study import Study
from qcrobust.workflow.predict import decode_inputs, prediction_inputs

pytestmark = pytest.mark.workflow

REPLICAS = {"classical": {"seeds": 3, "limits": [0, 8]}}
# 3 seeds reach p = 0.1 at best: alpha 0.1 lets them decide (the default 0.05 cannot; tests/test_replicas.py)
VERDICTS = {"alpha": 0.1}


@pytest.fixture(scope="module")
def replica_run(tmp_path_factory):
    """The small study's classical rf, with 3 seeds at limits 0 and 8 and one at 4."""
    folder = tmp_path_factory.mktemp("replicas") / "work"
    settings = SMALL_STUDY | {"classical": SMALL_STUDY["classical"] | {"models": ["rf"]}, "allegro": {"models": []}}
    config = make_self_contained_study(folder, **settings, replicas=REPLICAS, verdicts=VERDICTS)
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
    tables = {
        name: read_predictions(folder / layout.path(layout.PREDICTIONS, system="CuPt", family="classical", model="rf", set=name))
        for name in ("test", "inference", "audit")
    }
    every = [(0, 0), (0, 1), (0, 2), (4, 0), (8, 0), (8, 1), (8, 2)]
    assert list(tables["test"]) == list(tables["inference"]) == every and list(tables["audit"]) == [(0, 0), (4, 0), (8, 0)]


def test_each_models_block_is_what_a_job_of_its_own_writes(replica_run, tmp_path):
    """Rule predict predicts every model of (system, family, model) in one job: each (limit,
    seed) block holds the bits that model alone gives the set (qcrobust.predict.predict_set)."""
    folder, study = replica_run
    key = {"system": "CuPt", "family": "classical", "model": "rf"}
    text = (folder / layout.log("{system}/{family}/{model}/predict", **key)).read_text()
    assert "limit 8 seed 1: test + inference predicted in" in text and "7 models" in text
    models, sets = decode_inputs(prediction_inputs(study, SimpleNamespace(**key)))
    for name in ("test", "inference"):
        table = pd.read_csv(folder / layout.path(layout.PREDICTIONS, **key, set=name), dtype={"id": str})
        for limit, seed in [(8, 1), (4, 0)]:
            alone = predict_set(
                "classical", name, {k: str(folder / v) for k, v in sets[name].items()} | {"model": folder / models[(limit, seed)]}
            )
            write_csv(alone, tmp_path / "alone.csv")
            block = table[(table["limit"] == limit) & (table["seed"] == seed)].drop(columns=["limit", "seed"])
            write_csv(block.reset_index(drop=True), tmp_path / "block.csv")
            assert (tmp_path / "alone.csv").read_bytes() == (tmp_path / "block.csv").read_bytes()


def test_the_base_seed_is_the_study_without_replicas_byte_for_byte(replica_run, small_study_run):
    folder, study = replica_run
    key = {"system": "CuPt", "family": "classical", "model": "rf"}
    for set_name in ("test", "inference", "audit"):
        name = layout.path(layout.PREDICTIONS, **key, set=set_name)
        with_replicas = pd.read_csv(folder / name, dtype={"id": str})
        without = pd.read_csv(small_study_run / name, dtype={"id": str})
        pd.testing.assert_frame_equal(with_replicas[with_replicas["seed"] == 0].reset_index(drop=True), without)
    inference = read_predictions(folder / layout.path(layout.PREDICTIONS, **key, set="inference"))
    assert not inference[(8, 1)].table.equals(inference[(8, 0)].table)
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
    assert noise["verdict"].isin(["beyond noise", "within noise"]).all() and set(noise["alpha"]) == {0.1}
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
    assert set(findings["alpha"]) == {0.1} and rf["min_p"].tolist() == pytest.approx([0.1] * len(rf))  # the config reaches the findings
    page = (folder / layout.FINDINGS).read_text()
    assert "Against the retraining noise" in page and "(a)" in page
    # every screen of every seed counts in the candidates (3 + 1 + 3 rf models per system)
    candidates = pd.read_csv(folder / layout.path(layout.CANDIDATES, system="CuPt"))
    assert set(candidates.loc[candidates["status"] == "screened", "n_screens"]) == {7}
