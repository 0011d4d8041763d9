"""Choose the labeling step cap: relax sample structures far past the cap, record the energy per step.

Usage: python bench/label_protocol.py SYSTEM N_STRUCTURES OFFSET OUT.csv [OPTIMIZERS...]
Writes one row per (structure, optimizer, step): energy and max force, so the error of a cap k
is E(k) - E(converged). Run two in parallel (one torch thread each) to time realistic throughput.
"""

import sys
import time

import numpy as np
import pandas as pd

from qcrobust.default_data.decorations import build_decorations
from qcrobust.default_data.labeler import OPTIMIZERS, chgnet_calculator, set_single_thread
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import decorate, read_parent

system, n, offset, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
optimizers = sys.argv[5:] or ["FIRE", "LBFGS", "BFGS"]
set_single_thread()
parent = read_parent(f"data/default/{system}/parent.extxyz")
table = build_decorations(system, dopant_of(system), parent, seed=2024, audit_size=200, shard_size=50)
labeled = table[table["shard"] >= 0]
rng = np.random.default_rng(7)
picks = labeled.iloc[rng.choice(len(labeled), size=offset + n, replace=False)[offset:]]
calc = chgnet_calculator()
rows = []
for _, row in picks.iterrows():
    for name in optimizers:
        atoms = decorate(parent, row["decoration"], dopant_of(system))
        atoms.calc = calc
        opt = OPTIMIZERS[name](atoms, logfile=None)
        trace = []
        opt.attach(lambda: trace.append((atoms.get_potential_energy(), np.linalg.norm(atoms.get_forces(), axis=1).max())))
        start = time.perf_counter()
        opt.run(fmax=0.02, steps=250)
        seconds = time.perf_counter() - start
        for step, (energy, fmax) in enumerate(trace):
            rows.append((row["id"], row["n_A5_defects"], len(atoms), name, step, energy, fmax, seconds / len(trace)))
        print(row["id"], name, len(trace), f"{seconds:.1f}s", flush=True)
pd.DataFrame(rows, columns=["id", "n_A5_defects", "n_atoms", "optimizer", "step", "energy", "fmax", "s_per_step"]).to_csv(out, index=False)
