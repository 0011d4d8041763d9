"""The parent approximant: an Im-3 Sc120M26 1/1 Mackay-type structure (two clusters + glue).

The ideal geometry follows the site table of DESIGN.md; the disordered glue sites A4 (12e)
and A5 (24g) are the ones a decoration changes.
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms

# spglib and ase.spacegroup are imported where used: the rules import this module for names
# only (qcrobust.workflow.default_data), and ase.spacegroup pulls in ase.io (~0.3 s per snakemake start)

GOLDEN_RATIO = (1 + math.sqrt(5)) / 2
SPACE_GROUP = 204  # Im-3
LATTICE_CONSTANT = 14.4  # Angstrom, before relaxation
INNER_RADIUS = 2.85  # Angstrom, inner (Sc1) icosahedron
A4_X = 0.145
A5_YZ = (0.40, 0.31)
# Site labels in the order the parent lists its atoms; the disordered ones come last.
SITE_LABELS = ("M1", "Sc1", "Sc2", "Sc3", "M2", "A4", "A5")
DISORDERED_SITES = ("A4", "A5")
DEFAULT_DOPANTS = {"ScPt": "Pt", "ScPd": "Pd", "ScIr": "Ir", "ScRh": "Rh"}


def dopant_of(system: str) -> str:
    """The dopant element of a default system name such as ``ScPt``."""
    try:
        return DEFAULT_DOPANTS[system]
    except KeyError:
        raise ValueError(f"unknown default system {system!r}; expected one of {sorted(DEFAULT_DOPANTS)}") from None


def _wyckoff_representatives(a: float) -> dict[str, tuple[float, float, float]]:
    """One fractional representative per site, from the cluster geometry in Angstrom."""
    tau = GOLDEN_RATIO
    scale = INNER_RADIUS / math.hypot(1.0, tau)  # inner icosahedron vertices are scale * (0, 1, tau)
    inner = np.array([0.0, 1.0, tau]) * scale
    # Icosidodecahedron = sums of adjacent inner vertices: axial (0, 0, 2 tau) and general (tau, 1, tau^2).
    axial = np.array([2 * tau, 0.0, 0.0]) * scale
    general = np.array([tau, 1.0, tau**2]) * scale
    outer = 2 * inner
    return {
        "M1": (0.0, 0.0, 0.0),
        "Sc1": tuple(inner / a),
        "Sc2": tuple(axial / a),
        "Sc3": tuple(general / a),
        "M2": tuple(outer / a),
        "A4": (A4_X, 0.0, 0.5),
        "A5": (0.0, *A5_YZ),
    }


def build_ideal_parent(dopant: str, a: float = LATTICE_CONSTANT) -> Atoms:
    """The unrelaxed parent with ``atoms.arrays['site']`` labelling each atom's Wyckoff site.

    Atoms are ordered by site (``SITE_LABELS``), so the A4 atoms then the A5 atoms close the list.
    """
    from ase.spacegroup import crystal

    reps = _wyckoff_representatives(a)
    symbols = [dopant if label.startswith("M") else "Sc" for label in SITE_LABELS]
    atoms = crystal(
        symbols,
        basis=[reps[label] for label in SITE_LABELS],
        spacegroup=SPACE_GROUP,
        cellpar=[a, a, a, 90, 90, 90],
        primitive_cell=False,
    )
    kinds = atoms.get_array("spacegroup_kinds")
    order = np.argsort(kinds, kind="stable")
    atoms = atoms[order]
    sites = np.array([SITE_LABELS[k] for k in atoms.get_array("spacegroup_kinds")], dtype="<U3")
    del atoms.arrays["spacegroup_kinds"]
    atoms.set_array("site", sites)
    atoms.info.clear()
    return atoms


def space_group_symbol(atoms: Atoms, symprec: float = 0.01) -> str | None:
    """spglib's international symbol of ``atoms`` (species-aware), or None if it finds none."""
    import spglib

    cell = (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    return None if dataset is None else dataset.international


def min_pair_distance(atoms: Atoms) -> float:
    """The shortest interatomic distance under periodic boundary conditions, in Angstrom."""
    from ase.neighborlist import neighbor_list

    distances = neighbor_list("d", atoms, cutoff=4.0)
    return float(distances.min())


def disordered_indices(parent: Atoms) -> np.ndarray:
    """Indices of the A4 atoms then the A5 atoms, in parent order: the decoration's site order."""
    sites = parent.get_array("site")
    return np.concatenate([np.flatnonzero(sites == label) for label in DISORDERED_SITES])
