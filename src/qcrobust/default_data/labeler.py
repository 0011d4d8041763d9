"""The labeler of the default dataset: CHGNet (a DFT stand-in) and the fixed relaxation protocol.

Repeatable on CPU: one torch thread per process, fixed optimizer and step cap give the same
bits on rerun on one machine. Across CPU models CHGNet's float32 kernels round differently, so
a recomputed label agrees within :data:`qcrobust.default_data.labels.LABEL_TOLERANCE`, not bit
for bit. The same functions label the shipped data and recompute it under
``default_data.relabel: true``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
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
    # largest force at every geometry the optimizer visited (the start included): tells how close
    # the run came to stopping at another step (a force near the protocol's fmax)
    fmax_history: tuple[float, ...] = ()

    def fmax_margin(self, threshold: float) -> float:
        """Smallest distance (eV/A) between a visited geometry's largest force and ``threshold``."""
        return min((abs(f - threshold) for f in self.fmax_history), default=math.inf)


def set_single_thread() -> None:
    """One torch thread: CHGNet is then bitwise repeatable on one machine (not across CPU models,
    see :data:`qcrobust.default_data.labels.LABEL_TOLERANCE`) and 2 processes share 2 cores well."""
    import torch

    torch.set_num_threads(1)


@functools.lru_cache(maxsize=1)
def chgnet_model():
    """The pretrained CHGNet model (weights ship in the wheel; no network), on CPU."""
    from chgnet.model import CHGNet

    set_single_thread()
    return CHGNet.load(verbose=False)


@functools.lru_cache(maxsize=1)
def chgnet_calculator():
    """CHGNet's own ASE calculator (energy, forces, stress): for cell relaxations."""
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(model=chgnet_model(), use_device="cpu", on_isolated_atoms="ignore")


class CHGNetEnergyForces(Calculator):
    """CHGNet energy and forces only: half the cost of the stock calculator, which always
    differentiates for the stress too. Used for the fixed-cell relaxations of the labels."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, model):
        super().__init__()
        self.model = model

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        from pymatgen.io.ase import AseAtomsAdaptor

        super().calculate(atoms, properties, system_changes)
        graph = self.model.graph_converter(AseAtomsAdaptor.get_structure(self.atoms))
        prediction = self.model.predict_graph(graph, task="ef")
        per_structure = len(self.atoms) if self.model.is_intensive else 1
        self.results = {
            "energy": float(prediction["e"]) * per_structure,
            "forces": np.asarray(prediction["f"], dtype=float),
        }


@functools.lru_cache(maxsize=1)
def label_calculator() -> CHGNetEnergyForces:
    return CHGNetEnergyForces(chgnet_model())


def labeler_versions() -> dict[str, str]:
    """Versions that determine the labels, for PROVENANCE.md."""
    from importlib.metadata import version

    import ase
    import torch

    return {
        "chgnet": version("chgnet"),
        "chgnet_model": str(getattr(chgnet_model(), "version", "unknown")),
        "torch": torch.__version__,
        "ase": ase.__version__,
        "numpy": np.__version__,
    }


def _max_force(atoms: Atoms) -> float:
    forces = atoms.get_forces()
    return float(np.sqrt((forces**2).sum(axis=1)).max()) if len(forces) else 0.0


def relax_positions(atoms: Atoms, protocol: Protocol, calculator=None) -> Label:
    """Relax positions at fixed cell (in place) and return the label of the final geometry."""
    atoms.calc = calculator or label_calculator()
    optimizer = OPTIMIZERS[protocol.optimizer](atoms, logfile=None)
    history: list[float] = []
    # observers run at every visited geometry, before the convergence test (forces are cached)
    optimizer.attach(lambda: history.append(_max_force(atoms)))
    converged = bool(optimizer.run(fmax=protocol.fmax, steps=protocol.step_cap))
    energy = float(atoms.get_potential_energy())
    if not math.isfinite(energy):
        raise RuntimeError(f"non-finite CHGNet energy for {atoms.get_chemical_formula()}")
    return Label(energy=energy, n_steps=int(optimizer.nsteps), converged=converged, fmax=_max_force(atoms), fmax_history=tuple(history))


def relax_cell_and_positions(atoms: Atoms, fmax: float = 0.01, steps: int = 500, keep_symmetry: bool = True, calculator=None) -> Label:
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
