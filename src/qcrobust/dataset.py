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

import numpy as np
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


def unlearned_elements_message(unknown: Sequence[str], dataset) -> str:
    return f"element(s) {list(unknown)} absent from the labeled dataset {str(dataset)!r}: no model learns them"


def check_elements_learned(frames: Sequence[Atoms], path, learned: set[str], dataset) -> None:
    """Every element of the frames to predict (inference, audit) occurs in the labeled dataset
    ``dataset``: no model learns another one (Allegro has no type for it, and the classical
    family would predict it from a descriptor that is zero in every training row)."""
    for index, atoms in enumerate(frames):
        unknown = sorted(set(atoms.get_chemical_symbols()) - learned)
        if unknown:
            raise InputError(path, _record(index, atoms), unlearned_elements_message(unknown, dataset))


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
    equivalents: str | Path,
    targets: str | Path | None = None,
    labeled_structures: str | Path | None = None,
    site_tolerance: float = 0.5,
) -> None:
    """Check one structure set of a system (``spec`` = its config entry, ``set_name`` one of
    dataset, inference, audit) and write its normalized copy (+ its target table if labeled) and
    its ``equivalents`` table (:mod:`qcrobust.equivalence`).

    Frames are written in id order, each with its atoms in one canonical order. Frames that are the same
    structure are kept once (the smallest id; a labeled set gives it the mean of their labels).
    The sets to predict (inference, audit) are checked against the ingested dataset
    ``labeled_structures``: their elements must be the dataset's, and a frame equivalent to a
    dataset structure is left out (its label is known; screening or scoring it again would
    measure what the models saw). The equivalents table says what happened to every frame.
    Nothing is written unless all checks pass.
    """
    from qcrobust.equivalence import canonical_atom_order, classify
    from qcrobust.equivalence import equivalents as fate
    from qcrobust.features import read_parent
    from qcrobust.io import write_frames
    from qcrobust.tables import write_table

    labeled = set_name in LABELED_SETS
    if labeled != (targets is not None):
        raise ValueError(f"set {set_name!r}: a target table is written for {LABELED_SETS} and only for them")
    if (set_name == "dataset") != (labeled_structures is None):
        raise ValueError(f"set {set_name!r}: the sets to predict, and only they, are checked against the ingested dataset")
    hull = build_hull(system, references=spec.get("references"), competing_phases=spec.get("competing_phases"))
    path = spec[set_name]
    checked = read_system_file(path, system, hull=hull, defect_step=defect_step, labeled=labeled)
    sets, paths = {set_name: checked.frames}, {set_name: path}
    if labeled_structures is not None:
        sets["dataset"], paths["dataset"] = read_frames(labeled_structures), spec["dataset"]
        check_elements_learned(checked.frames, path, elements_of(sets["dataset"]), spec["dataset"])
    parent_path = spec.get("parent")
    classes, sites = classify(
        sets, parent=read_parent(parent_path), parent_path=parent_path or "parent", paths=paths, tolerance=site_tolerance
    )
    own = classes[classes["set"] == set_name].reset_index(drop=True)
    table = fate(own, classes[classes["set"] == "dataset"] if labeled_structures is not None else None, set_name)
    _check_classes(own.assign(n_A5_defects=[a.info["n_A5_defects"] for a in checked.frames]), path)
    # frames in id order: every file after ingest is then the same, whatever the input's order
    kept = np.flatnonzero(table["relation"].to_numpy() == "kept")
    kept = kept[np.argsort(table["id"].to_numpy()[kept], kind="stable")]
    if not len(kept):
        raise InputError(
            path,
            None,
            f"every frame is equivalent to a structure of the labeled dataset {str(spec['dataset'])!r}: "
            f"nothing is left to {'screen' if set_name == 'inference' else 'audit'}",
        )
    frames = []
    for index in kept:
        atoms = checked.frames[index]
        frames.append(atoms[canonical_atom_order(atoms, None if sites[set_name] is None else sites[set_name][index])])
    if labeled:
        merged = _merge_labels(checked.targets, table)
        for atoms, row in zip(frames, merged.itertuples()):
            atoms.info.update({key: getattr(row, key) for key in ENERGY_KEYS})
    counts = table["relation"].value_counts()
    below = "" if checked.targets is None else f", {int((merged['e_above_hull'] < 0).sum())} below the hull"
    log.info(
        "%s %s: %d frames, %d kept%s; %d duplicates of another frame, %d equivalent to a labeled dataset structure (left out; see %s)",
        system,
        set_name,
        len(checked.frames),
        len(frames),
        below,
        counts.get("duplicate", 0),
        counts.get("labeled", 0),
        Path(equivalents).name,
    )
    write_frames(frames, structures)
    write_table(table, equivalents)
    if targets is not None:
        write_table(merged, targets)


def _check_classes(own: pd.DataFrame, path) -> None:
    """Equivalent frames of one set must agree on what decides their limit."""
    spread = own.groupby("class")["n_A5_defects"].nunique()
    if (spread > 1).any():
        members = own[own["class"] == spread[spread > 1].index[0]]
        raise InputError(
            path, f"ids {members['id'].tolist()}", f"the same structure with different n_A5_defects {sorted(set(members['n_A5_defects']))}"
        )


def _merge_labels(targets: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The target rows of the kept frames in id order, each with the mean labels of its duplicates."""
    representative = table.set_index("id")["equivalent_id"]
    members = targets[table["relation"].isin(["kept", "duplicate"]).to_numpy()].sort_values("id", kind="stable")
    means = members.groupby(members["id"].map(representative))[list(ENERGY_KEYS)].mean()
    kept = targets[(table["relation"] == "kept").to_numpy()].sort_values("id", kind="stable").reset_index(drop=True)
    for key in ENERGY_KEYS:
        kept[key] = kept["id"].map(means[key]).to_numpy()
    return kept
