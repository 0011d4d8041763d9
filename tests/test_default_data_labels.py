"""The shipped default data: labels recompute exactly, assembly regenerates structures byte-identically."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qcrobust.default_data.assemble import assemble, split_tables
from qcrobust.default_data.labels import read_decorations, read_labels
from qcrobust.default_data.structures import decorate, decoration_of, read_parent
from qcrobust.default_data.workflow import DEFAULTS, PROTOCOL_KEYS, default_settings, label_shard_count
from qcrobust.errors import InputError
from qcrobust.io import frame_value, read_frames, write_frames

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "data" / "default"


@pytest.fixture(scope="module")
def shipped_scpt():
    parent = read_parent(SHIPPED / "ScPt" / "parent.extxyz")
    table = read_decorations(SHIPPED / "ScPt" / "decorations.csv")
    labels = read_labels([SHIPPED / "ScPt" / "labels" / "shard_000.csv"], table)
    return parent, table, labels


def test_shipped_labels_recompute_exactly(shipped_scpt):
    """Two structures of shard 0 (the parent itself and one capped relaxation), bit for bit.

    Recomputed in a fresh interpreter: other tests in this process (nequip) change torch's
    global state (default dtype, threads), which a labeling job never shares.
    """
    parent, table, labels = shipped_scpt
    decorations = dict(zip(table["id"], table["decoration"]))
    script = f"""
import json
from qcrobust.default_data.labeler import Protocol, relax_positions, set_single_thread
from qcrobust.default_data.structures import decorate, read_parent
p = json.load(open({str(SHIPPED / "protocol.json")!r}))
set_single_thread()
parent = read_parent({str(SHIPPED / "ScPt" / "parent.extxyz")!r})
out = []
for decoration in {[decorations[i] for i in labels["id"][:2]]!r}:
    label = relax_positions(decorate(parent, decoration, "Pt"), Protocol(p["optimizer"], p["fmax"], p["step_cap"]))
    out.append([repr(label.energy), label.n_steps, repr(label.fmax)])
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for row, (energy, n_steps, fmax) in zip(labels.iloc[:2].itertuples(), got):
        assert (float(energy), n_steps, float(fmax)) == (row.energy, row.n_steps, row.fmax)


def test_assembly_is_byte_identical_and_round_trips(shipped_scpt, tmp_path):
    parent, table, labels = shipped_scpt
    labeled = set(labels["id"])
    parts = split_tables(table)
    small = table[table["id"].isin(list(labels["id"][:5]) + list(parts["inference"]["id"][:3]))]
    small = small.assign(audit=0)
    frames = assemble(parent, small, labels, "ScPt", "Pt")
    assert len(frames["dataset"]) == 5 and len(frames["inference"]) == 3 and not frames["audit"]
    for attempt in ("a", "b"):
        write_frames(assemble(parent, small, labels, "ScPt", "Pt")["dataset"], tmp_path / f"{attempt}.extxyz")
    assert (tmp_path / "a.extxyz").read_bytes() == (tmp_path / "b.extxyz").read_bytes()
    energies = dict(zip(labels["id"], labels["energy"]))
    decorations = dict(zip(table["id"], table["decoration"]))
    for atoms in read_frames(tmp_path / "a.extxyz"):
        assert atoms.info["id"] in labeled
        assert frame_value(atoms, "energy") == energies[atoms.info["id"]]
        assert decoration_of(atoms, parent, "Pt") == decorations[atoms.info["id"]]
        assert set(atoms.info) >= {"id", "system", "n_A4_vac", "n_A4_M", "n_A5_vac", "n_A5_M", "n_A5_defects"}
        assert len(atoms.get_array("site")) == len(atoms)


def test_assembly_names_a_missing_label(shipped_scpt):
    parent, table, labels = shipped_scpt
    small = table[table["id"].isin(labels["id"][:3])]
    with pytest.raises(InputError, match="have no label"):
        assemble(parent, small, labels.iloc[1:], "ScPt", "Pt", source="labels")


def test_shipped_files_are_consistent():
    protocol = json.loads((SHIPPED / "protocol.json").read_text())
    settings = default_settings({}, SHIPPED)
    assert settings["relabel"] is False and settings["shipped"] == str(SHIPPED)
    assert {k: settings[k] for k in PROTOCOL_KEYS} == {k: DEFAULTS[k] for k in PROTOCOL_KEYS} == protocol
    with pytest.raises(InputError, match="relabel: true"):
        default_settings({"step_cap": protocol["step_cap"] + 1}, SHIPPED)
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    block = schema["properties"].get("default_data")
    if block is not None:  # the schema's defaults are the library's
        assert {k: v.get("default") for k, v in block["properties"].items()} == DEFAULTS
    for system, n_labeled in (("ScPt", 2170), ("ScPd", 2170), ("ScIr", 1086), ("ScRh", 1086)):
        table = read_decorations(SHIPPED / system / "decorations.csv")
        assert (table["kind"] != "inference").sum() == n_labeled
        shipped_count = label_shard_count(system, settings)
        assert shipped_count == label_shard_count(system, {**settings, "relabel": True})
        shards = sorted((SHIPPED / system / "labels").glob("shard_*.csv"))
        labels = read_labels(shards, table)  # every shipped shard matches decorations.csv
        assert labels["id"].isin(table["id"]).all()
        phases = read_frames(SHIPPED / system / "competing_phases.extxyz")
        assert {"Sc", system[2:]} <= {a.get_chemical_symbols()[0] for a in phases if len(set(a.get_chemical_symbols())) == 1}
        assert all(frame_value(a, "energy") is not None for a in phases)
