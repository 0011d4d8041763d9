"""How far shipped CHGNet labels move when recomputed on another CPU kernel path.

The shipped labels (data/default) were made on one machine; CHGNet runs in float32, and which
vectorised kernels torch (ATen) and MKL pick depends on the CPU. This benchmark recomputes the
first N labels of one shard (``--shard``; 0 holds limit-0 structures, later ones more A5 defects) of each system with ``python -m qcrobust.default_data verify`` once per
kernel variant, each in a fresh interpreter, and prints the largest differences from the shipped
labels and between the variants. The variants emulate other CPU models on this one:

- native:  whatever this CPU selects;
- avx2:    ATEN_CPU_CAPABILITY=avx2, MKL_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2;
- default: ATEN_CPU_CAPABILITY=default (no vector ISA), MKL_ENABLE_INSTRUCTIONS=SSE4_2,
           ONEDNN_MAX_CPU_ISA=SSE41 (an old CPU).

    .venv/bin/python bench/label_reproducibility.py --n 10 --systems ScPt ScPd ScIr ScRh --jobs 2
    .venv/bin/python bench/label_reproducibility.py --n 10 --shard 40 --systems ScPt ScPd --variants native default
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

VARIANTS = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
}


def run_variant(name: str, systems: list[str], n: int, shard: int, out: Path) -> tuple[str, pd.DataFrame, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **VARIANTS[name]}
    path = out / f"{name}.json"
    cmd = [
        sys.executable,
        "-m",
        "qcrobust.default_data",
        "verify",
        "--n",
        str(n),
        "--shard",
        str(shard),
        "--json",
        str(path),
        "--systems",
        *systems,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if not path.is_file():
        raise RuntimeError(f"{name}: verify wrote nothing\n{proc.stderr[-3000:]}")
    return name, pd.DataFrame(json.loads(path.read_text())), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--systems", nargs="+", default=["ScPt", "ScPd", "ScIr", "ScRh"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--shard", type=int, default=0, help="shard 0: limit-0 structures; later shards: more A5 defects")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="qcrobust-labels-"))
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda v: run_variant(v, args.systems, args.n, args.shard, out), args.variants))
    print(f"{args.n} labels of shard {args.shard} per system ({', '.join(args.systems)}); CPU: {_cpu()}")
    print("\nagainst the shipped labels:")
    print(f"{'variant':8} {'max dE/atom (eV)':>17} {'max dfmax (eV/A)':>17} {'steps differ':>13} {'min fmax margin':>16} statuses  (s)")
    tables = {}
    for name, table, seconds in results:
        tables[name] = table
        statuses = table["status"].value_counts().to_dict()
        print(
            f"{name:8} {table.d_energy_per_atom.max():17.3e} {table.d_fmax.max():17.3e} "
            f"{int((table.n_steps != table.n_steps_shipped).sum()):13d} {table.fmax_margin.min():16.4f} {statuses} ({seconds:.0f})"
        )
    print("\nbetween variants (the same structures):")
    names = list(tables)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ta, tb = tables[a], tables[b]
            d_energy = ((ta.energy - tb.energy).abs() / ta.n_atoms).max()
            print(
                f"{a} vs {b}: max dE/atom {d_energy:.3e} eV, max dfmax {(ta.fmax - tb.fmax).abs().max():.3e} eV/A, "
                f"step counts differ for {int((ta.n_steps != tb.n_steps).sum())}, bitwise equal energies {int((ta.energy == tb.energy).sum())}/{len(ta)}"
            )
    print(f"\nJSON per variant: {out}")


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
