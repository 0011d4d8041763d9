"""Cross-check of the labeler: CHGNet vs SevenNet (7net-0) formation energies on a seeded sample.

Both potentials evaluate the same geometry, the unrelaxed decorated structure (what the models
are given), so the comparison isolates the potentials from the relaxation protocol. Each
potential's elemental references are its own relaxed ground states (lowest of the elemental
prototypes), so E_form is on each model's own scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from qcrobust.default_data.assemble import LABELED_KINDS
from qcrobust.default_data.competing_phases import prototypes
from qcrobust.default_data.decorations import system_rng
from qcrobust.default_data.labeler import chgnet_calculator, relax_cell_and_positions
from qcrobust.default_data.structures import decorate


def sevennet_calculator():
    """SevenNet-0 (weights ship in the ``sevenn`` wheel), on CPU."""
    from sevenn.calculator import SevenNetCalculator

    return SevenNetCalculator("7net-0", device="cpu")


def crosscheck_sample(table: pd.DataFrame, size: int, seed: int, system: str) -> pd.DataFrame:
    """A seeded sample of the labeled structures (training/test pool), in table order."""
    pool = table[table["kind"].isin(LABELED_KINDS)]
    picks = system_rng(seed, system, "crosscheck").choice(len(pool), size=min(size, len(pool)), replace=False)
    return pool.iloc[np.sort(picks)]


def elemental_references(dopant: str, calculator) -> dict[str, float]:
    """Lowest relaxed energy per atom among the elemental prototypes, per element."""
    refs: dict[str, float] = {}
    for build in prototypes(dopant).values():
        atoms = build()
        if len(set(atoms.get_chemical_symbols())) != 1:
            continue
        label = relax_cell_and_positions(atoms, fmax=0.01, steps=400, calculator=calculator)
        element = atoms.get_chemical_symbols()[0]
        refs[element] = min(label.energy / len(atoms), refs.get(element, np.inf))
    return refs


def formation_energies(parent, sample: pd.DataFrame, dopant: str, calculator, refs: dict[str, float]) -> np.ndarray:
    values = []
    for decoration in sample["decoration"]:
        atoms = decorate(parent, decoration, dopant)
        atoms.calc = calculator
        energy = float(atoms.get_potential_energy())
        values.append((energy - sum(refs[s] for s in atoms.get_chemical_symbols())) / len(atoms))
    return np.array(values)


def crosscheck(parent, sample: pd.DataFrame, dopant: str) -> tuple[pd.DataFrame, dict]:
    """Per-structure E_form of both potentials (eV/atom) and the agreement: MAE, Spearman rho."""
    result = sample[["id", "n_A5_defects"]].copy()
    for name, calculator in (("chgnet", chgnet_calculator()), ("sevennet", sevennet_calculator())):
        refs = elemental_references(dopant, calculator)
        result[f"e_form_{name}"] = formation_energies(parent, sample, dopant, calculator, refs)
    diff = result["e_form_sevennet"] - result["e_form_chgnet"]
    rho = spearmanr(result["e_form_chgnet"], result["e_form_sevennet"]).statistic
    summary = {
        "n": int(len(result)),
        "mae_eV_per_atom": float(diff.abs().mean()),
        "mean_difference_eV_per_atom": float(diff.mean()),
        "mae_after_mean_shift_eV_per_atom": float((diff - diff.mean()).abs().mean()),
        "spearman": float(rho),
        "geometry": "unrelaxed decorated parent (same input for both potentials)",
    }
    return result, summary
