"""Assemble the default dataset's extxyz files (the dataset contract) from parent + decorations + labels.

Frames are the decorated parent (relaxed parent geometry, vacancies deleted): the unrelaxed
input a model sees. Labeled frames carry the relaxed total ``energy``. Byte-identical on rerun.
"""

from __future__ import annotations

import pandas as pd
from ase import Atoms

from qcrobust.default_data.structures import decorate
from qcrobust.errors import InputError

COUNT_KEYS = ("n_A4_vac", "n_A4_M", "n_A5_vac", "n_A5_M", "n_A5_defects")
LABELED_KINDS = ("labeled", "extra_limit0")


def frames_for(parent: Atoms, rows: pd.DataFrame, system: str, dopant: str, energies: dict | None) -> list[Atoms]:
    """One frame per row of the decorations table; with ``energies`` (id -> eV) each gets its label."""
    frames = []
    for row in rows.itertuples(index=False):
        atoms = decorate(parent, row.decoration, dopant)
        atoms.info["id"] = row.id
        atoms.info["system"] = system
        for key in COUNT_KEYS:
            atoms.info[key] = int(getattr(row, key))
        if energies is not None:
            atoms.info["energy"] = float(energies[row.id])
        frames.append(atoms)
    return frames


def split_tables(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each output: dataset (labeled + extra limit-0), inference (all), audit (sample)."""
    return {
        "dataset": table[table["kind"].isin(LABELED_KINDS)],
        "inference": table[table["kind"] == "inference"],
        "audit": table[(table["kind"] == "inference") & (table["audit"] == 1)],
    }


def assemble(parent: Atoms, table: pd.DataFrame, labels: pd.DataFrame, system: str, dopant: str, source=None) -> dict[str, list[Atoms]]:
    """Frames of ``dataset``, ``inference`` and ``audit``; every labeled row must have a label."""
    energies = dict(zip(labels["id"], labels["energy"]))
    parts = split_tables(table)
    for name in ("dataset", "audit"):
        missing = sorted(set(parts[name]["id"]) - set(energies))
        if missing:
            raise InputError(source, f"id {missing[0]!r}", f"{len(missing)} {name} structure(s) have no label")
    return {
        "dataset": frames_for(parent, parts["dataset"], system, dopant, energies),
        "inference": frames_for(parent, parts["inference"], system, dopant, None),
        "audit": frames_for(parent, parts["audit"], system, dopant, energies),
    }
