"""The extxyz files nequip trains on: one per (system, limit, part), targets scaled to totals
(the test set is never among them: rule ``predict`` reads it from the dataset).

nequip's energy-only path learns a per-structure "total energy" that is a sum of per-atom
energies. We hand it ``target × n_atoms`` under the info key :data:`TARGET_TOTAL_KEY` (mapped to
``total_energy`` by the config's ``key_mapping``), so that ``total / n_atoms`` is the target
again in eV/atom; see :mod:`qcrobust.allegro` for why.

Parts of a limit ``x`` (splits.csv, rows with split in {train, val} and n_A5_defects <= x):

- ``train`` / ``val``: the limit subset (regimes scratch and external; self's fine-tuning
  stage uses limit 0's);
- ``pretrain_train`` / ``pretrain_val``: its structures with n_A5_defects > 0 (self's first
  stage). When none of the limit's val structures has A5 defects, ``pretrain_val`` falls back
  to the limit's whole val split (logged), because nequip needs a validation set.

Per system, ``species.json`` (:func:`write_species`): its chemical symbols (the models' type
names, from the whole dataset, so that every model of a system knows every species of it)
and its host (the most frequent element), from which the default external corpus is built.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.data import atomic_numbers

from qcrobust.errors import InputError
from qcrobust.io import atomic_write_text, frame_value, read_csv, read_frames, write_frames
from qcrobust.splits import limit_members

log = logging.getLogger(__name__)

#: info key of the per-structure training label: target (eV/atom) × number of atoms (eV)
TARGET_TOTAL_KEY = "qc_target_total"
PARTS = ("train", "val", "pretrain_train", "pretrain_val")


def model_frame(atoms: Atoms, total: float | None = None) -> Atoms:
    """A copy with only what nequip should see: numbers, positions, cell, pbc, ``id``, label."""
    out = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    out.info["id"] = str(atoms.info["id"])
    if total is not None:
        out.info[TARGET_TOTAL_KEY] = float(total)
    return out


def per_atom_label(atoms: Atoms, key: str, path, index: int) -> float:
    """The frame's per-atom label ``key`` (eV/atom), or an :class:`InputError` naming the frame."""
    value = frame_value(atoms, key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        frame_id = atoms.info.get("id")
        record = f"frame {index}" + (f" (id={str(frame_id)!r})" if frame_id is not None else "")
        raise InputError(path, record, f"no finite {key!r} in the frame's info")
    return value


def labeled_frames(frames: list[Atoms], key: str, path, indices: Iterable[int] | None = None) -> list[Atoms]:
    """Model frames labeled with ``key × n_atoms``: all of ``frames``, or those at ``indices``
    (errors name the frame's index in ``path``)."""
    indices = range(len(frames)) if indices is None else indices
    return [model_frame(frames[i], per_atom_label(frames[i], key, path, i) * len(frames[i])) for i in indices]


def species(frames: Iterable[Atoms]) -> list[str]:
    """Chemical symbols present, ordered by atomic number (the model's type names)."""
    symbols = {s for atoms in frames for s in atoms.get_chemical_symbols()}
    return sorted(symbols, key=lambda s: atomic_numbers[s])


def limit_parts(splits: pd.DataFrame, limit: int) -> dict[str, list[str]]:
    """The ids of each part of ``limit`` (see the module docstring), in splits.csv order."""
    members = limit_members(splits, limit)
    defected = members[members["n_A5_defects"] > 0]
    parts = {
        "train": members.loc[members["split"] == "train", "id"].tolist(),
        "val": members.loc[members["split"] == "val", "id"].tolist(),
        "pretrain_train": defected.loc[defected["split"] == "train", "id"].tolist(),
        "pretrain_val": defected.loc[defected["split"] == "val", "id"].tolist(),
    }
    if parts["pretrain_train"] and not parts["pretrain_val"]:
        log.warning("limit %d: no val structure with A5 defects; self-pretraining validates on the limit's val", limit)
        parts["pretrain_val"] = parts["val"]
    return parts


def read_splits(path) -> pd.DataFrame:
    return read_csv(path, required=["id", "n_A5_defects", "split"], dtype={"id": str})


def select(frames: list[Atoms], ids: Iterable[str], path) -> list[int]:
    """Indices of the frames with the given ids, in the order of ``ids``; a missing id is an error."""
    by_id = {str(a.info["id"]): index for index, a in enumerate(frames)}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise InputError(path, None, f"{len(missing)} id(s) of splits.csv not in the dataset, e.g. {missing[0]!r}")
    return [by_id[i] for i in ids]


def write_limit_data(
    dataset: str | Path,
    splits: str | Path,
    *,
    limit: int,
    target: str,
    outputs: Mapping[str, str | Path],
) -> dict[str, int]:
    """Write the parts named in ``outputs`` (keys from :data:`PARTS`) for ``limit``; returns their sizes.

    nequip cannot train or validate on nothing, so an empty part is an error (the self regime
    has no pretraining part at limit 0; its rules never ask for one).
    """
    frames = read_frames(dataset)
    parts = limit_parts(read_splits(splits), limit)
    sizes = {}
    for part, path in outputs.items():
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")
        if not parts[part]:
            raise InputError(splits, f"limit {limit}", f"no structures for the Allegro part {part!r}")
        chosen = labeled_frames(frames, target, dataset, select(frames, parts[part], splits))
        write_frames(chosen, path)
        sizes[part] = len(chosen)
    log.info("limit %d parts: %s", limit, sizes)
    return sizes


def write_species(dataset: str | Path, output: str | Path) -> dict:
    """``{"species": [...by atomic number], "host": most frequent element}`` of a dataset."""
    frames = read_frames(dataset)
    counts: dict[str, int] = {}
    for atoms in frames:
        for symbol in atoms.get_chemical_symbols():
            counts[symbol] = counts.get(symbol, 0) + 1
    info = {"species": species(frames), "host": max(sorted(counts), key=counts.get)}
    atomic_write_text(output, json.dumps(info) + "\n")
    log.info("%s: species %s, host %s", dataset, info["species"], info["host"])
    return info


def read_species(path: str | Path) -> list[str]:
    """The type names of a system's models (from its ``species.json``)."""
    return list(json.loads(Path(path).read_text())["species"])


def target_of(frames: Iterable[Atoms]) -> np.ndarray:
    """The per-atom target of labeled model frames (eV/atom)."""
    return np.array([float(a.info[TARGET_TOTAL_KEY]) / len(a) for a in frames])
