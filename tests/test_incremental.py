"""Reruns after a change run exactly the jobs the change touches, by snakemake's own rerun
triggers (modification times with input checksums, params, code, software env): no cache of
our own. Each test copies one complete local run of the fixture study (``small_study_run``),
changes one thing and reads the jobs a dry run would execute.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from typing import NamedTuple

import ase.io
import pytest
import yaml
from conftest import REPO, copy_study, edit_config, result_tables, run_workflow, workflow_command

from qcrobust import layout

pytestmark = pytest.mark.workflow

# rules whose outputs do not depend on the limit grid
GRID_FREE_RULES = {"ingest", "ingest_inference", "split", "feature_space", "features", "hull_histogram"}


class Job(NamedTuple):
    rule: str
    wildcards: dict[str, str]
    output: str


def planned_jobs(config, workdir, *args) -> list[Job]:
    """The jobs a run would execute now (from a dry run's job blocks), ``all`` left out."""
    out = run_workflow(config, workdir, "--dry-run", *args).stdout
    if "Nothing to be done" in out:
        return []
    jobs = []
    # (a dry run prints a group's jobs indented under "Group job ..."; a local run ignores groups)
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:\n)", out):
        head = re.match(r"\s*(?:local)?rule (\w+):\n", block)
        if not head or head.group(1) == "all":
            continue
        fields = dict(re.findall(r"^\s+(\w+): (.*)$", block, flags=re.M))
        wildcards = dict(item.split("=", 1) for item in fields.get("wildcards", "").split(", ") if "=" in item)
        jobs.append(Job(head.group(1), wildcards, fields.get("output", "")))
    assert jobs, out[-3000:]
    return jobs


@pytest.fixture
def study(small_study_run, tmp_path):
    """A private copy of the finished study (data, config, outputs, snakemake's records)."""
    return copy_study(small_study_run, tmp_path / "work")


def test_nothing_changed_runs_no_job(study):
    assert planned_jobs(study, study.parent) == []
    proc = run_workflow(study, study.parent)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_touched_but_unchanged_data_runs_no_job(study):
    """A newer modification time alone is no change: snakemake compares input checksums."""
    dataset = study.parent / yaml.safe_load(study.read_text())["systems"]["CuPt"]["dataset"]
    os.utime(dataset)
    assert planned_jobs(study, study.parent) == []


def test_changed_data_file_reruns_only_that_system(study):
    config = yaml.safe_load(study.read_text())
    dataset = study.parent / config["systems"]["CuPt"]["dataset"]
    frames = ase.io.read(dataset, ":")
    frames[5].calc.results["energy"] += 0.01  # one label changes
    ase.io.write(dataset, frames, format="extxyz")

    jobs = planned_jobs(study, study.parent)
    systems = {job.wildcards.get("system") for job in jobs}
    assert systems <= {"CuPt", None}, jobs
    # nothing of the other system, not even through a job without a system wildcard
    assert [job for job in jobs if "results/CuPd/" in job.output] == []
    rules = {job.rule for job in jobs}
    assert {"ingest", "split", "limit_sizes"} <= rules
    # the sets to predict are ingested again too: they are checked against the dataset, which may
    # now hold more of their structures (those are left out of the screens)
    assert {job.wildcards["set"] for job in jobs if job.rule.startswith("ingest")} == {"dataset", "inference", "audit"}
    # every model of CuPt that exists is retrained (its training data changed)
    trained = {(j.wildcards["model"], j.wildcards["limit"]) for j in jobs if {"model", "limit"} <= set(j.wildcards)}
    expected = {
        (model.name, limit.name.removeprefix("limit_"))
        for family in (study.parent / "results" / "CuPt").iterdir()
        for model in family.glob("*")
        for limit in model.glob("limit_*")
    }
    assert trained == expected and expected
    summarized = {(j.wildcards["family"], j.wildcards["model"]) for j in jobs if j.rule.startswith("evaluate")}
    assert summarized == {(path.parent.parent.name, path.parent.name) for path in (study.parent / "results" / "CuPt").glob("*/*/summary")}


def test_changed_hyperparameter_reruns_only_that_model(study):
    config = yaml.safe_load(study.read_text())
    classical = config["classical"]
    assert set(classical["models"]) >= {"rf", "lgbm"}
    classical["params"]["rf"]["n_estimators"] += 5
    edit_config(study, classical=classical)

    jobs = planned_jobs(study, study.parent)
    with_model = [job for job in jobs if "model" in job.wildcards]
    assert {job.wildcards["model"] for job in with_model} == {"rf"}, jobs
    assert {job.wildcards.get("family", "classical") for job in with_model} == {"classical"}
    # every rf model is retrained, then its summary; besides them only the tables across models:
    # per system the robust candidates (they read every model's screens), and the cross-system ones
    trained = {(j.wildcards["system"], j.wildcards["limit"]) for j in with_model if "limit" in j.wildcards}
    assert trained == {(system, str(limit)) for system in config["systems"] for limit in config["limits"]}
    assert {job.rule for job in with_model if "limit" not in job.wildcards} >= {"evaluate_audit", "evaluate_figures"}
    per_system = [job for job in jobs if "model" not in job.wildcards and "system" in job.wildcards]
    assert {job.rule for job in per_system} <= {"candidates", "consensus"}, per_system


def test_added_limit_reruns_only_its_jobs_and_the_summaries(study, small_study_run):
    config = yaml.safe_load(study.read_text())
    old = config["limits"]
    assert 6 not in old
    edit_config(study, limits=sorted(old + [6]))
    jobs = planned_jobs(study, study.parent)
    rules = {job.rule for job in jobs}
    assert not rules & GRID_FREE_RULES, jobs  # e.g. splits.csv does not depend on the limit grid
    assert "limit_sizes" in rules  # limit_sizes.csv lists the grid
    per_limit = [job for job in jobs if "limit" in job.wildcards]
    assert {job.wildcards["limit"] for job in per_limit} <= {"6"}, per_limit
    # every family that trains on the whole grid trains the new limit for every system and model
    for family in ("classical",):
        trained = {
            (model.parent.parent.name, model.name)
            for model in (small_study_run / "results").glob(f"*/{family}/*")
            if any(model.glob("limit_*"))
        }
        new = {(j.wildcards["system"], j.wildcards["model"]) for j in per_limit if f"/{family}/" in j.output}
        assert new == trained


def test_killed_run_completes_on_rerun_with_the_same_tables(small_study_run, tmp_path):
    """SIGKILL snakemake (and its jobs: the whole process group) half-way through one model's
    study of one system (ingest to summary, ~10 jobs), rerun: the rerun finishes and the tables
    equal those of the uninterrupted run."""
    config = copy_study(small_study_run, tmp_path / "work", outputs=False)
    workdir = config.parent
    summary = small_study_run / "results" / "CuPt" / "classical" / "rf" / "summary"
    targets = [str(path.relative_to(small_study_run)) for path in sorted(summary.glob("*.csv"))]
    assert targets
    proc = subprocess.Popen(
        workflow_command(config, workdir, *targets), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    first_model = workdir / layout.path(layout.METRICS, system="CuPt", family="classical", model="rf", limit=0, seed=0)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and not first_model.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert planned_jobs(config, workdir, *targets), "nothing left to do after the kill"

    # the killed run's lock stays behind: snakemake alone refuses to go on ...
    locked = run_workflow(config, workdir, *targets, check=False)
    assert locked.returncode != 0 and "LockException" in locked.stdout + locked.stderr
    # ... and `bash run.sh study` first removes it, since no snakemake process works there
    startup = subprocess.run([sys.executable, "-m", "qcrobust.startup", "--directory", str(workdir)], capture_output=True, text=True)
    assert startup.returncode == 0 and "removed the lock a killed run left" in startup.stderr
    run_workflow(config, workdir, *targets)
    done, reference = result_tables(workdir), result_tables(small_study_run)
    assert set(targets) <= set(done) <= set(reference)
    assert [path for path in done if done[path] != reference[path]] == []
    assert planned_jobs(config, workdir, *targets) == []
