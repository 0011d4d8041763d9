"""A tiny synthetic study for tests and benchmarks: same contract as real data, seconds to run.

A 2x2x2 fcc Cu cell (32 sites) plays the parent: 4 sites are labeled ``A4``, 8 are ``A5``,
the rest ``host``. Like the real systems, A4 and A5 carry vacancies or a dopant (Au, Pd, ...)
in steps of 2 atoms (Pt and Pd mix with Cu in EMT, so some structures sit below the
hull), one seeded random decoration per composition plus a few extra limit-0
decorations for the test set. Energies come from ASE's EMT (cheap, deterministic, no
download), on the unrelaxed geometry. This is a stand-in for workflow tests only; none of
its numbers mean anything physically.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import yaml
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from qcrobust.io import write_frames

HOST = "Cu"
N_A4, N_A5 = 4, 8
_LATTICE = {"Cu": 3.61, "Au": 4.08, "Pd": 3.89, "Ag": 4.09, "Ni": 3.52, "Pt": 3.92, "Al": 4.05}


def parent(host: str = HOST) -> Atoms:
    """The 32-site parent with per-atom ``site`` labels (A4 and A5 spread over the cell)."""
    atoms = bulk(host, "fcc", a=_LATTICE[host], cubic=True).repeat((2, 2, 2))
    labels = np.array(["host"] * len(atoms), dtype="<U4")
    order = np.random.default_rng(7).permutation(len(atoms))
    labels[order[:N_A4]] = "A4"
    labels[order[N_A4 : N_A4 + N_A5]] = "A5"
    atoms.arrays["site"] = labels
    return atoms


def _energy(atoms: Atoms) -> float:
    atoms = atoms.copy()
    atoms.calc = EMT()
    return float(atoms.get_potential_energy())


def decorate(base: Atoms, dopant: str, a4: str, a5: str) -> Atoms:
    """Apply decoration strings (one char per A4 / A5 site: S host, M dopant, X vacancy)."""
    symbols = base.get_chemical_symbols()
    keep = np.ones(len(base), dtype=bool)
    for site, decoration in (("A4", a4), ("A5", a5)):
        for index, char in zip(np.flatnonzero(base.arrays["site"] == site), decoration):
            if char == "M":
                symbols[index] = dopant
            elif char == "X":
                keep[index] = False
    atoms = base.copy()
    atoms.set_chemical_symbols(symbols)
    atoms = atoms[keep]
    atoms.info = {
        "n_A4_vac": a4.count("X"),
        "n_A4_M": a4.count("M"),
        "n_A5_vac": a5.count("X"),
        "n_A5_M": a5.count("M"),
        "n_A5_defects": a5.count("X") + a5.count("M"),
    }
    return atoms


def _random_decoration(rng: np.random.Generator, n_sites: int, n_vac: int, n_dopant: int) -> str:
    chars = np.array(["X"] * n_vac + ["M"] * n_dopant + ["S"] * (n_sites - n_vac - n_dopant))
    return "".join(rng.permutation(chars))


def _counts(n_sites: int):
    return [(v, m) for v, m in itertools.product(range(0, n_sites + 1, 2), repeat=2) if v + m <= n_sites]


def make_system(system: str, dopant: str, out_dir: str | Path, *, seed: int = 0, n_extra_limit0: int = 10) -> dict:
    """Write dataset/inference/audit/competing phases/parent extxyz of one synthetic system.

    Returns the system's config entry (paths to those files).
    """
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    base = parent()
    labeled, seen = [], set()
    a4_counts, a5_counts = _counts(N_A4), _counts(N_A5)
    for (v4, m4), (v5, m5) in itertools.product(a4_counts, a5_counts):
        labeled.append((_random_decoration(rng, N_A4, v4, m4), _random_decoration(rng, N_A5, v5, m5)))
    seen.update(labeled)
    clean_a5 = "S" * N_A5
    while sum(1 for _, a5 in labeled if a5 == clean_a5) < len(a4_counts) + n_extra_limit0:
        v4, m4 = a4_counts[rng.integers(len(a4_counts))]
        candidate = (_random_decoration(rng, N_A4, v4, m4), clean_a5)
        if candidate not in seen:
            seen.add(candidate)
            labeled.append(candidate)

    frames = []
    for index, (a4, a5) in enumerate(labeled):
        atoms = decorate(base, dopant, a4, a5)
        atoms.info.update(id=f"{system}-{index:04d}", energy=_energy(atoms))
        frames.append(atoms)

    inference = []
    for index, a4 in enumerate(sorted({"".join(p) for p in itertools.product("SMX", repeat=N_A4)})):
        if a4.count("X") % 2 or a4.count("M") % 2:
            continue
        atoms = decorate(base, dopant, a4, clean_a5)
        atoms.info["id"] = f"{system}-inf-{index:03d}"
        inference.append(atoms)
    audit = []
    for index in sorted(np.random.default_rng(seed + 1).choice(len(inference), size=8, replace=False)):
        atoms = inference[index].copy()
        atoms.info["energy"] = _energy(atoms)
        audit.append(atoms)

    phases = []
    for name, atoms in (
        (HOST, bulk(HOST, "fcc", a=_LATTICE[HOST], cubic=True)),
        (dopant, bulk(dopant, "fcc", a=_LATTICE[dopant], cubic=True)),
        # only the dopant-rich compound, so that some Cu-rich structures fall below the hull
        (f"{HOST}{dopant}3-L12", _l12(dopant, HOST)),
    ):
        atoms.info.update(name=name, energy=_energy(atoms))
        phases.append(atoms)

    paths = {
        "dataset": out_dir / f"{system}_dataset.extxyz",
        "inference": out_dir / f"{system}_inference.extxyz",
        "audit": out_dir / f"{system}_audit.extxyz",
        "competing_phases": out_dir / f"{system}_competing_phases.extxyz",
        "parent": out_dir / f"{system}_parent.extxyz",
    }
    for key, data in (
        ("dataset", frames),
        ("inference", inference),
        ("audit", audit),
        ("competing_phases", phases),
        ("parent", [base]),
    ):
        write_frames(data, paths[key])
    return {key: str(path) for key, path in paths.items()}


def _l12(majority: str, minority: str) -> Atoms:
    a = (3 * _LATTICE[majority] + _LATTICE[minority]) / 4
    return Atoms(
        [minority, majority, majority, majority],
        scaled_positions=[(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)],
        cell=[a, a, a],
        pbc=True,
    )


FIXTURE_SYSTEMS = {"CuPt": "Pt", "CuPd": "Pd"}


def make_study(out_dir: str | Path, *, systems: dict[str, str] = FIXTURE_SYSTEMS, overrides: dict | None = None) -> Path:
    """Write a synthetic study (data files + ``config.yaml``) into ``out_dir``; returns the config path.

    Paths in the config are absolute, so the workflow can run from any working directory.
    ``overrides`` are merged into the top level of the config (e.g. smaller model settings).
    """
    out_dir = Path(out_dir).resolve()
    data_dir = out_dir / "data"
    config = {
        "systems": {name: make_system(name, dopant, data_dir, seed=i) for i, (name, dopant) in enumerate(systems.items())},
        "limits": [0, 2, 4, 6, 8],
        "split": {"test_size": 6, "val_fraction": 0.2, "seed": 1},
        # short clusters: the defaults (pairs to 10 Å, triplets to 6 Å) give this 32-site cell
        # 7,838 columns and every classical job ~3x the time; the environment descriptors stay on
        "features": {"cluster_cutoffs": [5.0, 3.0]},
        # small models: the fixture exercises the workflow, not the models' quality
        "classical": {
            "folds": 2,
            "params": {
                "rf": {"n_estimators": 20},
                "xgb": {"n_estimators": 30},
                "lgbm": {"n_estimators": 30},
                "catboost": {"iterations": 30},
            },
        },
        "allegro": {
            "models": ["scratch", "self"],
            "limits": [0, 8],
            "epochs": 2,
            "min_steps": 20,
            "model": {"cutoff_radius": 4.0, "num_scalar_features": 8, "num_tensor_features": 2, "mlp_width": 8},
        },
    }
    config.update(overrides or {})
    path = out_dir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
