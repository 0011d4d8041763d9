"""The default external pretraining corpus: small strained and rattled host–dopant cells.

The paper pretrained on an AFLOW slice (structures with at least two of Sc, Pt, Pd, Ir, Rh).
Offline, we build its stand-in from host–dopant pairs: by default one per system (its host,
the most frequent element, with each other element of it: Sc–Pt, Sc–Pd, Sc–Ir, Sc–Rh for the
default data), or the host and dopants named in config ``allegro.pretrain.elements``. For
every element the elemental ground-state candidates (hcp, fcc, bcc); for every pair the
binary prototypes B2, L1_0, L1_2 both ways and C15 Laves both ways, plus random host-rich
substitutional cells (16-site hcp and bcc host supercells, 2-5 dopants: the composition
range of the study). Each cell
is strained isotropically (``strains``) with a small random shear and rattled, then labeled by
a single CHGNet point (the default data's labeler, :mod:`qcrobust.default_data.labeler`).
Labels: ``energy`` (eV) and ``e_form`` (eV/atom) against the CHGNet-relaxed elemental ground
states (lowest of hcp/fcc/bcc per element). Every random draw comes from ``seed``: the same
call gives the same corpus.

A user may bring their own corpus instead (config ``allegro.pretrain.corpus``): any extxyz
whose frames carry the per-atom label named by ``allegro.pretrain.target`` (``e_form``); or
fetch one from AFLOW or an OPTIMADE provider (``allegro.pretrain.source``, :mod:`.sources`).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Mapping, Sequence

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.spacegroup import crystal

from qcrobust.elements import atomic_volume

log = logging.getLogger(__name__)

DEFAULT_PAIRS = (("Sc", "Pt"), ("Sc", "Pd"), ("Sc", "Ir"), ("Sc", "Rh"))
HCP_C_OVER_A = 1.594


def _cubic_a(counts: dict[str, int], atoms_per_cell: int) -> float:
    volume = sum(atomic_volume(el) * n for el, n in counts.items()) / sum(counts.values())
    return (volume * atoms_per_cell) ** (1 / 3)


def elemental_cells(element: str) -> dict[str, Atoms]:
    v = atomic_volume(element)
    a_hcp = (2 * v / (np.sqrt(3) / 2 * HCP_C_OVER_A)) ** (1 / 3)
    return {
        f"{element} (hcp)": bulk(element, "hcp", a=a_hcp, c=HCP_C_OVER_A * a_hcp),
        f"{element} (fcc)": bulk(element, "fcc", a=(4 * v) ** (1 / 3), cubic=True),
        f"{element} (bcc)": bulk(element, "bcc", a=(2 * v) ** (1 / 3), cubic=True),
    }


def binary_cells(host: str, dopant: str) -> dict[str, Atoms]:
    """Ordered host–dopant prototypes (conventional cells, ≤ 24 atoms)."""
    h, d = host, dopant
    a_b2 = _cubic_a({h: 1, d: 1}, 2)
    a_l10 = _cubic_a({h: 1, d: 1}, 4) / np.sqrt(2)
    cells = {
        f"{h}{d} (B2)": crystal([h, d], [(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=221, cellpar=[a_b2] * 3 + [90] * 3),
        f"{h}{d} (L1_0)": crystal(
            [h, d], [(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=123, cellpar=[a_l10, a_l10, a_l10 * np.sqrt(2), 90, 90, 90]
        ),
    }
    for major, minor in ((h, d), (d, h)):
        a = _cubic_a({major: 3, minor: 1}, 4)
        cells[f"{major}3{minor} (L1_2)"] = crystal([minor, major], [(0, 0, 0), (0, 0.5, 0.5)], spacegroup=221, cellpar=[a] * 3 + [90] * 3)
    for large, small in ((h, d), (d, h)):
        a = _cubic_a({large: 1, small: 2}, 24)
        cells[f"{large}{small}2 (C15)"] = crystal(
            [large, small], [(0.125, 0.125, 0.125), (0.5, 0.5, 0.5)], spacegroup=227, setting=2, cellpar=[a] * 3 + [90] * 3
        )
    return cells


def substitutional_cells(host: str, dopant: str, rng: np.random.Generator, draws: int = 2) -> dict[str, Atoms]:
    """Host-rich random alloys: 16-site hcp and bcc host supercells with 2-5 dopant atoms."""
    lattices = {
        "hcp": elemental_cells(host)[f"{host} (hcp)"].repeat((2, 2, 2)),
        "bcc": elemental_cells(host)[f"{host} (bcc)"].repeat((2, 2, 2)),
    }
    cells = {}
    for lattice, base in lattices.items():
        for n_dopant in (2, 3, 4, 5):
            for draw in range(draws):
                atoms = base.copy()
                symbols = np.array(atoms.get_chemical_symbols(), dtype=object)
                symbols[rng.choice(len(atoms), n_dopant, replace=False)] = dopant
                atoms.set_chemical_symbols(list(symbols))
                # Vegard: scale the host cell to the alloy's mean atomic volume
                counts = {host: len(atoms) - n_dopant, dopant: n_dopant}
                mean_volume = sum(atomic_volume(el) * n for el, n in counts.items()) / len(atoms)
                atoms.set_cell(atoms.cell * (mean_volume / atomic_volume(host)) ** (1 / 3), scale_atoms=True)
                cells[f"{host}{len(atoms) - n_dopant}{dopant}{n_dopant} ({lattice} alloy {draw})"] = atoms
    return cells


def distort(atoms: Atoms, strain: float, rng: np.random.Generator, shear: float = 0.01, rattle: float = 0.05) -> Atoms:
    """Isotropic strain, a random symmetric shear of up to ``shear``, Gaussian rattle (Å)."""
    out = atoms.copy()
    deformation = np.eye(3) * (1 + strain)
    off = rng.uniform(-shear, shear, size=(3, 3))
    deformation += (off + off.T) / 2 * (1 - np.eye(3))
    out.set_cell(out.cell.array @ deformation, scale_atoms=True)
    out.positions += rng.normal(0, rattle, size=out.positions.shape)
    return out


def pairs_from(elements: Sequence[str] | None, systems: Sequence[Mapping]) -> list[tuple[str, str]]:
    """Host–dopant pairs: ``elements`` (host first) when given, else each system's host with
    each of its other species (``systems``: the ``species.json`` contents)."""
    if elements:
        if len(elements) < 2:
            raise ValueError("the corpus needs a host and at least one dopant element")
        return [(elements[0], dopant) for dopant in elements[1:]]
    pairs = []
    for info in systems:
        pairs += [(info["host"], s) for s in info["species"] if s != info["host"] and (info["host"], s) not in pairs]
    if not pairs:
        raise ValueError("no system has two species: there is no host-dopant pair to build a corpus of")
    return pairs


def corpus_structures(
    pairs: Sequence[tuple[str, str]] = DEFAULT_PAIRS,
    *,
    seed: int = 0,
    strains: Sequence[float] = (-0.04, 0.0, 0.04),
    rattles: int = 2,
) -> list[Atoms]:
    """Unlabeled corpus cells with ``info``: ``id``, ``prototype``, ``strain``."""
    rng = np.random.default_rng(seed)
    prototypes: dict[str, Atoms] = {}
    for element in dict.fromkeys(e for pair in pairs for e in pair):
        prototypes.update(elemental_cells(element))
    for host, dopant in pairs:
        prototypes.update(binary_cells(host, dopant))
        prototypes.update(substitutional_cells(host, dopant, rng))
    frames = []
    for name, cell in prototypes.items():
        for strain in strains:
            for _ in range(rattles):
                atoms = distort(cell, strain, rng)
                atoms.info = {"id": f"corpus-{len(frames):05d}", "prototype": name, "strain": float(strain)}
                frames.append(atoms)
    return frames


def elemental_references(elements: Sequence[str], calculator) -> dict[str, float]:
    """Per-atom energy of each element's lowest relaxed hcp/fcc/bcc cell (eV/atom)."""
    from qcrobust.default_data.labeler import relax_cell_and_positions

    refs = {}
    for element in elements:
        energies = []
        for cell in elemental_cells(element).values():
            label = relax_cell_and_positions(cell, fmax=0.01, steps=300, calculator=calculator)
            energies.append(label.energy / len(cell))
        refs[element] = float(min(energies))
        log.info("reference %s: %.4f eV/atom", element, refs[element])
    return refs


def label_corpus(frames: list[Atoms], references: dict[str, float], calculator) -> list[Atoms]:
    """Single-point ``energy`` (eV) and ``e_form`` (eV/atom) for every frame (in place)."""
    for atoms in frames:
        atoms.calc = calculator
        energy = float(atoms.get_potential_energy())
        atoms.calc = None
        reference = sum(references[s] for s in atoms.get_chemical_symbols())
        atoms.info["energy"] = energy
        atoms.info["e_form"] = (energy - reference) / len(atoms)
    return frames


def build_corpus(pairs: Sequence[tuple[str, str]] = DEFAULT_PAIRS, *, seed: int = 0, rattles: int = 2) -> list[Atoms]:
    """The labeled default corpus (CHGNet; deterministic on CPU with one thread)."""
    from qcrobust.default_data.labeler import CHGNetEnergyForces, chgnet_calculator, chgnet_model

    elements = list(dict.fromkeys(e for pair in pairs for e in pair))
    frames = corpus_structures(pairs, seed=seed, rattles=rattles)
    log.info("corpus: %d cells, %d atoms", len(frames), sum(len(a) for a in frames))
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # CHGNet prints when it loads
        cell_calculator, point_calculator = chgnet_calculator(), CHGNetEnergyForces(chgnet_model())
    log.info("%s", printed.getvalue().strip())
    references = elemental_references(elements, cell_calculator)  # cell relaxations: stress needed
    return label_corpus(frames, references, point_calculator)


def split_corpus(n_frames: int, val_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of validation frames (seeded; at least one of each part)."""
    n_val = min(max(1, int(round(val_fraction * n_frames))), n_frames - 1)
    mask = np.zeros(n_frames, dtype=bool)
    mask[np.random.default_rng(seed).choice(n_frames, n_val, replace=False)] = True
    return mask
