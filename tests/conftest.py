"""Shared fixtures: the synthetic fixture study and a runner for the real workflow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qcrobust.synthetic import make_study

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def run_workflow(config: Path, workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the repo's Snakefile on ``config`` inside ``workdir``; returns the finished process."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--configfile", str(config),
           "--directory", str(workdir), "--cores", "2", *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
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
