"""Dataset ingest: the contract a user's data must meet, checked frame by frame.

A system brings a labeled extxyz (``dataset``), an unlabeled extxyz (``inference``) and
optionally a labeled sample of the inference set (``audit``), plus elemental references and/or
competing phases for the hull. Ingest checks every frame, fills in ``energy``, ``e_form`` and
``e_above_hull`` from whichever of them the frame has, and writes normalized copies with only
the documented keys, so every later stage reads one shape of data.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import pandas as pd
from ase import Atoms

from qcrobust.errors import InputError
from qcrobust.hull import Hull, references_from_phases
from qcrobust.io import frame_value, read_frames

log = logging.getLogger(__name__)

ENERGY_KEYS = ("energy", "e_form", "e_above_hull")
SITE_COUNT_KEYS = ("n_A4_vac", "n_A4_M", "n_A5_vac", "n_A5_M")
TARGET_COLUMNS = ["id", "n_A5_defects", "n_atoms", "formula", "energy", "e_form", "e_above_hull"]


@dataclass
class Frames:
    """Checked, normalized frames of one file and (for labeled files) their target table."""

    frames: list[Atoms]
    targets: pd.DataFrame | None


def _record(index: int, atoms: Atoms) -> str:
    frame_id = atoms.info.get("id")
    return f"frame {index}" + (f" (id={str(frame_id)!r})" if frame_id is not None else "")


def _show(value) -> str:
    """A value as the user wrote it (numpy scalars read back by ASE shown as plain Python)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _int_value(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, Integral):
        return None
    return int(value)


def _finite_value(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def check_structure(atoms: Atoms, path, index: int, *, defect_step: int, elements: set[str]) -> tuple[str, int]:
    """Checks every frame must pass, labeled or not. Returns ``(id, n_A5_defects)``."""
    record = _record(index, atoms)
    if "id" not in atoms.info:
        raise InputError(path, record, "missing 'id' in the frame's info")
    frame_id = str(atoms.info["id"])
    if "n_A5_defects" not in atoms.info:
        raise InputError(path, record, "missing 'n_A5_defects' in the frame's info")
    n_defects = _int_value(atoms.info["n_A5_defects"])
    if n_defects is None:
        raise InputError(path, record, f"'n_A5_defects' must be an integer, got {_show(atoms.info['n_A5_defects'])}")
    if n_defects < 0:
        raise InputError(path, record, f"'n_A5_defects' must be >= 0, got {n_defects}")
    if n_defects % defect_step:
        raise InputError(path, record, f"'n_A5_defects' = {n_defects} is not a multiple of defect_step = {defect_step}")
    for key in SITE_COUNT_KEYS:
        if key in atoms.info and (_int_value(atoms.info[key]) is None or atoms.info[key] < 0):
            raise InputError(path, record, f"{key!r} must be an integer >= 0, got {_show(atoms.info[key])}")
    if len(atoms) == 0:
        raise InputError(path, record, "frame has no atoms")
    if not atoms.pbc.all() or atoms.cell.rank < 3 or atoms.cell.volume <= 1e-6:
        raise InputError(path, record, "no periodic 3D cell (extxyz 'Lattice' missing or degenerate)")
    unknown = sorted(set(atoms.get_chemical_symbols()) - elements)
    if unknown:
        raise InputError(path, record, f"element(s) {unknown} have no reference energy")
    return frame_id, n_defects


def elements_of(frames: Sequence[Atoms]) -> set[str]:
    return {symbol for atoms in frames for symbol in atoms.get_chemical_symbols()}


def check_elements_learned(frames: Sequence[Atoms], path, learned: set[str], dataset) -> None:
    """Every element of the frames to predict (inference, audit) occurs in the labeled dataset
    ``dataset``: no model learns another one (Allegro has no type for it, and the classical
    family would predict it from a descriptor that is zero in every training row)."""
    for index, atoms in enumerate(frames):
        unknown = sorted(set(atoms.get_chemical_symbols()) - learned)
        if unknown:
            raise InputError(
                path, _record(index, atoms),
                f"element(s) {unknown} absent from the labeled dataset {str(dataset)!r}: no model learns them",
            )


def _labels(atoms: Atoms, path, index: int, hull: Hull) -> dict[str, float]:
    """energy, e_form and e_above_hull of a labeled frame, derived from whichever it carries."""
    record = _record(index, atoms)
    given = {}
    for key in ENERGY_KEYS:
        raw = frame_value(atoms, key)
        if raw is None:
            continue
        value = _finite_value(raw)
        if value is None:
            raise InputError(path, record, f"{key!r} must be a finite number, got {_show(raw)}")
        given[key] = value
    if not given:
        raise InputError(path, record, "missing 'energy' (or 'e_form' / 'e_above_hull')")
    symbols = atoms.get_chemical_symbols()
    formula = atoms.get_chemical_formula()
    n = len(symbols)
    mu = sum(hull.references[s] for s in symbols)
    if "energy" in given:
        energy = given["energy"]
    elif "e_form" in given:
        energy = given["e_form"] * n + mu
    else:
        energy = (given["e_above_hull"] + hull.hull_energy_per_atom(formula)) * n
    return {
        "energy": energy,
        "e_form": given.get("e_form", hull.formation_energy(symbols, energy)),
        "e_above_hull": given.get("e_above_hull", hull.energy_above_hull(symbols, energy, formula)),
    }


def _normalized(atoms: Atoms, system: str, frame_id: str, n_defects: int, labels: Mapping | None) -> Atoms:
    """A clean copy with only the documented keys (no calculator, no stray info)."""
    out = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=True)
    if "site" in atoms.arrays:
        out.arrays["site"] = atoms.arrays["site"].astype(str)
    out.info["id"] = frame_id
    out.info["system"] = system
    for key in SITE_COUNT_KEYS:
        if key in atoms.info:
            out.info[key] = int(atoms.info[key])
    out.info["n_A5_defects"] = n_defects
    if labels is not None:
        out.info.update(labels)
    return out


def read_system_file(
    path,
    system: str,
    *,
    hull: Hull,
    defect_step: int = 2,
    labeled: bool,
) -> Frames:
    """Read and check one extxyz file of a system; labeled files get their target table."""
    frames = read_frames(path)
    elements = set(hull.references)
    seen: dict[str, int] = {}
    out, rows = [], []
    for index, atoms in enumerate(frames):
        frame_id, n_defects = check_structure(atoms, path, index, defect_step=defect_step, elements=elements)
        if frame_id in seen:
            raise InputError(path, _record(index, atoms), f"duplicate id {frame_id!r} (first seen in frame {seen[frame_id]})")
        seen[frame_id] = index
        labels = _labels(atoms, path, index, hull) if labeled else None
        out.append(_normalized(atoms, system, frame_id, n_defects, labels))
        if labeled:
            rows.append(
                {"id": frame_id, "n_A5_defects": n_defects, "n_atoms": len(atoms), "formula": atoms.get_chemical_formula(), **labels}
            )
    targets = pd.DataFrame(rows, columns=TARGET_COLUMNS) if labeled else None
    return Frames(out, targets)


def build_hull(
    system: str,
    *,
    references: Mapping[str, float] | None = None,
    competing_phases: str | Path | None = None,
    source: str = "config.yaml",
) -> Hull:
    """The system's hull: explicit references win over the competing phases' elemental minima."""
    phases: Sequence[Atoms] = read_frames(competing_phases) if competing_phases else []
    refs = references_from_phases(phases, competing_phases) if phases else {}
    refs.update({str(k): float(v) for k, v in (references or {}).items()})
    if not refs:
        raise InputError(
            source,
            f"key 'systems.{system}'",
            "no elemental references: give 'references' or a 'competing_phases' file with elemental phases",
        )
    if not phases:
        log.warning("%s: no competing phases; the hull is the line between elemental references", system)
    return Hull.build(refs, phases, competing_phases)


LABELED_SETS = ("dataset", "audit")  # structure sets with labels (a target table each)


def ingest_set(
    system: str,
    spec: Mapping,
    set_name: str,
    *,
    defect_step: int,
    structures: str | Path,
    targets: str | Path | None = None,
) -> None:
    """Check one structure set of a system (``spec`` = its config entry, ``set_name`` one of
    dataset, inference, audit) and write its normalized copy (+ its target table if labeled).

    The elements of the sets to predict (inference, audit) must be the dataset's: ingesting the
    dataset checks every configured one, ingesting one of them checks it against the dataset.
    Nothing is written unless all checks pass.
    """
    from qcrobust.io import write_csv, write_frames

    labeled = set_name in LABELED_SETS
    if labeled != (targets is not None):
        raise ValueError(f"set {set_name!r}: a target table is written for {LABELED_SETS} and only for them")
    hull = build_hull(system, references=spec.get("references"), competing_phases=spec.get("competing_phases"))
    checked = read_system_file(spec[set_name], system, hull=hull, defect_step=defect_step, labeled=labeled)
    if set_name == "dataset":
        learned = elements_of(checked.frames)
        for key in ("inference", "audit"):
            if spec.get(key):
                check_elements_learned(read_frames(spec[key]), spec[key], learned, spec["dataset"])
    else:
        check_elements_learned(checked.frames, spec[set_name], elements_of(read_frames(spec["dataset"])), spec["dataset"])
    below = "" if checked.targets is None else f", {int((checked.targets['e_above_hull'] < 0).sum())} below the hull"
    log.info("%s %s: %d frames%s", system, set_name, len(checked.frames), below)
    write_frames(checked.frames, structures)
    if targets is not None:
        write_csv(checked.targets, targets)


# --- rule glue (rules/data.smk) ---


def data_targets(study) -> list[str]:
    """Final outputs of the data stage: per system its splits, limit sizes and hull statistics."""
    from qcrobust import layout

    return [layout.path(p, system=s) for s in study.systems for p in (layout.SPLITS, layout.LIMIT_SIZES, layout.HULL_STATS)]


def ingest_inputs(study, wildcards) -> dict:
    """Inputs of the ingest rules: the user's file of the set and the hull's; the other sets are
    read for the elements check (ancient: their own ingest job reruns on their change and checks again)."""
    from snakemake.io import ancient

    spec = study.spec(wildcards.system)
    others = ("inference", "audit") if wildcards.set == "dataset" else ("dataset",)
    inputs = {"structures": spec[wildcards.set], "hull": [spec["competing_phases"]] if spec.get("competing_phases") else []}
    return inputs | {key: ancient(spec[key]) for key in others if spec.get(key)}
