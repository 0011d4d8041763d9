"""The labeler of the default dataset: CHGNet (a DFT stand-in) and the fixed relaxation protocol.

Deterministic on CPU: one torch thread per process, fixed optimizer and step cap. The same
functions label the shipped data and recompute it under ``default_data.relabel: true``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms
from ase.constraints import FixSymmetry
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE, LBFGS

OPTIMIZERS = {"FIRE": FIRE, "BFGS": BFGS, "LBFGS": LBFGS}


@dataclass(frozen=True)
class Protocol:
    """How one structure is labeled: positions relaxed at fixed cell, capped at ``step_cap`` steps."""

    optimizer: str = "FIRE"
    fmax: float = 0.05  # eV/A
    step_cap: int = 30

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Label:
    energy: float  # eV, total, at the last geometry of the relaxation
    n_steps: int
    converged: bool
    fmax: float  # eV/A, largest force at that geometry


def set_single_thread() -> None:
    """One torch thread: CHGNet is then bitwise deterministic and 2 processes share 2 cores well."""
    import torch

    torch.set_num_threads(1)


@functools.lru_cache(maxsize=1)
def chgnet_calculator():
    """The pretrained CHGNet model as an ASE calculator (weights ship in the wheel; no network)."""
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    set_single_thread()
    model = CHGNet.load(verbose=False)
    return CHGNetCalculator(model=model, use_device="cpu", on_isolated_atoms="ignore")


def labeler_versions() -> dict[str, str]:
    """Versions that determine the labels, for PROVENANCE.md."""
    from importlib.metadata import version

    import ase
    import torch

    calc = chgnet_calculator()
    return {
        "chgnet": version("chgnet"),
        "chgnet_model": str(getattr(calc.model, "version", "unknown")),
        "torch": torch.__version__,
        "ase": ase.__version__,
        "numpy": np.__version__,
    }


def _max_force(atoms: Atoms) -> float:
    forces = atoms.get_forces()
    return float(np.sqrt((forces**2).sum(axis=1)).max()) if len(forces) else 0.0


def relax_positions(atoms: Atoms, protocol: Protocol, calculator=None) -> Label:
    """Relax positions at fixed cell (in place) and return the label of the final geometry."""
    atoms.calc = calculator or chgnet_calculator()
    optimizer = OPTIMIZERS[protocol.optimizer](atoms, logfile=None)
    converged = bool(optimizer.run(fmax=protocol.fmax, steps=protocol.step_cap))
    energy = float(atoms.get_potential_energy())
    if not math.isfinite(energy):
        raise RuntimeError(f"non-finite CHGNet energy for {atoms.get_chemical_formula()}")
    return Label(energy=energy, n_steps=int(optimizer.nsteps), converged=converged, fmax=_max_force(atoms))


def relax_cell_and_positions(
    atoms: Atoms, fmax: float = 0.01, steps: int = 500, keep_symmetry: bool = True, calculator=None
) -> Label:
    """Relax cell and positions (in place), optionally keeping the space group (FixSymmetry)."""
    atoms.calc = calculator or chgnet_calculator()
    if keep_symmetry:
        atoms.set_constraint(FixSymmetry(atoms, symprec=0.01))
    optimizer = FIRE(FrechetCellFilter(atoms), logfile=None)
    converged = bool(optimizer.run(fmax=fmax, steps=steps))
    energy = float(atoms.get_potential_energy())
    label = Label(energy=energy, n_steps=int(optimizer.nsteps), converged=converged, fmax=_max_force(atoms))
    atoms.set_constraint()
    return label
