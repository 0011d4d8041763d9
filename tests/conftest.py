"""Shared fixtures: the synthetic fixture study and a runner for the real workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qcrobust.synthetic import make_study

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def workflow_command(config: Path, workdir: Path, *args: str) -> list[str]:
    """The snakemake command line that runs the repo's Snakefile on ``config`` inside ``workdir``."""
    # the profile's 1000/10s job rate keeps snakemake's own CPU low on long runs but lets a run
    # exit up to 10 s after its last job (bench/README.md); the tests' short runs use the default rate
    return [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--configfile", str(config), "--directory", str(workdir),
            "--cores", "2", "--max-jobs-per-timespan", "100/1s", *args]  # fmt: skip


def run_workflow(config: Path, workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the repo's Snakefile on ``config`` inside ``workdir``; returns the finished process."""
    proc = subprocess.run(workflow_command(config, workdir, *args), cwd=REPO, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def fixture_study_template(tmp_path_factory) -> Path:
    """The synthetic study's data + config, generated once per test session."""
    return make_study(tmp_path_factory.mktemp("fixture_study"))


@pytest.fixture
def fixture_study(fixture_study_template, tmp_path) -> Path:
    """A private copy of the fixture study's config (tests may edit it); returns the config path."""
    config = tmp_path / "config.yaml"
    shutil.copy(fixture_study_template, config)
    return config


def edit_config(path: Path, **changes) -> dict:
    config = yaml.safe_load(path.read_text())
    config.update(changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return config


# --- a self-contained study run, shared by the Slurm, rerun and report tests ---
# Kept small (each job costs seconds): the fixture's short cluster cutoffs, two classical models
# with small ensembles and 2 folds, one Allegro model at the largest limit; limit 6 is left out so
# that a test can add it.
SMALL_STUDY = {
    "limits": [0, 4, 8],
    "classical": {"models": ["rf", "lgbm"], "folds": 2, "params": {"rf": {"n_estimators": 20}, "lgbm": {"n_estimators": 30}}},
    "allegro": {"models": ["scratch"], "limits": [8], "epochs": 1, "min_steps": 0},
}


def make_self_contained_study(folder: Path, **overrides) -> Path:
    """The fixture study with its data under ``folder/study`` and ``folder/config.yaml`` naming
    them relative to ``folder`` (the working directory): a copy of the folder is a private,
    identical study. Returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(make_study(folder / "study").read_text())
    for spec in config["systems"].values():
        spec.update({key: os.path.relpath(path, folder) for key, path in spec.items()})
    config.update(overrides)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def small_study_run(tmp_path_factory) -> Path:
    """One complete local run of the self-contained study with ``SMALL_STUDY`` settings; returns
    the folder (data, config.yaml, outputs). Read-only: copy it (``copy_study``) to change it."""
    folder = tmp_path_factory.mktemp("small_study") / "work"
    run_workflow(make_self_contained_study(folder, **SMALL_STUDY), folder)
    return folder


def copy_study(folder: Path, dest: Path, outputs: bool = True) -> Path:
    """Copy a self-contained study (with its outputs and snakemake's records, times kept, or
    without them); returns the copy's config path."""
    skip = shutil.ignore_patterns() if outputs else shutil.ignore_patterns("results", "logs", "benchmarks", ".snakemake")
    shutil.copytree(folder, dest, symlinks=True, ignore=skip)
    return dest / "config.yaml"


def result_tables(folder: Path) -> dict[str, bytes]:
    """Every table and structure file under ``folder/results`` (CSV, extxyz, parquet), by path."""
    suffixes = {".csv", ".extxyz", ".parquet"}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted((folder / "results").rglob("*"))
        if path.suffix in suffixes and path.is_file()
    }
