"""The workflow on a real one-node Slurm cluster (started by the test) through profiles/slurm.

Needs root and Debian's slurm-wlm + munge (``tests/install_system_deps.sh``, which the README's
test command runs); skips with the reason otherwise. The cluster has no accounting database,
so the runs add ``--slurm-status-command squeue`` (plus a 1 s first status check, for speed).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, copy_study, result_tables, run_workflow, workflow_command
from slurm_cluster import SlurmCluster, cannot_start

pytestmark = pytest.mark.workflow

PROFILES = ("slurm", "slurm-cpu")
# what a cluster with job accounting would not need: squeue instead of sacct, quick first check
TEST_SETTINGS = ("--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1")


def test_cluster_stops_cleanly(tmp_path):
    """(First: before the module's cluster starts.) The helper leaves no daemon behind (its own, by pid) and no /run/slurm/conf link."""
    reason = cannot_start()
    if reason:
        pytest.skip(f"no Slurm cluster: {reason}")
    cluster = SlurmCluster(tmp_path / "slurm")
    with cluster:
        pids = [cluster._pid(name) for name in ("munged.pid", "slurmctld.pid", "slurmd.pid")]
        assert all(pids)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not os.path.islink("/run/slurm/conf")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A private one-node Slurm (2 partitions, one fake GPU) for this module's tests."""
    reason = cannot_start()
    if reason:
        pytest.skip(f"no Slurm cluster: {reason}")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", str(cluster.conf))
        yield cluster
    cluster.stop()


def profile_args(name: str) -> tuple[str, ...]:
    # absolute: the profile names partitions.yaml relative to itself
    return ("--workflow-profile", str(REPO / "profiles" / name), *TEST_SETTINGS)


def slice_targets(folder, system: str = "CuPt") -> list[str]:
    """A slice of the study that has every kind of job at least once, for one system: its
    data tables and, per family, one model's test predictions (its trainings at every limit and
    its prediction job) and training facts at the largest limit. (Each Slurm job here costs
    ~10 s: two snakemake start-ups, one in the batch job and one under srun, and 2 cores for
    everything, so the whole study would take minutes.)"""
    results = folder / "results" / system
    targets = [f"results/{system}/{name}" for name in ("splits.csv", "limit_sizes.csv", "audit_targets.csv")]
    for family in sorted(p for p in results.iterdir() if p.is_dir()):
        models = sorted(m for m in family.iterdir() if any(m.glob("limit_*")))
        if models:
            limit = max(models[0].glob("limit_*"), key=lambda p: int(p.name.split("_")[1]))
            targets += [
                str((models[0] / "predictions_test.csv").relative_to(folder)),
                str((limit / "seed_0" / "metrics.json").relative_to(folder)),
            ]
    return targets


def test_study_on_slurm_gives_the_local_run_outputs(slurm, small_study_run, tmp_path):
    config = copy_study(small_study_run, tmp_path / "work", outputs=False)
    workdir = config.parent
    targets = slice_targets(small_study_run)
    assert any("/allegro/" in t for t in targets), targets
    proc = run_workflow(config, workdir, *profile_args("slurm"), *targets)
    out = proc.stdout + proc.stderr
    submitted = re.findall(r"submitted with SLURM jobid (\d+)", out)
    # every job went through Slurm and finished there, on the CPU partition (no GPU asked); the
    # short jobs of one group in one submission (group-components): fewer submissions than jobs
    jobs = int(re.search(r"(\d+) of \1 steps \(100%\) done", out).group(1))
    grouped = len(re.findall(r"^\s*(?:local)?rule (?:ingest|ingest_inference|split|limit_sizes|allegro_data|allegro_species):$", out, re.M))
    print(f"{jobs} jobs in {len(submitted)} Slurm submissions ({grouped} of them data jobs, one group)")
    assert grouped >= 5 and len(submitted) <= jobs - grouped + 1, out[-3000:]
    queue = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%T|%P"], env=slurm.env, capture_output=True, text=True, check=True
    ).stdout
    states = dict(line.split("|", 1) for line in queue.split())
    assert {states[j] for j in submitted} == {"COMPLETED|cpu"}
    # the same tables and structures, byte for byte, as the local run
    local, remote = result_tables(small_study_run), result_tables(workdir)
    assert set(remote) <= set(local) and len(remote) >= len(targets)
    assert [p for p in remote if local[p] != remote[p]] == []
    # and a rerun has nothing to do
    rerun = run_workflow(config, workdir, "--dry-run", *profile_args("slurm"), *targets)
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def _queue(slurm) -> dict[str, tuple[str, str]]:
    """Every job Slurm knows: id -> (state, comment; the slurm executor's ``rule_<rule>_wildcards_...``)."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%T|%k"], env=slurm.env, capture_output=True, text=True, check=True
    ).stdout
    return {job: (state, comment) for job, state, comment in (line.split("|", 2) for line in out.splitlines() if line.strip())}


def test_a_training_job_cancelled_mid_run_is_retried_and_the_outputs_are_unchanged(slurm, small_study_run, tmp_path):
    """Fault injection: ``scancel`` an Allegro training while it runs. The profile's ``retries: 1``
    submits it again, the run ends well, and every table equals the uninterrupted local run's."""
    config = copy_study(small_study_run, tmp_path / "work", outputs=False)
    workdir = config.parent
    targets = slice_targets(small_study_run)
    proc = subprocess.Popen(
        workflow_command(config, workdir, *profile_args("slurm"), *targets),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    cancelled = None
    try:
        deadline = time.monotonic() + 600
        while cancelled is None and proc.poll() is None and time.monotonic() < deadline:
            running = [
                job for job, (state, comment) in _queue(slurm).items() if state == "RUNNING" and comment.startswith("rule_allegro_train")
            ]
            if running:
                time.sleep(2)  # mid-run: past the start-up, before the end (a tiny training takes ~20 s)
                cancelled = running[0]
                subprocess.run(["scancel", cancelled], env=slurm.env, check=True)
            time.sleep(0.2)
        out, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
    assert cancelled is not None, "no Allegro training was seen running"
    assert proc.returncode == 0, out[-4000:]
    queue = _queue(slurm)
    assert queue[cancelled][0] == "CANCELLED"
    comment = queue[cancelled][1]
    again = [job for job, (state, c) in queue.items() if c == comment and int(job) > int(cancelled)]
    assert again and queue[again[-1]][0] == "COMPLETED", queue  # the retry
    local, remote = result_tables(small_study_run), result_tables(workdir)
    assert set(remote) <= set(local) and [p for p in remote if local[p] != remote[p]] == []


GPU_SNAKEFILE = """
rule all:
    input: "gpu.txt", "cpu.txt"

rule on_gpu:
    output: "gpu.txt"
    resources: gpu=1
    shell: 'echo "$SLURM_JOB_PARTITION ${{CUDA_VISIBLE_DEVICES:-none}}" > {output}'

rule on_cpu:
    output: "cpu.txt"
    shell: 'echo "$SLURM_JOB_PARTITION ${{CUDA_VISIBLE_DEVICES:-none}}" > {output}'
"""


def test_profile_sends_gpu_jobs_to_the_gpu_partition(slurm, tmp_path):
    """A job with ``resources: gpu=1`` (what Allegro's training rules ask for when
    ``allegro.device`` is cuda) gets the GPU partition and a GPU; the others the CPU partition."""
    (tmp_path / "Snakefile").write_text(GPU_SNAKEFILE)
    proc = subprocess.run([SNAKEMAKE, *profile_args("slurm")], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "gpu.txt").read_text().split() == ["gpu", "0"]
    assert (tmp_path / "cpu.txt").read_text().split() == ["cpu", "none"]


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_request_their_resources(profile, small_study_run, tmp_path):
    """Both profiles parse and give the training rules more than the small default (dry run,
    no cluster needed); a cuda study asks for a GPU only under the GPU profile's partitions."""
    config = copy_study(small_study_run, tmp_path / "work", outputs=False)
    settings = yaml.safe_load((REPO / "profiles" / profile / "config.yaml").read_text())
    assert settings["executor"] == "slurm"
    proc = run_workflow(config, config.parent, "--dry-run", "--workflow-profile", str(REPO / "profiles" / profile))
    out = proc.stdout
    # (a group's jobs are indented under "Group job ...")
    blocks = {m.group(1): m.group(2) for m in re.finditer(r"rule (\w+):\n(?:\s+.*\n)*?\s+resources: (.*)", out)}
    default_mem = settings["default-resources"]["mem_mb"]
    assert f"mem_mb={default_mem}" in blocks["split"]
    training = settings["set-resources"]["allegro_train"]
    assert f"mem_mb={training['mem_mb']}" in blocks["allegro_train"]
    assert f"runtime={training['runtime']}" in blocks["allegro_train"]
    assert "gpu=" not in out  # allegro.device cpu: nobody asks for a GPU
