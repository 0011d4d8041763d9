"""What the retraining-noise floor costs (issue 14): one system's study without and with replicas.

    .venv/bin/python bench/replica_cost.py [--system ScIr] [--workdir /tmp/qcrobust-replicas] [--cores 2] [--rev HEAD]

A ``git archive`` copy of the checkout at ``--rev`` (empty ``results/``, shipped labels) with its
``config.yaml`` cut down to ``--system`` is run twice with ``snakemake --cores N`` (as
``bash run.sh study``, profiles/default): first with every family's ``replicas.seeds`` set to 1 (the
study without replicas, from empty), then with the config's own ``replicas`` (only the replicas'
jobs and what reads them run: rule ``noise``, the candidates, the report pages). Per run, from
snakemake's log (1-s resolution): jobs, job-seconds (sum of job wall times) and the wall time of
the snakemake command (incl. its DAG building). The budget: the second run's job-seconds
within 25 % of the first's. One system's first run carries the study's shared jobs (the
external Allegro corpus and pretraining, ~25 job-s) alone, so its ratio is slightly below a
four-system study's. Results: ``WORKDIR/replica_cost.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e  # noqa: E402  (bench/ is not a package)


def one_system_config(config: dict, system: str, replicas: bool) -> dict:
    """``config`` with ``system`` alone and, without ``replicas``, one seed per family."""
    if system not in config["systems"]:
        raise SystemExit(f"{system!r} is not a system of config.yaml: {sorted(config['systems'])}")
    out = dict(config, systems={system: config["systems"][system]})
    if not replicas:
        out["replicas"] = {family: dict(block, seeds=1) for family, block in config.get("replicas", {}).items()}
    return out


def timed_run(workdir: Path, cores: int, label: str) -> dict:
    before = set((workdir / ".snakemake" / "log").glob("*.log")) if (workdir / ".snakemake" / "log").exists() else set()
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    t0 = time.monotonic()
    with open(workdir / f"replica_cost-{label}.out", "w") as out:
        proc = subprocess.run([str(e2e.SNAKEMAKE), "--cores", str(cores)], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed ({proc.returncode}) in the {label} run: see {workdir}/replica_cost-{label}.out")
    (log,) = set((workdir / ".snakemake" / "log").glob("*.log")) - before
    jobs = e2e.parse_log(log)
    return {
        "label": label,
        "wall_s": wall,
        "jobs": len(jobs),
        "job_seconds": sum(j["end"] - j["start"] for j in jobs),
        "rules": sorted({j["rule"] for j in jobs}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", default="ScIr")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qcrobust-replicas"))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--rev", default="HEAD")
    args = parser.parse_args()
    workdir = args.workdir
    if workdir.exists() and any(workdir.iterdir()):
        raise SystemExit(f"{workdir} is not empty: the first run starts from an empty results/")
    workdir.mkdir(parents=True, exist_ok=True)
    rev = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=e2e.REPO, capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", rev], cwd=e2e.REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    result = {"rev": rev, "system": args.system, "cores": args.cores, "load_before": os.getloadavg(), "runs": []}
    for label, replicas in (("without", False), ("with", True)):
        (workdir / "config.yaml").write_text(yaml.safe_dump(one_system_config(config, args.system, replicas), sort_keys=False))
        result["runs"].append(timed_run(workdir, args.cores, label))
        (workdir / "replica_cost.json").write_text(json.dumps(result, indent=1))
    without, added = result["runs"]
    print(f"{args.system} at {rev}, --cores {args.cores}, load before {result['load_before']}; replicas: {config.get('replicas')}")
    print("| run | jobs | job-seconds | wall |\n|---|---|---|---|")
    print(f"| study without replicas | {without['jobs']} | {without['job_seconds']:.0f} | {without['wall_s']:.0f} s |")
    print(
        f"| + replicas (incremental) | {added['jobs']} | {added['job_seconds']:.0f} "
        f"(+{100 * added['job_seconds'] / without['job_seconds']:.1f} %) | {added['wall_s']:.0f} s "
        f"(+{100 * added['wall_s'] / without['wall_s']:.1f} %) |"
    )
    print("rules of the second run:", ", ".join(added["rules"]))


if __name__ == "__main__":
    main()
