"""The package as users install it: declared dependencies, the conda env file, and a wheel that
runs the workflow without the checkout's src/ (installed without -e)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import string
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from conftest import REPO, make_self_contained_study
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from qcrobust.workflow.config import ROOT_VARIABLE, export_workflow_root

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# imported on demand by rules run on request only, so not installed here: import name -> extra
OPTIONAL_IMPORTS = {"sevenn": "crosscheck"}


def requirements(lines) -> dict[str, str]:
    """``{canonical name: specifier}`` of requirement strings."""
    parsed = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): str(r.specifier) for r in parsed}


def imported_modules(*folders: Path) -> set[str]:
    """Top-level names of every module imported (anywhere in the file) under ``folders``."""
    names = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"qcrobust", "__future__"}


def test_every_directly_imported_package_is_declared():
    declared = requirements(PYPROJECT["dependencies"])
    extras = {name: requirements(lines) for name, lines in PYPROJECT["optional-dependencies"].items()}
    distributions = packages_distributions()
    missing = []
    for module in sorted(imported_modules(REPO / "src" / "qcrobust", REPO / "workflow" / "scripts")):
        if module in OPTIONAL_IMPORTS:
            assert module in extras[OPTIONAL_IMPORTS[module]], module
            continue
        names = {canonicalize_name(d) for d in distributions.get(module, [])}
        assert names, f"{module} is imported but not installed"
        if not names & set(declared):
            missing.append((module, sorted(names)))
    assert missing == []
    assert {"lightning", "hydra-core", "omegaconf", "matscipy", "joblib"} <= set(declared)


def test_conda_env_has_the_pins_of_pyproject_and_installs_the_checkout_wherever_snakemake_copies_it(monkeypatch):
    env = yaml.safe_load((REPO / "envs" / "qcrobust.yaml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    python = next(item for item in env["dependencies"] if isinstance(item, str) and item.startswith("python"))
    assert python.replace(" ", "") == "python=3.11" and PYPROJECT["requires-python"] == ">=3.11,<3.12"
    packages = [line for line in pip if not line.startswith("-e ")]
    assert len(packages) == len(PYPROJECT["dependencies"])
    assert requirements(packages) == requirements(PYPROJECT["dependencies"])
    # snakemake copies the file to <study>/.snakemake/conda/<hash>.yaml before conda reads it, so a
    # relative path would name that folder; the workflow sets QCROBUST_ROOT and pip expands it
    (checkout,) = [line.removeprefix("-e ") for line in pip if line.startswith("-e ")]
    assert checkout == f"${{{ROOT_VARIABLE}}}"
    assert "export_workflow_root(workflow.basedir)" in (REPO / "rules" / "common.smk").read_text()
    monkeypatch.setenv(ROOT_VARIABLE, "not yet set")  # restored after the test
    export_workflow_root(REPO / "rules" / "..")
    root = Path(string.Template(checkout).substitute(os.environ))
    assert root == REPO and (root / "Snakefile").is_file()
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["name"] == "qcrobust"


def test_package_data_is_found_through_the_package():
    from qcrobust.allegro.training import TEMPLATE_DIR
    from qcrobust.config import SCHEMA_DIR
    from qcrobust.resources import folder

    assert (SCHEMA_DIR / "config.schema.yaml").is_file() and (TEMPLATE_DIR / "train.yaml").is_file()
    assert (folder("report") / "workflow.rst").is_file()
    with pytest.raises(ValueError, match="unknown resource folder"):
        folder("scripts")


# --- the wheel ---


def build_wheel(dest: Path) -> Path:
    """Build the wheel from a copy of what the build reads (the checkout stays clean: pip builds
    in the source tree); returns its path."""
    source = dest / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "workflow", source / "workflow", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dest), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = dest.glob("qcrobust-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_ships_schemas_templates_captions_and_py_typed(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"qcrobust/resources/{part}/{path.relative_to(REPO / 'workflow' / part)}"
        for part in ("schemas", "allegro", "report")
        for path in (REPO / "workflow" / part).rglob("*")
        if path.is_file()
    }
    assert shipped and shipped <= names, shipped - names
    assert "qcrobust/py.typed" in names
    assert not [name for name in names if name.startswith(("workflow/", "tests/", "qcrobust/resources/scripts"))]


@pytest.mark.workflow
def test_installed_wheel_runs_a_study_from_a_temporary_folder(wheel, tmp_path):
    """A fresh venv gets the wheel (pip --no-deps); the dependencies (torch & co., too slow to
    install in a test) come from the project venv through a .pth line naming its site-packages.
    A plain path line does not run the .pth files inside that folder, so the project's editable
    qcrobust stays out: qcrobust is the wheel's, its data files included."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    fresh = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    (fresh / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # no checkout src/ either
    missing = subprocess.run([str(python), "-c", "import torch, snakemake, qcrobust"], env=env, capture_output=True, text=True)
    assert "No module named 'qcrobust'" in missing.stderr  # the dependencies are there, qcrobust is not
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    study = tmp_path / "study"
    make_self_contained_study(
        study,
        limits=[0, 8],
        classical={"models": ["rf"], "folds": 2, "params": {"rf": {"n_estimators": 5}}},
        allegro={"models": ["scratch"], "limits": [8], "epochs": 1, "min_steps": 0},
    )
    probe = (
        "import qcrobust, qcrobust.config as c, qcrobust.allegro.training as t; "
        "print(qcrobust.__file__); print(c.SCHEMA_DIR); print(t.TEMPLATE_DIR)"
    )
    where = subprocess.run([str(python), "-c", probe], cwd=study, env=env, check=True, capture_output=True, text=True)
    assert [Path(line).is_relative_to(fresh) for line in where.stdout.split()] == [True, True, True], where.stdout
    # a classical model (its metrics are schema-checked) and an Allegro model (Hydra template)
    targets = [f"results/CuPt/{family}/limit_8/seed_0/metrics.json" for family in ("classical/rf", "allegro/scratch")]
    proc = subprocess.run(
        [str(python), "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2", *targets],
        cwd=study,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert [json.loads((study / target).read_text())["n_train"] > 0 for target in targets] == [True, True]
