"""Labeling shards of the default dataset, reading the labels back, and checking a recomputation.

A shard is the set of rows of ``decorations.csv`` with one ``shard`` number; its labels file
``labels/shard_{k:03d}.csv`` has one row per structure: ``id, energy, n_steps, converged, fmax``.
Shards are independent, so they run in parallel, and a killed shard simply reruns.

A label recomputed on the machine that made it has the same bits. On another CPU model CHGNet's
float32 kernels (torch's vectorised ATen code and the BLAS behind its linear layers) round
differently, and the 15 optimizer steps of a capped relaxation carry the difference forward, so
:func:`compare_labels` checks a recomputation against :data:`LABEL_TOLERANCE` instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qcrobust.default_data.decorations import COLUMNS as DECORATION_COLUMNS
from qcrobust.default_data.structures import decorate
from qcrobust.errors import InputError
from qcrobust.io import read_csv
from qcrobust.tables import write_table

if TYPE_CHECKING:  # the labeler (ASE's optimizers, ase.io) is imported where a structure is relaxed:
    from qcrobust.default_data.labeler import Protocol  # the rules import this module for names only

LABEL_COLUMNS = ["id", "energy", "n_steps", "converged", "fmax"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelTolerance:
    """How far a label recomputed on another CPU model may be from the shipped one."""

    energy_per_atom: float  # eV/atom, |E_recomputed - E_shipped| / n_atoms
    fmax: float  # eV/A, |fmax_recomputed - fmax_shipped|


# Measured with bench/label_reproducibility.py (bench/README.md, "Labels across CPU models"): 80
# shipped labels (limit-0 and 22-24 A5 defects, all four systems) recomputed on a second CPU
# model under three kernel paths (its native AVX-512, AVX2 only, no vector ISA): at most
# 9.5e-7 eV/atom (float32 rounding of ~-1000 eV totals) and 2.8e-4 eV/A apart, step counts
# equal. The tolerances leave a factor of ~10 (energy) and ~7 (fmax) above that.
LABEL_TOLERANCE = LabelTolerance(energy_per_atom=1e-5, fmax=2e-3)


def shard_filename(shard: int) -> str:
    return f"shard_{shard:03d}.csv"


def read_decorations(path: str | os.PathLike) -> pd.DataFrame:
    """The decorations table, checked: required columns, unique ids, 36-character decorations."""
    table = read_csv(path, required=DECORATION_COLUMNS, dtype={"id": str, "kind": str, "decoration": str})
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise InputError(path, f"id {duplicated.iloc[0]!r}", "duplicate id")
    bad = table[table["decoration"].str.len() != 36]
    if len(bad):
        raise InputError(path, f"id {bad['id'].iloc[0]!r}", "decoration is not 36 characters long")
    return table


def n_shards(table: pd.DataFrame) -> int:
    return int(table["shard"].max()) + 1


def label_rows(parent, rows: pd.DataFrame, dopant: str, protocol: Protocol, what: str = "labels") -> pd.DataFrame:
    """Relax and label the structures of ``rows`` (decorations, in table order).

    Columns: :data:`LABEL_COLUMNS`, then ``n_atoms`` and ``fmax_margin`` (how close a visited
    geometry's largest force came to ``protocol.fmax``; not written to the shipped files).
    """
    from qcrobust.default_data.labeler import relax_positions

    out = []
    for number, (ident, decoration) in enumerate(zip(rows["id"], rows["decoration"]), start=1):
        atoms = decorate(parent, decoration, dopant)
        label = relax_positions(atoms, protocol)
        out.append((ident, label.energy, label.n_steps, int(label.converged), label.fmax, len(atoms), label.fmax_margin(protocol.fmax)))
        log.info("%s: %d/%d %s E=%.6f steps=%d fmax=%.4f", what, number, len(rows), ident, label.energy, label.n_steps, label.fmax)
    return pd.DataFrame(out, columns=LABEL_COLUMNS + ["n_atoms", "fmax_margin"])


def label_shard(parent, table: pd.DataFrame, shard: int, dopant: str, protocol: Protocol) -> pd.DataFrame:
    """Relax and label every structure of one shard (in table order)."""
    rows = table[table["shard"] == shard]
    if rows.empty:
        raise ValueError(f"shard {shard} is empty")
    return label_rows(parent, rows, dopant, protocol, what=f"shard {shard}")


def compare_labels(shipped: pd.DataFrame, recomputed: pd.DataFrame, tolerance: LabelTolerance = LABEL_TOLERANCE) -> pd.DataFrame:
    """Per recomputed structure (``recomputed`` as :func:`label_rows` returns it), how it differs
    from the shipped label, and a ``status``:

    - ``identical``: the same energy, step count and fmax, bit for bit (the same machine);
    - ``within_tolerance``: the same step count; energy per atom and fmax within ``tolerance``;
    - ``steps_differ_near_threshold``: another step count, and the recomputation passed a
      geometry whose largest force was within ``tolerance.fmax`` of the protocol's fmax, so the
      optimizer may stop one step earlier or later on another CPU. The two labels then belong to
      different geometries; energies are reported, not judged;
    - ``differs``: anything else (a real difference: other weights, protocol or code).
    """
    joined = recomputed.merge(shipped[LABEL_COLUMNS], on="id", how="left", suffixes=("", "_shipped"), validate="one_to_one")
    if joined["energy_shipped"].isna().any():
        missing = joined.loc[joined["energy_shipped"].isna(), "id"].iloc[0]
        raise InputError("shipped labels", f"id {missing!r}", "recomputed but not shipped")
    d_energy = (joined["energy"] - joined["energy_shipped"]).abs() / joined["n_atoms"]
    d_fmax = (joined["fmax"] - joined["fmax_shipped"]).abs()
    same_steps = joined["n_steps"] == joined["n_steps_shipped"]
    identical = same_steps & (joined["energy"] == joined["energy_shipped"]) & (joined["fmax"] == joined["fmax_shipped"])
    close = same_steps & (d_energy <= tolerance.energy_per_atom) & (d_fmax <= tolerance.fmax)
    near_threshold = ~same_steps & (joined["fmax_margin"] <= tolerance.fmax)
    status = np.select([identical, close, near_threshold], ["identical", "within_tolerance", "steps_differ_near_threshold"], "differs")
    return pd.DataFrame(
        {
            "id": joined["id"],
            "energy": joined["energy"],
            "fmax": joined["fmax"],
            "n_atoms": joined["n_atoms"],
            "n_steps": joined["n_steps"],
            "n_steps_shipped": joined["n_steps_shipped"],
            "d_energy_per_atom": d_energy,
            "d_fmax": d_fmax,
            "fmax_margin": joined["fmax_margin"],
            "status": status,
        }
    )


def recompute_labels(data: str | os.PathLike, system: str, ids: list[str], protocol: Mapping | None = None) -> pd.DataFrame:
    """Recompute the shipped labels of ``ids`` of ``system`` from ``data`` (the shipped folder)
    with its ``protocol.json``; returns :func:`label_rows`' table."""
    import json

    from qcrobust.default_data.labeler import Protocol
    from qcrobust.default_data.parent import dopant_of
    from qcrobust.default_data.structures import read_parent

    data = Path(data)
    settings = protocol or json.loads((data / "protocol.json").read_text())
    table = read_decorations(data / system / "decorations.csv").set_index("id", drop=False)
    unknown = [i for i in ids if i not in table.index]
    if unknown:
        raise InputError(data / system / "decorations.csv", f"id {unknown[0]!r}", "not a decoration of the shipped data")
    rows = table.loc[ids].reset_index(drop=True)
    parent = read_parent(data / system / "parent.extxyz")
    return label_rows(
        parent, rows, dopant_of(system), Protocol(settings["optimizer"], settings["fmax"], settings["step_cap"]), what=f"{system} recompute"
    )


def write_labels(labels: pd.DataFrame, path: str | os.PathLike) -> None:
    write_table(labels[LABEL_COLUMNS], path, "labels")


def read_labels(paths, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """All labels from shard files, concatenated; each checked against the decorations table."""
    frames = []
    for path in paths:
        labels = read_csv(path, required=LABEL_COLUMNS, dtype={"id": str})
        if labels["energy"].isna().any():
            raise InputError(path, f"id {labels['id'][labels['energy'].isna()].iloc[0]!r}", "missing energy")
        if table is not None:
            unknown = sorted(set(labels["id"]) - set(table["id"]))
            if unknown:
                raise InputError(path, f"id {unknown[0]!r}", "not in decorations.csv")
            shard = int(Path(path).stem.split("_")[-1])
            expected = set(table.loc[table["shard"] == shard, "id"])
            if set(labels["id"]) != expected:
                raise InputError(path, None, f"holds {len(labels)} ids, shard {shard} of decorations.csv has {len(expected)}")
        frames.append(labels)
    if not frames:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    labels = pd.concat(frames, ignore_index=True)
    duplicated = labels["id"][labels["id"].duplicated()]
    if len(duplicated):
        raise InputError(None, f"id {duplicated.iloc[0]!r}", "labeled in more than one shard")
    return labels
