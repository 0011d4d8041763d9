"""The default study end to end, from an empty ``results/`` (issue 15).

    .venv/bin/python bench/e2e.py [--workdir /tmp/qcrobust-e2e] [--cores 2] [--rev HEAD]
    .venv/bin/python bench/e2e.py --resume /tmp/qcrobust-e2e        # go on after a failed job (fixed in the copy)
    .venv/bin/python bench/e2e.py --summarize /tmp/qcrobust-e2e     # tables of a finished run again
    .venv/bin/python bench/e2e.py --summarize /tmp/qcrobust-e2e --rule-seconds bench/rule_job_seconds.csv

A clean copy of the repository at ``--rev`` (``git archive``: no results/, no logs, the shipped
labels only) is run with ``snakemake --cores N`` as ``bash run.sh study`` does (profiles/default,
this checkout's .venv, ``PYTHONPATH`` set to the copy's ``src``). While it runs, every second:
the snakemake main process's own CPU (utime + stime from /proc, children excluded) and the
resident memory of the whole process tree (snakemake + every job). Afterwards: a no-op rerun of
the same command (wall, nothing to do) and the per-stage figures from snakemake's log (each job's
start and finish, 1-s resolution): jobs, job-seconds (the sum of each job's wall time: what the
stage costs in core-time on a 1-thread-per-job run) and span (first start to last finish; stages
overlap). A run stopped by a failing job can go on (``--resume``, after fixing the copy): the
wall time is then the sum of the segments, without the pause between them. Results: ``WORKDIR/e2e.json`` and a markdown table on stdout.

Heavy: the whole default study (1,354 jobs at 9d3e45b). Run it on otherwise idle cores; the figure is only
comparable between runs on the same machine (bench/README.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = REPO / ".venv" / "bin" / "snakemake"

# rule -> stage; prediction jobs go to their family's stage (see stage_of)
STAGES = {
    "data": [
        "default_parent",
        "default_decorations",
        "default_label_shard",
        "default_competing_phases",
        "default_assemble",
        "default_crosscheck",
        "ingest",
        "ingest_inference",
        "split",
        "limit_sizes",
        "hull_histogram",
    ],
    "descriptors": ["feature_space", "features"],
    "classical": ["classical_train"],
    "allegro pretraining": [
        "allegro_data",
        "allegro_graphs",
        "allegro_self_data",
        "allegro_species",
        "allegro_corpus",
        "allegro_pretrain",
        "allegro_self_pretrain",
    ],
    "allegro training": ["allegro_train"],
    "evaluation": ["evaluate", "evaluate_audit", "evaluate_figures", "audit_figures", "noise"],
    "report": ["report_tables", "report_datasets", "report_findings", "report_noise", "report_budgets", "candidates", "consensus", "all"],
}
RULE_STAGE = {rule: stage for stage, rules in STAGES.items() for rule in rules}

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
RULE = re.compile(r"^(?:local)?rule (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def stage_of(rule: str, wildcards: str) -> str:
    if rule in ("predict", "predict_audit", "predict_replica"):  # predict_replica: before issue 24
        return "allegro prediction" if "family=allegro" in wildcards else "classical prediction"
    return RULE_STAGE.get(rule, "other")


def parse_log(path: Path) -> list[dict]:
    """Every job of a snakemake log: rule, stage, start and finish (epoch seconds)."""
    jobs: dict[str, dict] = {}
    stamp = pending = None
    for line in path.read_text().splitlines():
        if m := STAMP.match(line):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y").timestamp()
        elif m := RULE.match(line):
            pending = {"rule": m.group(1), "start": stamp, "wildcards": ""}
        elif pending and (m := WILDCARDS.match(line)):
            pending["wildcards"] = m.group(1)
        elif pending and (m := JOBID.match(line)):
            jobs[m.group(1)] = pending
        elif m := FINISHED.match(line):
            if m.group(1) in jobs:
                jobs[m.group(1)]["end"] = stamp
        elif line.startswith("Select jobs") or line.startswith("Execute"):
            pending = None
    # a failed job has no "Finished" line: a segment's failure is counted where it is printed
    finished = [job for job in jobs.values() if "end" in job]
    for job in finished:
        job["stage"] = stage_of(job["rule"], job["wildcards"])
    return finished


def stage_table(jobs: list[dict]) -> list[dict]:
    by_stage = collections.defaultdict(list)
    for job in jobs:
        by_stage[job["stage"]].append(job)
    total = sum(j["end"] - j["start"] for j in jobs) or 1.0
    rows = []
    for stage, members in by_stage.items():
        seconds = sum(j["end"] - j["start"] for j in members)
        rows.append(
            {
                "stage": stage,
                "jobs": len(members),
                "job_seconds": seconds,
                "share": seconds / total,
                "span_start": min(j["start"] for j in members),
                "span_end": max(j["end"] for j in members),
            }
        )
    return sorted(rows, key=lambda r: r["span_start"])


def rule_table(jobs: list[dict]) -> list[dict]:
    """Per rule: jobs, median and longest job wall time (seconds, from the log's stamps)."""
    by_rule = collections.defaultdict(list)
    for job in jobs:
        by_rule[job["rule"]].append(job["end"] - job["start"])
    return [
        {"rule": rule, "jobs": len(seconds), "median_s": float(statistics.median(seconds)), "max_s": float(max(seconds))}
        for rule, seconds in sorted(by_rule.items())
    ]


def write_rule_seconds(result: dict, path: Path) -> None:
    """The per-rule table as the CSV that tests/test_profiles.py checks the Slurm profiles against."""
    lines = [f"# bench/e2e.py, default study at {result['rev']}, --cores {result['cores']}: job wall seconds per rule"]
    if result.get("planned_jobs") and result["jobs"] < result["planned_jobs"]:
        lines.append(f"# PARTIAL: the first {result['jobs']} of {result['planned_jobs']} jobs (the run was stopped; --resume goes on)")
    lines.append("rule,jobs,median_s,max_s")
    lines += [f"{r['rule']},{r['jobs']},{r['median_s']:.0f},{r['max_s']:.0f}" for r in result["rules"]]
    path.write_text("\n".join(lines) + "\n")


def run_monitored(cmd: list[str], cwd: Path, env: dict, log_path: Path) -> dict:
    """Run ``cmd``; sample the main process's own CPU and the tree's RSS every second."""
    t0 = time.monotonic()
    with open(log_path, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    main = psutil.Process(proc.pid)
    own_cpu = peak_tree_rss = peak_job_rss = 0.0
    while proc.poll() is None:
        try:
            times = main.cpu_times()
            own_cpu = times.user + times.system
            tree = [main, *main.children(recursive=True)]
            rss = []
            for p in tree:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    pass
            peak_tree_rss = max(peak_tree_rss, sum(rss))
            peak_job_rss = max(peak_job_rss, max(rss[1:], default=0))
        except psutil.Error:
            pass
        time.sleep(1.0)
    wall = time.monotonic() - t0
    return {
        "returncode": proc.returncode,
        "wall_s": wall,
        "snakemake_cpu_s": own_cpu,
        "snakemake_cpu_share": own_cpu / wall if wall else 0.0,
        "peak_tree_rss_mb": peak_tree_rss / 2**20,
        "peak_job_rss_mb": peak_job_rss / 2**20,
    }


# the jobs that fit or predict models, and what of their time is spent fitting and predicting
MODEL_RULES = {
    "fit": ("classical_train", "allegro_train", "allegro_pretrain", "allegro_self_pretrain"),
    "predict": ("predict", "predict_audit", "predict_replica"),  # predict_replica: before issue 24
}
PREDICTED_IN = re.compile(r"predicted in ([0-9.]+) s$", re.MULTILINE)


def model_overhead(workdir: Path, jobs: list[dict]) -> dict:
    """Job seconds of the fitting and predicting jobs against the seconds spent inside them
    fitting (``fit_seconds`` of every metrics.json: trained models and pretrainings) and
    predicting (the prediction logs' "predicted in X s" lines: loading each model and
    predicting its sets, issue 24; None for a run from before, whose logs have no such line)."""
    job_s = {kind: sum(j["end"] - j["start"] for j in jobs if j["rule"] in rules) for kind, rules in MODEL_RULES.items()}
    fit_s = sum(float(json.loads(p.read_text()).get("fit_seconds", 0.0)) for p in (workdir / "results").rglob("metrics.json"))
    found = [float(m) for p in (workdir / "logs").rglob("predict*.log") for m in PREDICTED_IN.findall(p.read_text())]
    predict_s = sum(found) if found else None
    out = {
        "fit_jobs": sum(j["rule"] in MODEL_RULES["fit"] for j in jobs),
        "predict_jobs": sum(j["rule"] in MODEL_RULES["predict"] for j in jobs),
        "fit_job_s": job_s["fit"],
        "predict_job_s": job_s["predict"],
        "fit_inside_s": fit_s,
        "predict_inside_s": predict_s,
    }
    if predict_s is not None:
        out["ratio"] = (job_s["fit"] + job_s["predict"]) / (fit_s + predict_s)
    return out


def summarize(workdir: Path) -> dict:
    result = json.loads((workdir / "e2e.json").read_text())
    logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
    jobs = [job for log in logs for job in parse_log(log)]  # every segment's; no-op and dry runs have none
    result["stages"] = stage_table(jobs)
    result["jobs"] = len(jobs)
    result["job_seconds"] = sum(j["end"] - j["start"] for j in jobs)
    # the retraining-noise floor's own cost (issue 14): the replicas' jobs (seed >= 1) and rule noise
    replica = [j for j in jobs if j["rule"] == "noise" or re.search(r"\bseed=[1-9]", j["wildcards"])]
    result["replica_jobs"] = len(replica)
    result["replica_job_seconds"] = sum(j["end"] - j["start"] for j in replica)
    result["rules"] = rule_table(jobs)
    result["model_overhead"] = model_overhead(workdir, jobs)
    # the DAG's size, from the first segment's job stats ("total  608")
    planned = re.search(r"^total\s+(\d+)$", (workdir / "e2e-run.out").read_text(), re.MULTILINE)
    result["planned_jobs"] = int(planned.group(1)) if planned else None
    (workdir / "e2e.json").write_text(json.dumps(result, indent=1))
    return result


def print_tables(result: dict) -> None:
    segments = result.get("segments", [result["run"]])
    run = {k: sum(seg[k] for seg in segments) for k in ("wall_s", "snakemake_cpu_s")}
    run["snakemake_cpu_share"] = run["snakemake_cpu_s"] / run["wall_s"]
    run["peak_tree_rss_mb"] = max(seg["peak_tree_rss_mb"] for seg in segments)
    run["peak_job_rss_mb"] = max(seg["peak_job_rss_mb"] for seg in segments)
    t0 = min(s["span_start"] for s in result["stages"])
    print(
        f"default study at {result['rev']}, --cores {result['cores']}: {result['jobs']} jobs, "
        f"wall {run['wall_s'] / 60:.1f} min, job-seconds {result['job_seconds'] / 60:.1f} min, "
        f"snakemake's own CPU {run['snakemake_cpu_s']:.0f} s = {100 * run['snakemake_cpu_share']:.1f} % of a core, "
        f"peak RSS {run['peak_tree_rss_mb']:.0f} MB (tree), {run['peak_job_rss_mb']:.0f} MB (one job); "
        + (f"no-op rerun {result['noop']['wall_s']:.1f} s; " if "noop" in result else "stopped before the end (no no-op rerun); ")
        + f"{len(segments)} segment(s); load before {result['load_before']}"
    )
    base = result["job_seconds"] - result["replica_job_seconds"]
    print(
        f"replicas (seed >= 1) and rule noise: {result['replica_jobs']} jobs, {result['replica_job_seconds'] / 60:.1f} "
        f"job-minutes = +{100 * result['replica_job_seconds'] / base:.0f} % over the {base / 60:.1f} job-minutes without them"
    )
    m = result["model_overhead"]
    inside = (
        "no per-model prediction times in this run's logs"
        if m["predict_inside_s"] is None
        else (f"{m['predict_inside_s'] / 60:.1f} min predicting; job time / inside time = {m['ratio']:.2f}")
    )
    print(
        f"fitting jobs: {m['fit_jobs']}, {m['fit_job_s'] / 60:.1f} job-min, {m['fit_inside_s'] / 60:.1f} min inside the fits; "
        f"prediction jobs: {m['predict_jobs']}, {m['predict_job_s'] / 60:.1f} job-min; {inside}"
    )
    print("\n| stage | jobs | job-minutes | share | span (min from start) |\n|---|---|---|---|---|")
    for s in result["stages"]:
        print(
            f"| {s['stage']} | {s['jobs']} | {s['job_seconds'] / 60:.1f} | {100 * s['share']:.0f} % | "
            f"{(s['span_start'] - t0) / 60:.1f}–{(s['span_end'] - t0) / 60:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qcrobust-e2e"))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--summarize", type=Path, help="print the tables of a finished run's workdir")
    parser.add_argument("--resume", type=Path, help="go on with a stopped run's workdir (another segment)")
    parser.add_argument("--rule-seconds", type=Path, help="with --summarize: write the per-rule job times to this CSV")
    args = parser.parse_args()
    if args.summarize:
        result = summarize(args.summarize)
        print_tables(result)
        if args.rule_seconds:
            write_rule_seconds(result, args.rule_seconds)
        return
    if args.resume:
        workdir = args.resume
        result = json.loads((workdir / "e2e.json").read_text())
        result.setdefault("segments", [result["run"]])
        env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
        cmd = result["command"].split()
        k = len(result["segments"])
        result["segments"].append(run_monitored(cmd, workdir, env, workdir / f"e2e-run{k}.out"))
        result["run"] = result["segments"][-1]
        finish(result, workdir, cmd, env)
        return
    workdir = args.workdir
    if workdir.exists() and any(workdir.iterdir()):
        raise SystemExit(f"{workdir} is not empty: the run starts from an empty results/")
    workdir.mkdir(parents=True, exist_ok=True)
    rev = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    cmd = [str(SNAKEMAKE), "--cores", str(args.cores)]
    result = {"rev": rev, "cores": args.cores, "load_before": os.getloadavg(), "command": " ".join(cmd)}
    result["run"] = run_monitored(cmd, workdir, env, workdir / "e2e-run.out")
    finish(result, workdir, cmd, env)


def finish(result: dict, workdir: Path, cmd: list[str], env: dict) -> None:
    """After a segment: stop if it failed (``--resume`` goes on), else time the no-op rerun."""
    (workdir / "e2e.json").write_text(json.dumps(result, indent=1))
    if result["run"]["returncode"] != 0:
        raise SystemExit(f"snakemake failed ({result['run']['returncode']}): see the e2e-run*.out files in {workdir}")
    result["noop"] = run_monitored(cmd, workdir, env, workdir / "e2e-noop.out")
    (workdir / "e2e.json").write_text(json.dumps(result, indent=1))
    print_tables(summarize(workdir))


if __name__ == "__main__":
    sys.exit(main())
