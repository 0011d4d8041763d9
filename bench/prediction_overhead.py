"""Job time against the time spent inside fits and predictions, before and after issue 24's
fuller prediction jobs, on the models both end-to-end runs finished.

    .venv/bin/python bench/prediction_overhead.py BEFORE_WORKDIR AFTER_WORKDIR

BEFORE: a ``bench/e2e.py`` workdir of a run with one prediction job per (model, set) (rules
``predict`` with a ``set`` wildcard and ``predict_replica``); AFTER: one with one job per
(system, family, model) (rules ``predict`` and ``predict_audit``), whose prediction logs give each
model's load + prediction time ("limit L seed S: ... predicted in X s"). Both runs' jobs come
from snakemake's logs (bench/e2e.py's parser). For the (system, family, model)s whose prediction
jobs finished in AFTER: the job seconds of the BEFORE jobs of the same models and sets, the
AFTER jobs' seconds, and the inside seconds they share; and for all fits, job seconds against
``fit_seconds`` of every metrics.json. Partial runs are fine (only finished jobs count).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import MODEL_RULES, parse_log  # noqa: E402

PER_MODEL = re.compile(r"limit (\d+) seed (\d+): (.*) predicted in ([0-9.]+) s")


def finished_jobs(workdir: Path) -> list[dict]:
    logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
    return [job for log in logs for job in parse_log(log) if "end" in job]


def wildcards(job: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in job["wildcards"].split(", ") if "=" in item)


def group_of(job: dict) -> str:
    """The set group a prediction job covers: 'audit', or 'screen' (test and inference)."""
    return "audit" if job["rule"] == "predict_audit" or wildcards(job).get("set") == "audit" else "screen"


def inside_seconds(workdir: Path) -> dict[tuple, float]:
    """(system, family, model, limit, seed, group) -> load + prediction seconds, from AFTER's logs."""
    out = {}
    for log in (workdir / "logs").rglob("predict*.log"):
        system, family, model = log.parts[-4], log.parts[-3], log.parts[-2]
        for limit, seed, sets, seconds in PER_MODEL.findall(log.read_text()):
            out[(system, family, model, int(limit), int(seed), "audit" if "audit" in sets else "screen")] = float(seconds)
    return out


def fit_ratio(workdir: Path, jobs: list[dict]) -> tuple[float, float]:
    job_s = sum(j["end"] - j["start"] for j in jobs if j["rule"] in MODEL_RULES["fit"])
    inside = sum(float(json.loads(p.read_text()).get("fit_seconds") or 0.0) for p in (workdir / "results").rglob("metrics.json"))
    return job_s, inside


def main() -> None:
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    jobs_before, jobs_after = finished_jobs(before), finished_jobs(after)
    inside = inside_seconds(after)
    after_jobs = {}
    for job in jobs_after:
        if job["rule"] in ("predict", "predict_audit"):
            w = wildcards(job)
            after_jobs[(w["system"], w["family"], w["model"], group_of(job))] = job["end"] - job["start"]
    before_s: dict[tuple, float] = {}
    before_n: dict[tuple, int] = {}
    for job in jobs_before:
        if job["rule"] in ("predict", "predict_replica"):
            w = wildcards(job)
            group = (w["system"], w["family"], w["model"], group_of(job))
            if group in after_jobs and (*group[:3], int(w["limit"]), int(w["seed"]), group[3]) in inside:
                before_s[group] = before_s.get(group, 0.0) + job["end"] - job["start"]
                before_n[group] = before_n.get(group, 0) + 1
    print(
        "| predictions | (system, family, model, set group)s | before: jobs, job-s | after: jobs, job-s | inside, s | before / inside | after / inside |"
    )
    print("|---|---|---|---|---|---|---|")
    for family in ("classical", "allegro"):
        groups = [g for g in before_s if g[1] == family]
        if not groups:
            continue
        ins = sum(v for k, v in inside.items() if (*k[:3], k[5]) in groups)
        b, a = sum(before_s[g] for g in groups), sum(after_jobs[g] for g in groups)
        print(
            f"| {family} | {len(groups)} | {sum(before_n[g] for g in groups)}, {b:.0f} | {len(groups)}, {a:.0f} | {ins:.0f} | {b / ins:.2f}x | {a / ins:.2f}x |"
        )
    for name, workdir, jobs in (("before", before, jobs_before), ("after", after, jobs_after)):
        job_s, fit_s = fit_ratio(workdir, jobs)
        print(f"fits, {name}: {job_s:.0f} job-s against {fit_s:.0f} s inside = {job_s / fit_s:.2f}x")


if __name__ == "__main__":
    main()
