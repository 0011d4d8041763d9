"""The Allegro rules in the DAG (dry runs on the fixture study: seconds, no training)."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import edit_config, run_workflow

pytestmark = pytest.mark.workflow

SMALL = {"limits": [0, 8]}


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def dry_run(config, tmp_path, **allegro):
    edit_config(config, allegro=SMALL | allegro)
    proc = run_workflow(config, tmp_path / "work", "--dry-run", check=False)
    return proc, proc.stdout + proc.stderr


def test_every_model_of_the_grid_is_scheduled_once(fixture_study, tmp_path):
    proc, out = dry_run(fixture_study, tmp_path)
    assert proc.returncode == 0, out[-3000:]
    counts = job_counts(out)
    systems = len(yaml.safe_load(fixture_study.read_text())["systems"])
    assert counts["allegro_train"] == systems * 3 * 2
    # one prediction job per (system, family, model) for test + inference, one for the audit set
    # (every fixture system has one): 3 Allegro regimes + 4 classical models
    assert counts["predict"] == counts["predict_audit"] == systems * (3 + 4)
    assert counts["allegro_self_pretrain"] == systems * 1  # limit 8 only: self at limit 0 copies scratch
    assert counts["allegro_data"] == systems * 2 and counts["allegro_self_data"] == systems
    assert counts["allegro_species"] == systems and counts["allegro_graphs"] == systems
    assert counts["allegro_pretrain"] == 1 and counts["allegro_corpus"] == 1  # once, not per system
    assert "gpu=" not in out  # CPU training asks for no GPU


def job_blocks(output: str) -> list[tuple[str, str, str]]:
    """(rule, output line, resources line) of every job of a dry run."""
    # (a dry run prints a group's jobs indented under "Group job ...")
    blocks = re.split(r"\n(?=\s*(?:local)?rule \w+:)", output)
    jobs = []
    for block in blocks:
        name = re.match(r"\s*(?:local)?rule (\w+):", block)
        if name:
            out = re.search(r"output: (.*)", block)
            res = re.search(r"resources: (.*)", block)
            jobs.append((name.group(1), out.group(1) if out else "", res.group(1) if res else ""))
    return jobs


def test_cuda_training_and_allegro_prediction_jobs_request_one_gpu(fixture_study, tmp_path):
    proc, out = dry_run(fixture_study, tmp_path, device="cuda")
    assert proc.returncode == 0, out[-3000:]
    trainings = ("allegro_train", "allegro_pretrain", "allegro_self_pretrain")
    seen = predictions = 0
    for rule, outputs, resources in job_blocks(out):
        copies_scratch = "/self/limit_0/" in outputs  # self at limit 0 copies the scratch model
        allegro_prediction = rule in ("predict", "predict_audit") and "/allegro/" in outputs
        wants_gpu = (rule in trainings and not copies_scratch) or allegro_prediction
        assert ("gpu=1" in resources) == wants_gpu, (rule, outputs, resources)
        if rule in ("predict", "predict_audit"):
            assert ("gpu=0" in resources) == (not allegro_prediction), (outputs, resources)
        seen += rule in trainings and wants_gpu
        predictions += allegro_prediction
    assert seen == 1 + (2 * 3 * 2 - 2) + 2  # pretrain + trainings but the 2 copies + 2 self-pretrainings
    assert predictions == 2 * 3 * 2  # per system and regime, the test + inference job and the audit job on the GPU


def test_a_user_corpus_replaces_the_built_one(fixture_study, tmp_path):
    corpus = yaml.safe_load(fixture_study.read_text())["systems"]["CuPt"]["dataset"]
    proc, out = dry_run(fixture_study, tmp_path, pretrain={"corpus": corpus})
    assert proc.returncode == 0, out[-3000:]
    assert "allegro_corpus" not in job_counts(out) and job_counts(out)["allegro_pretrain"] == 1


def test_allegro_limits_must_hold_the_largest_limit(fixture_study, tmp_path):
    proc, out = dry_run(fixture_study, tmp_path, limits=[0, 2])
    assert proc.returncode != 0
    assert "key 'allegro.limits': must hold the largest limit 8" in out
