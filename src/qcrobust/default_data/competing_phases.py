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
from qcrobust.elements import ATOMIC_VOLUME

# Approximate volumes per atom (A^3) of the elements: only starting points for the relaxation.


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


def _d03(majority: str, minority: str) -> Atoms:  # BiF3 / Fe3Al, primitive fcc cell
    a = _cubic_a({majority: 3, minority: 1}, 16)
    return crystal(
        [minority, majority, majority],
        [(0, 0, 0), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)],
        spacegroup=225,
        cellpar=[a] * 3 + [90] * 3,
        primitive_cell=True,
    )


def _d019(majority: str, minority: str) -> Atoms:  # Ni3Sn, hexagonal
    volume = (3 * ATOMIC_VOLUME[majority] + ATOMIC_VOLUME[minority]) * 2
    a = (volume / (0.8 * 3**0.5 / 2)) ** (1 / 3)
    return crystal([minority, majority], [(1 / 3, 2 / 3, 0.25), (5 / 6, 2 / 3, 0.25)], spacegroup=194, cellpar=[a, a, 0.8 * a, 90, 90, 120])


def _c16(large: str, small: str) -> Atoms:  # CuAl2 with the majority (large) atom on the Al site, primitive cell
    volume = (2 * ATOMIC_VOLUME[large] + ATOMIC_VOLUME[small]) * 4
    a = (volume / 0.8) ** (1 / 3)
    return crystal(
        [small, large], [(0, 0, 0.25), (0.158, 0.658, 0)], spacegroup=140, cellpar=[a, a, 0.8 * a, 90, 90, 90], primitive_cell=True
    )


def _e93(large: str, small: str) -> Atoms:  # Ti2Ni (cF96) with the majority atom on the Ti sites, primitive cell
    # Free parameters chosen to maximise the closest distance of the ideal cell; the relaxation refines them.
    a = _cubic_a({large: 2, small: 1}, 96)
    return crystal(
        [large, small, large],
        [(0.5, 0.5, 0.5), (0.28, 0.28, 0.28), (0.34, 0.125, 0.125)],
        spacegroup=227,
        setting=2,
        cellpar=[a] * 3 + [90] * 3,
        primitive_cell=True,
    )


def _d88(large: str, small: str) -> Atoms:  # Mn5Si3, hexagonal
    volume = (5 * ATOMIC_VOLUME[large] + 3 * ATOMIC_VOLUME[small]) * 2
    a = (volume / (0.7 * 3**0.5 / 2)) ** (1 / 3)
    return crystal(
        [large, large, small], [(1 / 3, 2 / 3, 0), (0.236, 0, 0.25), (0.599, 0, 0.25)], spacegroup=193, cellpar=[a, a, 0.7 * a, 90, 90, 120]
    )


def prototypes(dopant: str) -> dict[str, Callable[[], Atoms]]:
    """Name -> builder of every competing phase except the parent."""
    m = dopant
    a_sc = (2 * ATOMIC_VOLUME["Sc"] / (3**0.5 / 2 * 1.594)) ** (1 / 3)
    return {
        "Sc (hcp)": lambda: bulk("Sc", "hcp", a=a_sc, c=1.594 * a_sc),
        "Sc (fcc)": lambda: bulk("Sc", "fcc", a=(4 * ATOMIC_VOLUME["Sc"]) ** (1 / 3), cubic=True),
        "Sc (bcc)": lambda: bulk("Sc", "bcc", a=(2 * ATOMIC_VOLUME["Sc"]) ** (1 / 3), cubic=True),
        f"{m} (fcc)": lambda: bulk(m, "fcc", a=(4 * ATOMIC_VOLUME[m]) ** (1 / 3), cubic=True),
        f"{m} (hcp)": lambda: bulk(
            m,
            "hcp",
            a=(2 * ATOMIC_VOLUME[m] / (3**0.5 / 2 * 1.633)) ** (1 / 3),
            c=1.633 * (2 * ATOMIC_VOLUME[m] / (3**0.5 / 2 * 1.633)) ** (1 / 3),
        ),
        f"Sc{m} (B2)": lambda: _b2("Sc", m),
        f"Sc{m} (L1_0)": lambda: _l10("Sc", m),
        f"Sc3{m} (L1_2)": lambda: _l12("Sc", m),
        f"Sc{m}3 (L1_2)": lambda: _l12(m, "Sc"),
        f"Sc{m}2 (C15)": lambda: _c15("Sc", m),
        f"{m}Sc2 (C15)": lambda: _c15(m, "Sc"),
        # Sc-rich prototypes: the approximant's composition range (Sc fraction 0.67-0.82)
        f"Sc3{m} (D0_3)": lambda: _d03("Sc", m),
        f"Sc3{m} (D0_19)": lambda: _d019("Sc", m),
        f"Sc2{m} (C16)": lambda: _c16("Sc", m),
        f"Sc2{m} (E9_3)": lambda: _e93("Sc", m),
        f"Sc5{m}3 (D8_8)": lambda: _d88("Sc", m),
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
