"""Starting volumes per atom for building crystal cells of any element (before relaxation).

Used by the default data's competing phases and by Allegro's default pretraining corpus: both
scale prototype cells (B2, L1_2, C15, ...) to the mean atomic volume of their composition.
"""

from __future__ import annotations

import numpy as np
from ase.data import atomic_numbers, reference_states

# Å^3 per atom of the default systems' elements (near the CHGNet-relaxed elemental phases)
ATOMIC_VOLUME = {"Sc": 25.0, "Pt": 15.1, "Pd": 14.7, "Ir": 14.1, "Rh": 13.8}


def atomic_volume(element: str) -> float:
    """A starting volume per atom (Å^3): the table above, else ASE's reference state of the element."""
    if element in ATOMIC_VOLUME:
        return float(ATOMIC_VOLUME[element])
    state = reference_states[atomic_numbers[element]] or {}
    structure, a = state.get("symmetry"), state.get("a")
    per_cell = {"fcc": 4, "bcc": 2, "sc": 1, "diamond": 8}
    if structure in per_cell and a:
        return a**3 / per_cell[structure]
    if structure == "hcp" and a:
        c = state.get("c/a", 1.633) * a
        return float(np.sqrt(3) / 2 * a * a * c / 2)
    raise ValueError(f"no reference volume for {element}")
