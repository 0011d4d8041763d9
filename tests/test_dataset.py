"""The dataset contract: every bad input named in the foundation issue, and the energy algebra."""

import math

import ase.io
import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from qcrobust import layout
from qcrobust.dataset import build_hull, ingest_set, read_system_file
from qcrobust.errors import InputError
from qcrobust.hull import Hull

REFS = {"Cu": -1.0, "Pt": -2.0}


def frame(i, symbols="Cu4", n_a5=0, **info):
    atoms = Atoms(symbols, scaled_positions=[(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)], cell=[3.6] * 3, pbc=True)
    atoms.info.update(id=f"s-{i}", n_A5_defects=n_a5, **info)
    return atoms


def write(tmp_path, frames, name="data.extxyz"):
    path = tmp_path / name
    ase.io.write(path, frames, format="extxyz")
    return path


def hull(phases=()):
    return Hull.build(REFS, phases)


def read(path, **kw):
    return read_system_file(path, "CuPt", hull=hull(), labeled=True, **kw)


def test_energy_algebra_matches_paper_equations():
    # phases: elements + CuPt (L1_0-like, E_form = -0.5 eV/atom): hull at x_Pt = 0.25 is -0.25 eV/atom
    compound = frame(0, "Cu2Pt2")
    compound.info = {"name": "CuPt", "energy": 2 * -1.0 + 2 * -2.0 - 4 * 0.5}
    h = Hull.build(REFS, [compound])
    atoms = frame(1, "Cu3Pt")
    energy = 3 * -1.0 - 2.0 - 4 * 0.3  # E_form = -0.3 eV/atom
    assert h.formation_energy(atoms.get_chemical_symbols(), energy) == pytest.approx(-0.3)
    assert h.hull_formation_energy("Cu3Pt") == pytest.approx(-0.25)
    assert h.energy_above_hull(atoms.get_chemical_symbols(), energy, "Cu3Pt") == pytest.approx(-0.05)


def test_labels_derived_from_whichever_key_a_frame_has(tmp_path):
    frames = [frame(0, "Cu3Pt", energy=-6.0), frame(1, "Cu3Pt", e_form=-0.25), frame(2, "Cu3Pt", e_above_hull=-0.25)]
    out = read(write(tmp_path, frames))
    t = out.targets.set_index("id")
    # without compounds the hull is the reference line, so e_above_hull == e_form for all three
    for i in range(3):
        assert t.loc[f"s-{i}", "e_form"] == pytest.approx(-0.25)
        assert t.loc[f"s-{i}", "e_above_hull"] == pytest.approx(-0.25)
        assert t.loc[f"s-{i}", "energy"] == pytest.approx(-6.0)
    assert list(out.targets.columns) == ["id", "n_A5_defects", "n_atoms", "formula", "energy", "e_form", "e_above_hull"]


def test_normalized_frames_keep_only_contract_keys(tmp_path):
    atoms = frame(0, energy=-4.0, n_A5_vac=0, extra="junk")
    atoms.arrays["site"] = np.array(["A4", "A5", "h", "h"])
    out = read(write(tmp_path, [atoms])).frames[0]
    assert set(out.info) == {"id", "system", "n_A5_defects", "n_A5_vac", "energy", "e_form", "e_above_hull"}
    assert list(out.arrays["site"]) == ["A4", "A5", "h", "h"] and out.calc is None


BAD_FRAMES = {
    "duplicate id": ([frame(0, energy=-4.0), frame(0, energy=-4.0)], r"frame 1 \(id='s-0'\): duplicate id 's-0' \(first seen in frame 0\)"),
    "missing energy": ([frame(0)], r"frame 0 \(id='s-0'\): missing 'energy'"),
    "non-numeric energy": ([frame(0, energy="abc")], r"frame 0 \(id='s-0'\): 'energy' must be a finite number, got 'abc'"),
    "nan energy": ([frame(0, energy=float("nan"))], r"'energy' must be a finite number, got nan"),
    "negative defects": ([frame(0, n_a5=-2, energy=-4.0)], r"'n_A5_defects' must be >= 0, got -2"),
    "odd defects": ([frame(0, n_a5=3, energy=-4.0)], r"'n_A5_defects' = 3 is not a multiple of defect_step = 2"),
    "non-integer defects": ([frame(0, n_a5=2.5, energy=-4.0)], r"'n_A5_defects' must be an integer, got 2.5"),
    "unknown element": ([frame(0, "Cu3Au", energy=-4.0)], r"frame 0 \(id='s-0'\): element\(s\) \['Au'\] have no reference energy"),
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
def test_bad_frames_name_file_record_and_problem(tmp_path, case):
    frames, message = BAD_FRAMES[case]
    path = write(tmp_path, frames)
    with pytest.raises(InputError, match=message) as err:
        read(path)
    assert str(err.value).startswith(str(path))


def test_missing_id_and_missing_defect_count(tmp_path):
    atoms = frame(0, energy=-4.0)
    del atoms.info["id"]
    with pytest.raises(InputError, match="frame 0: missing 'id'"):
        read(write(tmp_path, [atoms]))
    atoms = frame(0, energy=-4.0)
    del atoms.info["n_A5_defects"]
    with pytest.raises(InputError, match="missing 'n_A5_defects'"):
        read(write(tmp_path, [atoms], "b.extxyz"))


def test_frame_without_cell(tmp_path):
    path = tmp_path / "nocell.extxyz"
    path.write_text("1\nProperties=species:S:1:pos:R:3 id=a n_A5_defects=0 energy=-1.0\nCu 0 0 0\n")
    with pytest.raises(InputError, match="no periodic 3D cell"):
        read(path)


def test_missing_file_and_not_extxyz(tmp_path):
    with pytest.raises(InputError, match="nope.extxyz: file not found"):
        read(tmp_path / "nope.extxyz")
    junk = tmp_path / "junk.extxyz"
    junk.write_text("this is not\nan extxyz file\n")
    with pytest.raises(InputError, match="junk.extxyz: not a readable extxyz file"):
        read(junk)


def test_references_come_from_elemental_phases_and_config_overrides(tmp_path):
    cu, pt = frame(0, "Cu4"), frame(1, "Pt4")
    cu.info, pt.info = {"name": "Cu", "energy": -4.0}, {"name": "Pt", "energy": -10.0}
    phases = write(tmp_path, [cu, pt], "phases.extxyz")
    assert build_hull("CuPt", competing_phases=phases).references == {"Cu": -1.0, "Pt": -2.5}
    assert build_hull("CuPt", competing_phases=phases, references={"Pt": -3.0}).references["Pt"] == -3.0
    with pytest.raises(InputError, match="key 'systems.CuPt': no elemental references"):
        build_hull("CuPt")


def outputs_under(folder, set_name):
    """``structures``, ``equivalents`` (+ ``targets`` for the labeled sets) of one set, at their
    layout paths under ``folder``; a set to predict reads the dataset ingested there."""
    outputs = {
        "structures": folder / layout.path(layout.STRUCTURES, system="CuPt", set=set_name),
        "equivalents": folder / layout.path(layout.EQUIVALENTS, system="CuPt", set=set_name),
    }
    if set_name in ("dataset", "audit"):
        outputs["targets"] = folder / layout.path(layout.TARGETS, system="CuPt", set=set_name)
    if set_name != "dataset":
        outputs["labeled_structures"] = folder / layout.path(layout.STRUCTURES, system="CuPt", set="dataset")
    return outputs


def test_ingest_writes_nothing_when_the_file_is_bad(tmp_path):
    good = write(tmp_path, [frame(0, energy=-4.0)], "good.extxyz")
    bad = write(tmp_path, [frame(0), frame(0)], "bad.extxyz")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"bad.extxyz: frame 0 \(id='s-0'\): missing 'energy'"):  # labeled: energies checked first
        ingest_set(
            "CuPt", {"dataset": bad, "inference": good, "references": REFS}, "dataset", defect_step=2, **outputs_under(out, "dataset")
        )
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))
    spec = {"dataset": good, "inference": good, "references": REFS}
    ingest_set("CuPt", spec, "dataset", defect_step=2, **outputs_under(out, "dataset"))
    with pytest.raises(InputError, match="bad.extxyz: frame 1"):
        ingest_set("CuPt", spec | {"inference": bad}, "inference", defect_step=2, **outputs_under(out, "inference"))
    with pytest.raises(
        InputError, match="good.extxyz: every frame is equivalent to a structure of the labeled dataset .*: nothing is left to screen"
    ):
        ingest_set("CuPt", spec, "inference", defect_step=2, **outputs_under(out, "inference"))
    strained = frame(1)
    strained.set_cell([3.8] * 3, scale_atoms=True)  # another structure (the matcher does not rescale)
    novel = write(tmp_path, [strained, frame(2)], "novel.extxyz")
    ingest_set("CuPt", spec | {"inference": novel}, "inference", defect_step=2, **outputs_under(out, "inference"))
    dataset = outputs_under(out, "dataset")
    targets = pd.read_csv(dataset["targets"])
    assert targets.e_form.iloc[0] == pytest.approx(0.0) and math.isfinite(targets.energy.iloc[0])
    assert [a.info["id"] for a in ase.io.read(dataset["structures"], ":")] == ["s-0"]
    assert dataset["targets"].name == "dataset_targets.csv"
    assert sorted(p.name for p in (out / "results" / "CuPt").iterdir()) == [
        "dataset.extxyz",
        "dataset_equivalents.csv",
        "dataset_targets.csv",
        "inference.extxyz",
        "inference_equivalents.csv",
    ]
    # s-2 is the dataset's structure: left out of the set to screen, and said so
    assert pd.read_csv(outputs_under(out, "inference")["equivalents"]).to_dict("records") == [
        {"id": "s-1", "relation": "kept", "equivalent_id": "s-1", "equivalent_set": "inference"},
        {"id": "s-2", "relation": "labeled", "equivalent_id": "s-0", "equivalent_set": "dataset"},
    ]
    assert [a.info["id"] for a in ase.io.read(outputs_under(out, "inference")["structures"], ":")] == ["s-1"]


def test_labeled_sets_and_only_they_write_targets(tmp_path):
    good = write(tmp_path, [frame(0, energy=-4.0)], "good.extxyz")
    spec = {"dataset": good, "inference": good, "audit": good, "references": REFS}
    out = tmp_path / "out"
    ingest_set("CuPt", spec, "dataset", defect_step=2, **outputs_under(out, "dataset"))
    with pytest.raises(ValueError, match="a target table is written for"):
        ingest_set("CuPt", spec, "audit", defect_step=2, **(outputs_under(out, "audit") | {"targets": None}))
    with pytest.raises(ValueError, match="a target table is written for"):
        ingest_set("CuPt", spec, "inference", defect_step=2, **outputs_under(out, "inference"), targets=tmp_path / "i.csv")
    with pytest.raises(ValueError, match="checked against the ingested dataset"):
        ingest_set("CuPt", spec, "inference", defect_step=2, **(outputs_under(out, "inference") | {"labeled_structures": None}))
    assert not list(tmp_path.glob("[ai].*")) and not list((out / "results" / "CuPt").glob("[ai]*"))
    # the inference set is not labeled: its frames need no energy
    unlabeled = frame(0)
    unlabeled.set_cell([3.8] * 3, scale_atoms=True)
    unlabeled = write(tmp_path, [unlabeled], "unlabeled.extxyz")
    ingest_set("CuPt", spec | {"inference": unlabeled}, "inference", defect_step=2, **outputs_under(out, "inference"))
    assert len(ase.io.read(outputs_under(out, "inference")["structures"], ":")) == 1


@pytest.mark.parametrize("part", ["inference", "audit"])
def test_element_to_predict_that_the_dataset_lacks_is_an_error_at_ingest(tmp_path, part):
    """Au has a reference energy, so the frame is a valid structure, but no model learns Au.
    Ingesting a file to predict checks it against the ingested dataset; ingesting the dataset
    reads no other file, so the error is said once, by the file at fault."""
    dataset = write(tmp_path, [frame(0, "Cu3Pt", energy=-5.0), frame(1, energy=-4.0)], "labeled.extxyz")
    good = write(tmp_path, [frame(0, "Cu3Pt")], "good.extxyz")
    other = write(tmp_path, [frame(i, "Cu3Au" if i == 2 else "Cu4", energy=-4.0) for i in range(3)], f"{part}.extxyz")
    spec = {
        "dataset": dataset,
        "inference": other if part == "inference" else good,
        "audit": other if part == "audit" else dataset,
        "references": {**REFS, "Au": -3.0},
    }
    out = tmp_path / "out"
    ingest_set("CuPt", spec, "dataset", defect_step=2, **outputs_under(out, "dataset"))  # the bad file is not the dataset's business
    with pytest.raises(InputError) as err:
        ingest_set("CuPt", spec, part, defect_step=2, **outputs_under(out, part))
    assert str(err.value) == (
        f"{other}: frame 2 (id='s-2'): element(s) ['Au'] absent from the labeled dataset {str(dataset)!r}: no model learns them"
    )
    assert not outputs_under(out, part)["structures"].exists()
    fine = frame(5, "Cu3Pt", energy=-5.0)
    fine.set_cell([3.8] * 3, scale_atoms=True)
    ingest_set("CuPt", {**spec, part: write(tmp_path, [fine], "fine.extxyz")}, part, defect_step=2, **outputs_under(out, part))
    assert outputs_under(out, part)["structures"].is_file()


def test_truncated_file_names_the_frame_it_breaks_off_in(tmp_path):
    path = write(tmp_path, [frame(i, energy=-4.0) for i in range(4)])
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-2]))  # frame 3 loses two of its four atom lines
    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value).startswith(f"{path}: frame 3 (id='s-3'): not a readable extxyz frame (")
    assert "expected 4" in str(err.value)
