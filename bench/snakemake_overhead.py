"""Snakemake's own CPU (the main process, children excluded) per scheduler setting (issue 15).

    .venv/bin/python bench/snakemake_overhead.py synth [--job-seconds 1] [--levers a,b,...]
    .venv/bin/python bench/snakemake_overhead.py real        # dry run + no-op rerun of the real DAG
    .venv/bin/python bench/snakemake_overhead.py levers      # list the levers

``synth`` runs a synthetic workflow with the SAME DAG as the default study: the real workflow's
``snakemake -n --forceall`` is parsed (every job's rule, input and output files, threads and
whether it has a ``benchmark:``), and each job becomes a job of the same rule name with the same
number of input and output files, the same dependencies, threads and benchmark file, whose
``script:`` only sleeps ``--job-seconds`` and touches its outputs. Each lever runs this DAG once
with ``--cores 2`` from scratch, then once more with everything present (the no-op rerun).

``real`` times the real workflow (this checkout, its profiles/default): the dry run of the full
DAG (``-n``, every job to run) and a no-op rerun of it with every output scaffolded (empty files,
``--touch``, as bench/cluster.py does).

CPU is the snakemake main process's own (all its threads, not its children: the jobs' scripts,
the ILP solver), read from /proc/<pid>/stat every 0.5 s while it runs and exactly at its exit
(getrusage(RUSAGE_SELF) in an atexit hook of the wrapper that starts snakemake in-process); the
wrapper also counts scheduling rounds (JobScheduler.job_selector calls) and ILP solves.
Light on purpose: the machine's 2 cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")

# name -> (description, extra snakemake arguments, benchmark directives kept)
LEVERS: dict[str, tuple[str, list[str], bool]] = {
    "baseline": ("snakemake defaults (ilp, rate limit 100/1s) + benchmark:", [], True),
    "greedy": ("--scheduler greedy", ["--scheduler", "greedy"], True),
    "no-benchmark": ("no benchmark: directives (ilp)", [], False),
    "greedy+no-benchmark": ("--scheduler greedy, no benchmark:", ["--scheduler", "greedy"], False),
    "rate-1000/10s": ("--max-jobs-per-timespan 1000/10s (ilp)", ["--max-jobs-per-timespan", "1000/10s"], True),
    "greedy+rate-1000/10s": (
        "--scheduler greedy --max-jobs-per-timespan 1000/10s",
        ["--scheduler", "greedy", "--max-jobs-per-timespan", "1000/10s"],
        True,
    ),
    "greedy+rate-3000/30s": (
        "--scheduler greedy --max-jobs-per-timespan 3000/30s",
        ["--scheduler", "greedy", "--max-jobs-per-timespan", "3000/30s"],
        True,
    ),
    "greedy+rate-1000/10s+no-benchmark": (
        "--scheduler greedy --max-jobs-per-timespan 1000/10s, no benchmark:",
        ["--scheduler", "greedy", "--max-jobs-per-timespan", "1000/10s"],
        False,
    ),
    "greedy+omit-prio": (
        "--scheduler greedy --scheduler-greedy-omit-prioritize-by-temp-and-input",
        ["--scheduler", "greedy", "--scheduler-greedy-omit-prioritize-by-temp-and-input"],
        True,
    ),
    "subsample-8": ("--scheduler-subsample 8 (ilp)", ["--scheduler-subsample", "8"], True),
    "greedy+subsample-8": ("--scheduler greedy --scheduler-subsample 8", ["--scheduler", "greedy", "--scheduler-subsample", "8"], True),
    "profile": ("profiles/default as committed (only the profile)", [], True),
}

# Runs snakemake in this interpreter, so that the measured process is snakemake's main process;
# counts scheduling rounds and ILP solves; writes its own rusage at exit (after threads joined).
CHILD = r"""
import atexit, json, os, resource, sys, time
out = os.environ["OVERHEAD_OUT"]
counts = {"rounds": 0, "ilp_solves": 0, "selector_s": 0.0}
from snakemake.scheduling import job_scheduler
_select = job_scheduler.JobScheduler.job_selector
def job_selector(self, jobs):
    counts["rounds"] += 1
    t = time.process_time()
    try:
        return _select(self, jobs)
    finally:
        counts["selector_s"] += time.process_time() - t
job_scheduler.JobScheduler.job_selector = job_selector
try:
    from snakemake.scheduling import milp
    _solve = milp.Scheduler._solve_ilp
    def _solve_ilp(self, *a, **k):
        counts["ilp_solves"] += 1
        return _solve(self, *a, **k)
    milp.Scheduler._solve_ilp = _solve_ilp
except Exception:
    pass
def dump():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump(dict(counts, self_cpu=s.ru_utime + s.ru_stime, children_cpu=c.ru_utime + c.ru_stime), f)
atexit.register(dump)
sys.argv = ["snakemake"] + sys.argv[1:]
from snakemake.cli import main
main()
"""


def proc_cpu(pid: int) -> float | None:
    """utime + stime of one process (its threads, not its children) from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def run_snakemake(args: list[str], cwd: Path, env: dict | None = None, check: str | None = None) -> dict:
    """Run snakemake (in-process wrapper) with args; returns wall s, main-process CPU s, counts."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out_json = f.name
    env = dict(env or os.environ, OVERHEAD_OUT=out_json)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False)
    start = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-c", CHILD, *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    sampled = 0.0
    while proc.poll() is None:
        cpu = proc_cpu(proc.pid)
        sampled = cpu if cpu is not None else sampled
        time.sleep(0.5)
    wall = time.perf_counter() - start
    log.close()
    text = Path(log.name).read_text()
    os.unlink(log.name)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {cwd}:\n{text[-3000:]}")
    if check and check not in text:
        raise RuntimeError(f"expected {check!r} in the output of snakemake {' '.join(args)}:\n{text[-3000:]}")
    result = json.loads(Path(out_json).read_text())
    os.unlink(out_json)
    result.update(wall=wall, sampled_cpu=sampled, jobs=len(re.findall(r"^\[.*\]\nrule ", text, flags=re.M)))
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", text)
    result["steps"] = int(done[-1][0]) if done else 0
    return result


# --- the synthetic DAG ---------------------------------------------------------------------


def real_jobs() -> list[dict]:
    """Every job of the real default DAG (forceall dry run of this checkout)."""
    proc = subprocess.run(
        [str(Path(PYTHON).parent / "snakemake"), "-n", "--forceall", "--cores", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO / "src")),
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", proc.stdout):
        m = re.match(r"(?:local)?rule (\w+):\n", block)
        if not m:
            continue
        fields = dict(re.findall(r"^    (\w+): (.*)$", block, flags=re.M))
        jobs.append(
            {
                "rule": m.group(1),
                "input": fields["input"].split(", ") if "input" in fields else [],
                "output": fields["output"].split(", ") if "output" in fields else [],
                "threads": int(fields.get("threads", 1)),
                "benchmark": "benchmark" in fields,
            }
        )
    return jobs


def write_synthetic(study: Path, jobs: list[dict], job_seconds: float, benchmarks: bool) -> int:
    """The synthetic workflow in study/: one rule per real rule, one job per real job."""
    producer = {path: (i, k) for i, job in enumerate(jobs) for k, path in enumerate(job["output"])}
    sources: dict[str, int] = {}
    by_rule: dict[str, dict] = {}
    inputs = {}
    target = None
    for i, job in enumerate(jobs):
        mapped = []
        for path in job["input"]:
            if path in producer:
                j, k = producer[path]
                mapped.append(f"out/{jobs[j]['rule']}/{j}/o{k}.txt")
            else:
                mapped.append(f"src/{sources.setdefault(path, len(sources))}.txt")
        if job["rule"] == "all":
            target = mapped
            continue
        inputs[str(i)] = mapped
        rule = by_rule.setdefault(job["rule"], {"n_out": len(job["output"]), "threads": job["threads"], "benchmark": job["benchmark"]})
        rule["n_out"] = max(rule["n_out"], len(job["output"]))
    if target is None:
        raise RuntimeError("no 'all' job in the dry run")
    (study / "src").mkdir(parents=True, exist_ok=True)
    for n in sources.values():
        (study / "src" / f"{n}.txt").write_text("x\n")
    (study / "dag.json").write_text(json.dumps({"inputs": inputs, "all": target}))
    (study / "job.py").write_text(
        "import time\ntime.sleep(snakemake.params.seconds)\nfor path in snakemake.output:\n    open(path, 'w').write('x\\n')\n"
    )
    lines = [
        "import json",
        'SYNTH = json.load(open("dag.json"))',
        "",
        'wildcard_constraints:\n    id=r"\\d+"',
        "",
        "rule all:",
        "    input: SYNTH['all']",
        "",
    ]
    for name, rule in by_rule.items():
        outputs = ", ".join(f'"out/{name}/{{id}}/o{k}.txt"' for k in range(rule["n_out"]))
        lines += [f"rule {name}:", "    input: lambda wc: SYNTH['inputs'][wc.id]", f"    output: {outputs}"]
        if benchmarks and rule["benchmark"]:
            lines.append(f'    benchmark: "benchmarks/{name}/{{id}}.tsv"')
        lines += [f"    threads: {rule['threads']}", f"    params: seconds={job_seconds}", '    script: "job.py"', ""]
    (study / "Snakefile").write_text("\n".join(lines))
    return len(inputs) + 1


def profile_args() -> list[str]:
    return ["--workflow-profile", str(REPO / "profiles" / "default")]


def synth(args) -> list[dict]:
    jobs = real_jobs()
    n_bench = sum(job["benchmark"] for job in jobs)
    print(
        f"real default DAG: {len(jobs)} jobs, {n_bench} with benchmark:, "
        f"{sum(len(j['input']) for j in jobs)} input files over all jobs; job = sleep {args.job_seconds} s"
    )
    rows = []
    for lever in args.levers.split(","):
        desc, extra, benchmarks = LEVERS[lever]
        profile = (
            ["--workflow-profile", str(REPO / "profiles" / "default")]
            if lever == "profile"
            else ["--workflow-profile", "none", "--rerun-incomplete"]
        )
        for _repeat in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="smk-overhead-") as tmp:
                study = Path(tmp)
                n = write_synthetic(study, jobs, args.job_seconds, benchmarks)
                common = ["--cores", "2", *profile, *extra]
                run = run_snakemake(common, study)
                noop = run_snakemake(common, study, check="Nothing to be done")
                row = {
                    "lever": lever,
                    "desc": desc,
                    "jobs": n,
                    "cpu": run["self_cpu"],
                    "sampled": run["sampled_cpu"],
                    "wall": run["wall"],
                    "pct": 100 * run["self_cpu"] / run["wall"],
                    "rounds": run["rounds"],
                    "ilp": run["ilp_solves"],
                    "selector": run["selector_s"],
                    "children": run["children_cpu"],
                    "steps": run["steps"],
                    "noop_wall": noop["wall"],
                    "noop_cpu": noop["self_cpu"],
                }
                rows.append(row)
                print(
                    f"{lever:22s} steps {row['steps']:3d}  main CPU {row['cpu']:6.1f} s (sampled {row['sampled']:6.1f})"
                    f"  wall {row['wall']:6.1f} s  = {row['pct']:5.1f} % of a core  rounds {row['rounds']:5d}"
                    f"  ilp {row['ilp']:4d}  selector {row['selector']:5.1f} s  children {row['children']:6.1f} s"
                    f"  | no-op: wall {row['noop_wall']:.2f} s, CPU {row['noop_cpu']:.2f} s",
                    flush=True,
                )
    return rows


# --- the real DAG ----------------------------------------------------------------------------


def real(args) -> None:
    env = dict(os.environ)
    snakefile = ["--snakefile", str(REPO / "Snakefile"), "--configfile", str(REPO / "config.yaml")]
    dry = [run_snakemake(["-n", "--cores", "2", "--forceall", "--quiet", "rules"], REPO, env) for _ in range(args.repeats)]
    print(
        f"real DAG dry run (-n --forceall, {REPO.name}): wall {statistics.median(r['wall'] for r in dry):.2f} s, "
        f"main CPU {statistics.median(r['self_cpu'] for r in dry):.2f} s (median of {args.repeats})",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="smk-noop-") as tmp:
        study = Path(tmp)
        proc = subprocess.run(
            [str(Path(PYTHON).parent / "snakemake"), "-n", "--cores", "2", "--directory", tmp, *snakefile],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=dict(env, PYTHONPATH=str(REPO / "src")),
        )
        outputs = [p for line in re.findall(r"^    output: (.*)$", proc.stdout, flags=re.M) for p in line.split(", ")]
        for path in outputs:
            (study / path).parent.mkdir(parents=True, exist_ok=True)
            (study / path).touch()
        run_snakemake(["--touch", "--cores", "2", "--directory", tmp, *snakefile], REPO, env)
        for label, extra in (("dry run", ["-n"]), ("no-op rerun", [])):
            runs = [
                run_snakemake(["--cores", "2", "--directory", tmp, *snakefile, *extra], REPO, env, check="Nothing to be done")
                for _ in range(args.repeats)
            ]
            print(
                f"real DAG {label}, all {len(outputs)} outputs present (scaffolded): "
                f"wall {statistics.median(r['wall'] for r in runs):.2f} s, main CPU "
                f"{statistics.median(r['self_cpu'] for r in runs):.2f} s (median of {args.repeats})",
                flush=True,
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["synth", "real", "levers"])
    parser.add_argument("--job-seconds", type=float, default=1.0)
    parser.add_argument("--levers", default="baseline,greedy,no-benchmark,greedy+no-benchmark")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    print(
        f"snakemake overhead benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", flush=True
    )
    if args.what == "levers":
        for name, (desc, _extra, _bench) in LEVERS.items():
            print(f"{name:22s} {desc}")
    elif args.what == "synth":
        synth(args)
    else:
        real(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
