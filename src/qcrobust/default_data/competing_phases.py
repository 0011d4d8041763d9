"""Competing phases of a default system: elemental ground states and Sc-M binary prototypes.

Each is built from its prototype with a lattice constant from atomic volumes, then relaxed
(cell + positions, symmetry kept) with the labeler. With the parent they span the hull.
"""

from __future__ import annotations

from collections.abc import Callable

from ase import Atoms
from ase.build import bulk
from ase.spacegroup import crystal

from qcrobust.default_data.labeler import relax_cell_and_positions

# Approximate volumes per atom (A^3) of the elements: only starting points for the relaxation.
ATOMIC_VOLUME = {"Sc": 25.0, "Pt": 15.1, "Pd": 14.7, "Ir": 14.1, "Rh": 13.8}


def _cubic_a(symbols: dict[str, int], atoms_per_cell: int) -> float:
    volume = sum(ATOMIC_VOLUME[el] * n for el, n in symbols.items()) * atoms_per_cell / sum(symbols.values())
    return volume ** (1 / 3)


def _b2(a_el: str, b_el: str) -> Atoms:  # CsCl
    return crystal([a_el, b_el], [(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=221, cellpar=[_cubic_a({a_el: 1, b_el: 1}, 2)] * 3 + [90] * 3)


def _l10(a_el: str, b_el: str) -> Atoms:  # CuAu, tetragonal P4/mmm cell
    a = _cubic_a({a_el: 1, b_el: 1}, 4) / 2**0.5
    return crystal([a_el, b_el], [(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=123, cellpar=[a, a, a * 2**0.5, 90, 90, 90])


def _l12(majority: str, minority: str) -> Atoms:  # Cu3Au: minority at the corner
    a = _cubic_a({majority: 3, minority: 1}, 4)
    return crystal([minority, majority], [(0, 0, 0), (0, 0.5, 0.5)], spacegroup=221, cellpar=[a, a, a, 90, 90, 90])


def _c15(large: str, small: str) -> Atoms:  # MgCu2 Laves: large atom on 8a, small on 16d
    a = _cubic_a({large: 1, small: 2}, 24)
    return crystal([large, small], [(0.125, 0.125, 0.125), (0.5, 0.5, 0.5)], spacegroup=227, setting=2, cellpar=[a, a, a, 90, 90, 90])


def prototypes(dopant: str) -> dict[str, Callable[[], Atoms]]:
    """Name -> builder of every competing phase except the parent."""
    m = dopant
    a_sc = (2 * ATOMIC_VOLUME["Sc"] / (3**0.5 / 2 * 1.594)) ** (1 / 3)
    return {
        "Sc (hcp)": lambda: bulk("Sc", "hcp", a=a_sc, c=1.594 * a_sc),
        "Sc (fcc)": lambda: bulk("Sc", "fcc", a=(4 * ATOMIC_VOLUME["Sc"]) ** (1 / 3), cubic=True),
        "Sc (bcc)": lambda: bulk("Sc", "bcc", a=(2 * ATOMIC_VOLUME["Sc"]) ** (1 / 3), cubic=True),
        f"{m} (fcc)": lambda: bulk(m, "fcc", a=(4 * ATOMIC_VOLUME[m]) ** (1 / 3), cubic=True),
        f"{m} (hcp)": lambda: bulk(m, "hcp", a=(2 * ATOMIC_VOLUME[m] / (3**0.5 / 2 * 1.633)) ** (1 / 3), c=1.633 * (2 * ATOMIC_VOLUME[m] / (3**0.5 / 2 * 1.633)) ** (1 / 3)),
        f"Sc{m} (B2)": lambda: _b2("Sc", m),
        f"Sc{m} (L1_0)": lambda: _l10("Sc", m),
        f"Sc3{m} (L1_2)": lambda: _l12("Sc", m),
        f"Sc{m}3 (L1_2)": lambda: _l12(m, "Sc"),
        f"Sc{m}2 (C15)": lambda: _c15("Sc", m),
        f"{m}Sc2 (C15)": lambda: _c15(m, "Sc"),
    }


def relaxed_competing_phases(dopant: str, parent: Atoms) -> list[Atoms]:
    """Every prototype relaxed (cell + positions, symmetry kept), then the parent; ``info``: name, energy."""
    phases = []
    for name, build in prototypes(dopant).items():
        atoms = build()
        label = relax_cell_and_positions(atoms, fmax=0.01, steps=400)
        atoms.calc = None
        atoms.info = {"name": name, "energy": label.energy, "converged": int(label.converged)}
        phases.append(atoms)
    atoms = parent.copy()
    atoms.calc = None
    atoms.info = {"name": "parent (Sc120M26 approximant)", "energy": float(parent.info["energy"]), "converged": 1}
    phases.append(atoms)
    return phases
