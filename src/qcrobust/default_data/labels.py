"""Labeling shards of the default dataset and reading the labels back.

A shard is the set of rows of ``decorations.csv`` with one ``shard`` number; its labels file
``labels/shard_{k:03d}.csv`` has one row per structure: ``id, energy, n_steps, converged, fmax``.
Shards are independent, so they run in parallel, and a killed shard simply reruns.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from qcrobust.default_data.decorations import COLUMNS as DECORATION_COLUMNS
from qcrobust.default_data.labeler import Protocol, relax_positions
from qcrobust.default_data.structures import decorate
from qcrobust.errors import InputError
from qcrobust.io import read_csv, write_csv

LABEL_COLUMNS = ["id", "energy", "n_steps", "converged", "fmax"]
log = logging.getLogger(__name__)


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


def label_shard(parent, table: pd.DataFrame, shard: int, dopant: str, protocol: Protocol) -> pd.DataFrame:
    """Relax and label every structure of one shard (in table order)."""
    rows = table[table["shard"] == shard]
    if rows.empty:
        raise ValueError(f"shard {shard} is empty")
    out = []
    for number, (ident, decoration) in enumerate(zip(rows["id"], rows["decoration"]), start=1):
        atoms = decorate(parent, decoration, dopant)
        label = relax_positions(atoms, protocol)
        out.append((ident, label.energy, label.n_steps, int(label.converged), label.fmax))
        log.info("shard %d: %d/%d %s E=%.6f steps=%d fmax=%.4f", shard, number, len(rows), ident, label.energy, label.n_steps, label.fmax)
    return pd.DataFrame(out, columns=LABEL_COLUMNS)


def write_labels(labels: pd.DataFrame, path: str | os.PathLike) -> None:
    write_csv(labels[LABEL_COLUMNS], path)


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
