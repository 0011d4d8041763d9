"""A user's study is a folder of its own (README, "Your own data"): its config.yaml, results/,
logs/, benchmarks/ and report live there, the workflow comes from this repository. Run from the
repository root (`snakemake --directory <folder>`, the documented command) or from inside the
folder (`snakemake --snakefile <repo>/Snakefile`), it plans and runs only the user's systems,
although the repository's own config.yaml (the default study) names four others.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, make_self_contained_study

pytestmark = pytest.mark.workflow

# the smallest complete study: one system, one classical model, no Allegro (~20 s on 2 cores)
MINI_STUDY = {
    "limits": [0, 4, 8],
    "classical": {"models": ["rf"], "folds": 2, "params": {"rf": {"n_estimators": 10}}},
    "allegro": {"models": []},
}
DEFAULT_SYSTEMS = {"ScPt", "ScPd", "ScIr", "ScRh"}


def make_user_study(folder: Path, system: str, **overrides) -> Path:
    """A self-contained study of the one ``system`` (CuPt or CuPd) in ``folder``; returns the folder."""
    config_path = make_self_contained_study(folder, **{**MINI_STUDY, **overrides})
    config = yaml.safe_load(config_path.read_text())
    config["systems"] = {system: config["systems"][system]}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([SNAKEMAKE, "--cores", "2", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
    return proc


def planned(proc: subprocess.CompletedProcess) -> list[dict[str, str]]:
    """The job blocks of a dry run (rule, wildcards, input), ``all`` left out."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", proc.stdout):
        head = re.match(r"(?:local)?rule (\w+):\n", block)
        if head and head.group(1) != "all":
            jobs.append({"rule": head.group(1), **dict(re.findall(r"^    (\w+): (.*)$", block, flags=re.M))})
    assert jobs, proc.stdout[-3000:]
    return jobs


def systems_of(jobs: list[dict[str, str]]) -> set[str]:
    return {m for job in jobs for m in re.findall(r"system=(\w+)", job.get("wildcards", ""))}


def readme_block() -> str:
    """The copy-paste block of README's "Your own data" section."""
    section = REPO.joinpath("README.md").read_text().split("## Your own data", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, blocks
    return blocks[0]


def test_readme_documents_one_block_that_runs_the_study_folder():
    block = readme_block()
    assert "cp my-config.yaml my-study/config.yaml" in block
    assert ".venv/bin/snakemake --directory my-study --cores 4" in block
    assert "--configfile" not in block


def test_documented_command_from_the_repository_root_plans_only_the_users_systems(tmp_path):
    """`snakemake --directory my-study` from the repository root (README): the folder's config,
    not the repository's config.yaml, and every training job waits for the limit checks."""
    assert set(yaml.safe_load((REPO / "config.yaml").read_text())["systems"]) == DEFAULT_SYSTEMS
    study = make_user_study(tmp_path / "my-study", "CuPt", allegro={"models": ["scratch"], "limits": [8], "epochs": 1})
    jobs = planned(snakemake("--directory", str(study), "--dry-run", cwd=REPO))
    assert systems_of(jobs) == {"CuPt"}
    assert not [job for job in jobs if job["rule"].startswith("default_")]
    training = [job for job in jobs if re.match(r"(classical|allegro)_train", job["rule"])]
    assert {job["rule"] for job in training} == {"classical_train", "allegro_train"}
    assert all("results/CuPt/limit_sizes.csv" in job["input"] for job in training), training


def test_a_configfile_extending_a_folders_own_config_is_refused(tmp_path):
    """The old README command, `--configfile my-config.yaml` beside another study's config.yaml
    (the repository root's, or here a study folder's), would merge both studies' systems."""
    study = make_user_study(tmp_path / "study", "CuPd")
    mine = tmp_path / "my-config.yaml"
    mine.write_text(yaml.safe_dump({"systems": {"CuPt": yaml.safe_load((study / "config.yaml").read_text())["systems"]["CuPd"]}}))
    proc = subprocess.run(
        [SNAKEMAKE, "--directory", str(study), "--configfile", str(mine), "--dry-run"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert f"{mine}: key 'systems': --configfile extends {study / 'config.yaml'}, which adds the systems ['CuPd']" in output, output[-3000:]


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder`` (snakemake's own records left out): modification time and bytes."""
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".snakemake" not in path.relative_to(folder).parts
    }


def test_two_studies_side_by_side_run_only_their_systems_and_leave_each_other_untouched(tmp_path):
    """Study A runs from inside its folder (outside the repository), study B by the documented
    command from the repository root; each writes only its folder, and `--report` works in A's."""
    a = make_user_study(tmp_path / "study-a", "CuPt")
    b = make_user_study(tmp_path / "study-b", "CuPd")
    repo_before = {path for path in ("results", "logs", "benchmarks") if (REPO / path).exists()}

    snakemake("--snakefile", str(REPO / "Snakefile"), cwd=a)
    after_a = snapshot(a)
    snakemake("--directory", str(b), cwd=REPO)

    assert snapshot(a) == after_a  # B's run touched nothing of A
    for folder, system, other in ((a, "CuPt", "CuPd"), (b, "CuPd", "CuPt")):
        assert {p.name for p in (folder / "results").iterdir()} == {system, "report"}
        assert (folder / "logs" / system / "ingest_dataset.log").is_file() and (folder / "benchmarks" / system).is_dir()
        datasets = (folder / "results" / "report" / "datasets.csv").read_text()
        assert system in datasets and other not in datasets
        assert "Nothing to be done" in snakemake("--directory", str(folder), "--dry-run", cwd=REPO).stdout
    assert {path for path in ("results", "logs", "benchmarks") if (REPO / path).exists()} == repo_before

    snakemake("--snakefile", str(REPO / "Snakefile"), "--report", "results/report/report.html", cwd=a)
    report = (a / "results" / "report" / "report.html").read_text()
    assert "results/CuPt/limit_sizes.csv" in report and "results/CuPd" not in report


@pytest.mark.parametrize(
    "fault, message",
    [
        ("not_yaml", r"config.yaml: line 3, column \d+: not valid YAML: "),
        ("missing_file", r"config.yaml: key 'systems.CuPt.inference': .*nowhere.extxyz: no such file"),
        ("hyperparameter", r"config.yaml: key 'classical.params.rf.n_estimatorz': not a parameter of RandomForestRegressor"),
        ("test_size", r"CuPt_dataset.extxyz: only \d+ limit-0 structures \(n_A5_defects = 0\), fewer than split.test_size = 400"),
    ],
)
def test_mistakes_stop_before_the_first_job_with_one_line(tmp_path, fault, message):
    """A study folder with one mistake: snakemake stops before any job, its output names the
    file and the key or record once, and nothing is written."""
    folder = make_user_study(tmp_path / "study", "CuPt")
    path = folder / "config.yaml"
    config = yaml.safe_load(path.read_text())
    if fault == "missing_file":
        config["systems"]["CuPt"]["inference"] = "nowhere.extxyz"
    elif fault == "hyperparameter":
        config["classical"]["params"]["rf"]["n_estimatorz"] = 10
    elif fault == "test_size":
        config["split"] = {"test_size": 400}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    if fault == "not_yaml":
        lines = path.read_text().splitlines()
        lines[2] += " : : ["
        path.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--cores", "2"], cwd=folder, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert len(re.findall(message, output)) == 1, output[-3000:]
    assert not (folder / "results").exists() and "Finished jobid" not in output
