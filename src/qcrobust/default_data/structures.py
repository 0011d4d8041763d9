"""Structures of the default dataset, regenerated from the relaxed parent and a decoration."""

from __future__ import annotations

import os

import numpy as np
from ase import Atoms

from qcrobust.default_data.decorations import DOPANT, N_A4, N_A5, SC, VACANCY
from qcrobust.default_data.parent import build_ideal_parent, disordered_indices, dopant_of, min_pair_distance, space_group_symbol
from qcrobust.errors import InputError
from qcrobust.io import frame_value, read_frames, write_frames

MIN_PARENT_DISTANCE = 2.4  # Angstrom; closer pairs mean the relaxation broke the parent


def decorate(parent: Atoms, decoration: str, dopant: str) -> Atoms:
    """The parent with its glue sites set by ``decoration``; vacant sites deleted (no dummy species).

    Geometry is the parent's (unrelaxed for the decorated structure); ``arrays['site']`` is kept.
    """
    index = disordered_indices(parent)
    if len(decoration) != N_A4 + N_A5 or len(index) != N_A4 + N_A5 or set(decoration) - {SC, DOPANT, VACANCY}:
        raise ValueError(f"invalid decoration {decoration!r} for a parent with {len(index)} glue sites")
    atoms = parent.copy()
    atoms.calc = None
    atoms.info = {}
    symbols = np.array(atoms.get_chemical_symbols(), dtype=object)
    codes = np.array(list(decoration))
    symbols[index[codes == SC]] = "Sc"
    symbols[index[codes == DOPANT]] = dopant
    atoms.set_chemical_symbols(list(symbols))
    del atoms[index[codes == VACANCY]]
    return atoms


def decoration_of(atoms: Atoms, parent: Atoms, dopant: str, tolerance: float = 1e-4) -> str:
    """The decoration of a structure built by :func:`decorate` (inverse: sites matched by position)."""
    index = disordered_indices(parent)
    glue = parent.get_positions()[index]
    chars = [VACANCY] * len(index)
    positions = atoms.get_positions()
    symbols = atoms.get_chemical_symbols()
    for i, site in enumerate(glue):
        distance = np.linalg.norm(positions - site, axis=1)
        j = int(distance.argmin())
        if distance[j] < tolerance:
            chars[i] = DOPANT if symbols[j] == dopant else SC
    return "".join(chars)


def relaxed_parent(system: str, fmax: float = 0.01, steps: int = 500) -> tuple[Atoms, dict]:
    """Build and relax (cell + positions, symmetry kept) the parent of ``system``; check it is intact."""
    from qcrobust.default_data.labeler import relax_cell_and_positions  # ASE's optimizers: only when relaxing

    dopant = dopant_of(system)
    atoms = build_ideal_parent(dopant)
    label = relax_cell_and_positions(atoms, fmax=fmax, steps=steps)
    atoms.calc = None
    checks = {
        "space_group": space_group_symbol(atoms, symprec=0.01),
        "min_distance": min_pair_distance(atoms),
        "a": float(atoms.cell.cellpar()[0]),
    }
    if checks["space_group"] != "Im-3" or checks["min_distance"] < MIN_PARENT_DISTANCE or not label.converged:
        raise RuntimeError(f"{system}: relaxed parent is not intact: {checks}, {label}")
    atoms.info = {"system": system, "energy": label.energy, "n_steps": label.n_steps, "fmax": label.fmax}
    return atoms, checks


def write_parent(atoms: Atoms, path: str | os.PathLike) -> None:
    write_frames([atoms], path)


def read_parent(path: str | os.PathLike) -> Atoms:
    """The relaxed parent as shipped (positions as written, so regeneration is byte-identical)."""
    (atoms,) = read_frames(path)[:1]
    if "site" not in atoms.arrays:
        raise InputError(path, "frame 0", "parent has no per-atom 'site' array")
    energy = frame_value(atoms, "energy")
    atoms.calc = None
    if energy is not None:
        atoms.info["energy"] = float(energy)
    return atoms
