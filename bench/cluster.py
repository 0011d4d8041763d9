"""Cluster execution and no-op reruns: Slurm start-up, per-job scheduler overhead, no-op rerun time.

    .venv/bin/python bench/cluster.py startup    # private one-node Slurm: start and stop, 5 times
    .venv/bin/python bench/cluster.py overhead   # same DAGs locally and through profiles/slurm
    .venv/bin/python bench/cluster.py noop       # no-op reruns: fixture study, full default DAG
    .venv/bin/python bench/cluster.py noop-default  # the full default DAG only
    .venv/bin/python bench/cluster.py all

The Slurm parts need root, slurm-wlm and munge (tests/install_system_deps.sh). The cluster is
tests/slurm_cluster.py (one node with all CPUs as job slots); runs use profiles/slurm plus
the two test settings (squeue for status, 1 s to the first status check).
Per-job overhead = (Slurm wall - local wall) x job slots / jobs: the extra slot-seconds each
job costs, so it does not depend on how many jobs ran side by side.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import SMALL_STUDY, SNAKEMAKE, make_self_contained_study  # noqa: E402
from slurm_cluster import SlurmCluster, cannot_start  # noqa: E402

SLURM_ARGS = [
    "--workflow-profile",
    str(REPO / "profiles" / "slurm"),
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
]
TRIVIAL = """
rule all:
    input: expand("done/{{i}}.txt", i=range({n}))

rule job:
    output: "done/{{i}}.txt"
    shell: "touch {{output}}"
"""


def snakemake(
    workdir: Path, *args: str, config: Path | None = None, snakefile: Path | None = None, env: dict | None = None
) -> tuple[float, str]:
    """Run snakemake; returns (wall seconds, stdout + stderr); raises on failure."""
    cmd = [SNAKEMAKE, "--directory", str(workdir), "--cores", "2"]
    cmd += ["--snakefile", str(snakefile or REPO / "Snakefile")]
    if config:
        cmd += ["--configfile", str(config)]
    start = time.perf_counter()
    proc = subprocess.run([*cmd, *args], cwd=REPO, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd + list(args))} failed:\n{proc.stderr[-3000:]}")
    return wall, proc.stdout + proc.stderr


def jobs_run(output: str) -> int:
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", output)
    return int(done[-1][0]) if done else 0


def startup(repeats: int = 5) -> None:
    starts, stops = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cluster = SlurmCluster(tmp)
            t0 = time.perf_counter()
            cluster.start()
            starts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            cluster.stop()
            stops.append(time.perf_counter() - t0)
    print(
        f"slurm start-up (munged + slurmctld + slurmd, node idle): median {statistics.median(starts):.2f} s "
        f"(min {min(starts):.2f}, max {max(starts):.2f}, {repeats} runs); stop: median {statistics.median(stops):.2f} s"
    )


def compare(name: str, run_local, run_slurm, slots: int) -> None:
    local_wall, local_out = run_local()
    slurm_wall, slurm_out = run_slurm()
    n = jobs_run(slurm_out)
    extra = (slurm_wall - local_wall) * slots / max(n, 1)
    print(f"{name}: {n} jobs; local {local_wall:.1f} s, Slurm {slurm_wall:.1f} s -> {extra:.1f} slot-s extra per job ({slots} slots)")


def overhead() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cluster = SlurmCluster(tmp / "slurm").start()
        try:
            env = cluster.env
            for n in (1, 10):
                snakefile = tmp / f"trivial{n}.smk"
                snakefile.write_text(TRIVIAL.format(n=n))
                compare(
                    f"trivial DAG ({n} independent 'touch' jobs)",
                    lambda: snakemake(tmp / f"t{n}_local", snakefile=snakefile),
                    lambda: snakemake(tmp / f"t{n}_slurm", *SLURM_ARGS, snakefile=snakefile, env=env),
                    cluster.cpus,
                )
            local = make_self_contained_study(tmp / "study_local", **SMALL_STUDY)
            remote = make_self_contained_study(tmp / "study_slurm", **SMALL_STUDY)
            compare(
                "fixture study (tests' SMALL_STUDY)",
                lambda: snakemake(local.parent, config=local),
                lambda: snakemake(remote.parent, *SLURM_ARGS, config=remote, env=env),
                cluster.cpus,
            )
        finally:
            cluster.stop()


def noop_times(workdir: Path, config: Path, repeats: int = 3) -> tuple[float, float]:
    dry = [snakemake(workdir, "--dry-run", config=config)[0] for _ in range(repeats)]
    real = []
    for _ in range(repeats):
        wall, out = snakemake(workdir, config=config)
        assert "Nothing to be done" in out, out[-2000:]
        real.append(wall)
    return statistics.median(dry), statistics.median(real)


def scaffold_default_dag(workdir: Path) -> int:
    """Every output of the default study as an empty file, then ``--touch`` (in DAG order), so
    that a rerun finds everything up to date without computing anything. Returns the job count."""
    _, out = snakemake(workdir, "--dry-run", config=REPO / "config.yaml")
    outputs = [p for line in re.findall(r"^    output: (.*)$", out, flags=re.M) for p in line.split(", ")]
    for path in outputs:
        target = workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    _, touched = snakemake(workdir, "--touch", config=REPO / "config.yaml")
    return len(re.findall(r"^(?:local)?rule \w+:$", out, flags=re.M))


def noop(fixture: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if fixture:
            config = make_self_contained_study(tmp / "study", **SMALL_STUDY)
            _, out = snakemake(config.parent, config=config)
            dry, real = noop_times(config.parent, config)
            print(
                f"no-op rerun, fixture study ({jobs_run(out)} jobs, real outputs and records): "
                f"dry run {dry:.2f} s, run {real:.2f} s (median of 3)"
            )
        workdir = tmp / "default"
        started = time.perf_counter()
        jobs = scaffold_default_dag(workdir)
        print(f"default DAG: {jobs} jobs scaffolded (empty outputs, --touch) in {time.perf_counter() - started:.0f} s")
        dry, real = noop_times(workdir, REPO / "config.yaml")
        print(f"no-op rerun, default DAG ({jobs} jobs, scaffolded outputs): dry run {dry:.2f} s, run {real:.2f} s (median of 3)")


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "all"
    if what not in ("startup", "overhead", "noop", "noop-default", "all"):
        print(__doc__, file=sys.stderr)
        return 2
    print(
        f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs; "
        f"load {Path('/proc/loadavg').read_text().split()[0]}; {time.strftime('%Y-%m-%d')}"
    )
    reason = cannot_start()
    if what in ("startup", "overhead", "all") and reason:
        print(f"no Slurm here: {reason}", file=sys.stderr)
        if what != "all":
            return 1
    if what in ("startup", "all") and not reason:
        startup()
    if what in ("overhead", "all") and not reason:
        overhead()
    if what in ("noop", "all"):
        noop()
    if what == "noop-default":
        noop(fixture=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
