"""The shipped default data: labels recompute within the stated tolerance (bit for bit on one
machine), assembly regenerates structures byte-identically."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from qcrobust.config import schema_defaults
from qcrobust.default_data.assemble import assemble, split_tables
from qcrobust.default_data.labels import LabelTolerance, compare_labels, read_decorations, read_labels
from qcrobust.default_data.structures import decoration_of, read_parent
from qcrobust.errors import InputError
from qcrobust.io import frame_value, read_frames, write_frames
from qcrobust.workflow.default_data import PROTOCOL_KEYS, default_settings, label_shard_count

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "data" / "default"


@pytest.fixture(scope="module")
def shipped_scpt():
    parent = read_parent(SHIPPED / "ScPt" / "parent.extxyz")
    table = read_decorations(SHIPPED / "ScPt" / "decorations.csv")
    labels = read_labels([SHIPPED / "ScPt" / "labels" / "shard_000.csv"], table)
    return parent, table, labels


@pytest.mark.slow  # CHGNet relaxations in a fresh interpreter (~25 s)
def test_shipped_labels_recompute_within_tolerance_and_repeat_exactly(shipped_scpt):
    """Three structures of shard 0 (the parent itself and two capped relaxations) recomputed here.

    Against the shipped labels (made on another machine, maybe another CPU model): within
    LABEL_TOLERANCE, with the same step count -- or another step count only where a force came
    within the fmax tolerance of the protocol's threshold (compare_labels' status
    'steps_differ_near_threshold': the optimizer may then stop a step earlier or later on another
    CPU, and the energies belong to different geometries, so they are not compared).
    Against itself: the first structure computed twice in one process is identical bit for bit
    (holds by construction on one machine: one torch thread, fixed optimizer).

    Recomputed in a fresh interpreter: other tests in this process (nequip) change torch's
    global state (default dtype, threads), which a labeling job never shares.
    """
    _, _, labels = shipped_scpt
    ids = list(labels["id"][:3])
    script = f"""
import json
from qcrobust.default_data.labeler import set_single_thread
from qcrobust.default_data.labels import recompute_labels
set_single_thread()
table = recompute_labels({str(SHIPPED)!r}, "ScPt", {ids!r})
again = recompute_labels({str(SHIPPED)!r}, "ScPt", {ids[:1]!r})
print(json.dumps({{"table": table.to_dict(orient="list"), "again": again.to_dict(orient="list")}}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    recomputed, again = pd.DataFrame(got["table"]), pd.DataFrame(got["again"])
    assert list(recomputed["id"]) == ids and recomputed["n_steps"].tolist()[0] == 0  # the parent needs no step
    comparison = compare_labels(labels, recomputed)
    assert set(comparison["status"]) <= {"identical", "within_tolerance", "steps_differ_near_threshold"}, comparison
    assert (comparison["status"] != "steps_differ_near_threshold").sum() >= 2, comparison  # most are judged
    columns = ["energy", "n_steps", "fmax"]
    assert again[columns].iloc[0].tolist() == recomputed[columns].iloc[0].tolist()


def _labels(energy, n_steps, fmax):
    return pd.DataFrame({"id": ["a"], "energy": [energy], "n_steps": [n_steps], "converged": [0], "fmax": [fmax]})


@pytest.mark.parametrize(
    "recomputed, margin, status",
    [
        ((-1000.0, 15, 0.2), 0.1, "identical"),
        ((-1000.0 + 100 * 0.9e-4, 15, 0.2 + 0.9e-3), 0.1, "within_tolerance"),  # 100 atoms: 0.9e-4 eV/atom
        ((-1000.0 + 100 * 1.1e-4, 15, 0.2), 0.1, "differs"),  # energy just beyond the tolerance
        ((-1000.0, 15, 0.2 + 6e-3), 0.1, "differs"),  # fmax beyond it
        ((-1000.1, 14, 0.049), 0.001, "steps_differ_near_threshold"),  # stopped one step early near fmax
        ((-1000.1, 14, 0.03), 0.02, "differs"),  # another step count with no force near the threshold
    ],
)
def test_compare_labels_judges_hand_made_cases(recomputed, margin, status):
    tolerance = LabelTolerance(energy_per_atom=1e-4, fmax=5e-3)
    shipped = _labels(-1000.0, 15, 0.2)
    table = _labels(*recomputed).assign(n_atoms=100, fmax_margin=margin)
    row = compare_labels(shipped, table, tolerance).iloc[0]
    assert row["status"] == status
    assert row["d_energy_per_atom"] == pytest.approx(abs(recomputed[0] + 1000.0) / 100)


def test_compare_labels_names_a_label_that_was_not_shipped():
    table = _labels(-1.0, 0, 0.0).assign(id="zz", n_atoms=1, fmax_margin=1.0)
    with pytest.raises(InputError, match="id 'zz': recomputed but not shipped"):
        compare_labels(_labels(-1.0, 0, 0.0), table)


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


def test_schema_defaults_of_default_data_hold_the_protocol_keys():
    """The one place the defaults of ``default_data`` are written: the config schema."""
    defaults = schema_defaults("default_data")
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    block = schema["properties"]["default_data"]["properties"]
    assert set(PROTOCOL_KEYS) <= set(defaults) <= set(block)
    assert defaults == {k: v["default"] for k, v in block.items() if "default" in v}
    assert defaults["relabel"] is False and defaults["shipped"] is None  # null is a default too
    assert all(defaults[k] is not None for k in PROTOCOL_KEYS)
    # a block given in full keeps its values; default_settings fills in only what it lacks
    assert default_settings({"relabel": True, "seed": 7}, SHIPPED)["seed"] == 7
    assert default_settings({"relabel": True}, SHIPPED)["fmax"] == defaults["fmax"]


def test_shipped_files_are_consistent():
    protocol = json.loads((SHIPPED / "protocol.json").read_text())
    settings = default_settings({}, SHIPPED)
    assert settings["relabel"] is False and settings["shipped"] == str(SHIPPED)
    # the schema's defaults are the shipped data's protocol
    defaults = schema_defaults("default_data")
    assert {k: settings[k] for k in PROTOCOL_KEYS} == {k: defaults[k] for k in PROTOCOL_KEYS} == protocol
    with pytest.raises(InputError, match="relabel: true"):
        default_settings({"step_cap": protocol["step_cap"] + 1}, SHIPPED)
    # a protocol key set to the schema's default or to the shipped value is accepted
    assert default_settings({"step_cap": defaults["step_cap"], "seed": protocol["seed"]}, SHIPPED)["step_cap"] == protocol["step_cap"]
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
