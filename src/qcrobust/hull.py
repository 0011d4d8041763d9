"""Elemental references, formation energies and the convex hull of competing phases.

E_form = (E_total - sum_el n_el * mu_el) / N                     (paper eq. 1, any number of elements)
E_above_hull = E_total / N - E_hull(composition)                 (paper eq. 2)

E_hull comes from pymatgen's PhaseDiagram over the competing phases plus the elemental
references, never from the dataset itself, so structures can lie below it (the screening target).
Writing E_above_hull with total energies per atom keeps it independent of how the references
are chosen, as long as the references are on the same energy scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ase import Atoms

from qcrobust.errors import InputError
from qcrobust.io import frame_value

if TYPE_CHECKING:
    from pymatgen.analysis.phase_diagram import PhaseDiagram


def _composition(formula):
    # pymatgen on first use: the rules import this module (via qcrobust.dataset) only for names,
    # and pymatgen's phase diagram pulls in scipy and matplotlib (~0.35 s of every snakemake start)
    from pymatgen.core import Composition

    return Composition(formula)


def phase_energy(atoms: Atoms, path, index: int) -> float:
    """Total energy of a competing-phase frame; an :class:`InputError` if missing or not finite."""
    energy = frame_value(atoms, "energy")
    name = atoms.info.get("name", atoms.get_chemical_formula())
    try:
        energy = float(energy)
    except (TypeError, ValueError):
        raise InputError(path, f"frame {index} ({name})", f"missing or non-numeric 'energy': {energy!r}") from None
    if not math.isfinite(energy):
        raise InputError(path, f"frame {index} ({name})", f"energy is not finite: {energy}")
    return energy


def references_from_phases(phases: Iterable[Atoms], path) -> dict[str, float]:
    """Lowest energy per atom of each single-element phase: the elemental chemical potentials."""
    refs: dict[str, float] = {}
    for index, atoms in enumerate(phases):
        symbols = set(atoms.get_chemical_symbols())
        if len(symbols) != 1:
            continue
        (element,) = symbols
        per_atom = phase_energy(atoms, path, index) / len(atoms)
        refs[element] = min(per_atom, refs.get(element, math.inf))
    return refs


@dataclass(frozen=True)
class Hull:
    """A convex hull in energy per atom, with the elemental references used for E_form."""

    references: Mapping[str, float]
    diagram: PhaseDiagram
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, references: Mapping[str, float], phases: Iterable[Atoms] = (), path=None) -> Hull:
        from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

        entries = [PDEntry(_composition({el: 1}), float(mu), name=f"{el} (reference)") for el, mu in sorted(references.items())]
        for index, atoms in enumerate(phases):
            unknown = sorted(set(atoms.get_chemical_symbols()) - set(references))
            if unknown:
                raise InputError(path, f"frame {index}", f"element(s) {unknown} have no reference energy")
            entries.append(
                PDEntry(
                    _composition(atoms.get_chemical_formula()),
                    phase_energy(atoms, path, index),
                    name=str(atoms.info.get("name", atoms.get_chemical_formula())),
                )
            )
        # one order of the entries, whatever the order of the phases' file: the hull's floating-point
        # arithmetic (and so every E_above_hull, to the last bit) must not depend on it
        entries.sort(key=lambda e: (e.composition.reduced_formula, e.energy_per_atom, e.composition.num_atoms, e.name))
        return cls(dict(references), PhaseDiagram(entries))

    def formation_energy(self, symbols: list[str], energy: float) -> float:
        """E_form in eV/atom of a structure with total energy ``energy``."""
        return (energy - sum(self.references[s] for s in symbols)) / len(symbols)

    def hull_energy_per_atom(self, formula: str) -> float:
        key = _composition(formula).reduced_formula
        if key not in self._cache:  # many structures share a composition
            self._cache[key] = float(self.diagram.get_hull_energy_per_atom(_composition(key)))
        return self._cache[key]

    def energy_above_hull(self, symbols: list[str], energy: float, formula: str) -> float:
        return energy / len(symbols) - self.hull_energy_per_atom(formula)

    def hull_formation_energy(self, formula: str) -> float:
        """E_form of the hull itself at this composition (eV/atom)."""
        comp = _composition(formula)
        mu = sum(self.references[str(el)] * frac for el, frac in comp.fractional_composition.items())
        return self.hull_energy_per_atom(formula) - mu
