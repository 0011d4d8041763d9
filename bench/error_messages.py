"""What a user sees for each mistake of issue 23, and how long until they see it.

Each case is a fresh copy of the synthetic fixture study (qcrobust.synthetic, two systems) with
one fault, run as a user would (`snakemake --directory STUDY --cores 2`, no dry run) until it
stops. Printed per case: the exit status, the seconds to the exit, how many jobs ran first, and
the line that says what is wrong (the one naming a file or key; else the last error line).

    .venv/bin/python bench/error_messages.py [--repo PATH] [--cases binary_dataset ...] [--work DIR]

--repo runs another checkout's Snakefile and library (e.g. a `git worktree` of an older commit),
so a before/after comparison uses the same cases and the same machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _edit(folder: Path, change) -> None:
    path = folder / "config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _binary_dataset(folder: Path) -> None:
    (folder / "binary.extxyz").write_bytes(os.urandom(4096))
    _edit(folder, lambda c: c["systems"]["CuPt"].update(dataset=str(folder / "binary.extxyz")))


def _not_yaml(folder: Path) -> None:
    lines = (folder / "config.yaml").read_text().splitlines()
    lines[6] += " : : ["
    (folder / "config.yaml").write_text("\n".join(lines) + "\n")


def _missing_dataset(folder: Path) -> None:
    _edit(folder, lambda c: c["systems"]["CuPt"].update(dataset=str(folder / "nowhere.extxyz")))


def _test_size(folder: Path) -> None:
    _edit(folder, lambda c: c["split"].update(test_size=40))


def _folds(folder: Path) -> None:
    _edit(folder, lambda c: c["classical"].update(folds=12))


def _hyperparameter(folder: Path) -> None:
    _edit(folder, lambda c: c["classical"]["params"]["rf"].update(n_estimatorz=20))


def _foreign_element(folder: Path) -> None:
    import ase.io

    path = Path(yaml.safe_load((folder / "config.yaml").read_text())["systems"]["CuPt"]["inference"])
    frames = ase.io.read(path, ":")
    frames[3][0].symbol = "Au"
    target = folder / "inference_with_au.extxyz"
    ase.io.write(target, frames, format="extxyz")
    _edit(
        folder,
        lambda c: (c["systems"]["CuPt"].update(inference=str(target)), c["systems"]["CuPt"].setdefault("references", {}).update(Au=-3.0)),
    )


def _small_test_set(folder: Path) -> None:
    _edit(folder, lambda c: c["split"].update(test_size=2))


CASES = {
    "binary_dataset": _binary_dataset,
    "not_yaml": _not_yaml,
    "missing_dataset": _missing_dataset,
    "test_size_above_pool": _test_size,
    "folds_above_rows": _folds,
    "misspelt_hyperparameter": _hyperparameter,
    "inference_element_unknown": _foreign_element,
    "small_test_set": _small_test_set,
}
WARNINGS = ("small_test_set",)
MESSAGE = re.compile(r"bad input|InputError|not valid|Missing|Exception|Error|warning", re.IGNORECASE)


def run_case(repo: Path, template: Path, work: Path, name: str, timeout: float) -> dict:
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(template, folder)
    CASES[name](folder)
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    start = time.perf_counter()
    # a warning stops nothing: the plan (a dry run) is where a user meets it first
    dry = ["--dry-run"] if name in WARNINGS else []
    proc = subprocess.Popen(
        [SNAKEMAKE, "--snakefile", str(repo / "Snakefile"), "--directory", str(folder), "--cores", "2", *dry],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    seconds = time.perf_counter() - start
    lines = [line for line in output.splitlines() if line.strip()]
    # the line that says what is wrong: the library's own one-line message first, else a line naming
    # a file and a problem, else the last error-like line
    ours = [line for line in lines if "bad input" in line] or [line for line in lines if "qcrobust: warning" in line]
    naming = [line for line in lines if re.search(r"\.(extxyz|yaml|csv)\b.*: ", line) and "reason:" not in line]
    errors = [line for line in lines if MESSAGE.search(line)]
    jobs = len(re.findall(r"^Finished jobid", output, flags=re.MULTILINE))
    message = (ours or naming or [""])[0] if ours or naming else (errors or lines or [""])[-1]
    return {
        "case": name,
        "exit": proc.returncode,
        "seconds": round(seconds, 1),
        "jobs_before": jobs,
        "lines": len(lines),
        "message": message.strip()[:400],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=HERE)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--work", type=Path, default=Path("/tmp/qcrobust-error-messages"))
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo / "src"))
    from qcrobust.synthetic import make_study

    template = args.work / "template"
    if not template.exists():
        make_study(template)  # config.yaml + data/, absolute paths
    for name in args.cases:
        row = run_case(args.repo.resolve(), template, args.work, name, args.timeout)
        print(
            f"{row['case']}: exit {row['exit']} after {row['seconds']} s ({row['jobs_before']} jobs ran, {row['lines']} lines of output)\n"
            f"    {row['message']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
