"""Which frames are the same structure: the parent's symmetry, pymatgen's matcher, and ingest's use of them."""

from __future__ import annotations

import itertools

import ase.io
import numpy as np
import pandas as pd
import pytest
from ase.build import bulk

from qcrobust import layout
from qcrobust.dataset import ingest_set
from qcrobust.equivalence import canonical_atom_order, canonical_codes, classify, equivalents, site_permutations
from qcrobust.errors import InputError

REFS = {"Cu": -3.5, "Au": -3.2}


def fcc_parent():
    """A 2x2x2 fcc Cu cell whose 32 sites all carry one label: its full symmetry permutes them."""
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    atoms.arrays["site"] = np.array(["A"] * len(atoms))
    return atoms


def decorate(parent, gold=(), vacant=(), order=None, ident="x", **info):
    atoms = parent.copy()
    symbols = atoms.get_chemical_symbols()
    for index in gold:
        symbols[index] = "Au"
    atoms.set_chemical_symbols(symbols)
    atoms = atoms[[k for k in range(len(atoms)) if k not in set(vacant)]]
    if order is not None:
        atoms = atoms[order(len(atoms))]
    del atoms.arrays["site"]
    atoms.info.update(id=ident, n_A5_defects=0, **info)
    return atoms


def test_canonical_codes_agree_with_brute_force():
    rng = np.random.default_rng(0)
    perms = np.array([rng.permutation(6) for _ in range(5)] + [np.arange(6)])
    codes = rng.integers(0, 3, size=(40, 6)).astype(np.int16)
    fast = canonical_codes(codes, perms)
    for row, best in zip(codes, fast):
        images = []
        for perm in perms:
            image = np.empty_like(row)
            image[perm] = row
            images.append(tuple(image))
        assert tuple(best) == min(images)


def test_parent_symmetry_finds_the_same_decoration_in_any_setting():
    parent = fcc_parent()
    perms = site_permutations(parent)
    assert len(perms) == 48 * 32  # m-3m times the 32 lattice translations of the 2x2x2 cell
    one = decorate(parent, gold=[0, 5], vacant=[9], ident="one")
    # the same decoration moved by a symmetry operation of the parent, atoms listed backwards
    g = perms[777]
    moved = decorate(parent, gold=[g[0], g[5]], vacant=[g[9]], order=lambda n: np.arange(n)[::-1], ident="moved")
    other = decorate(parent, gold=[0, 1], vacant=[9], ident="other")
    table, sites = classify({"inference": [one, moved, other]}, parent=parent)
    assert table["class"].tolist()[0] == table["class"].tolist()[1] != table["class"].tolist()[2]
    # the atoms of every frame are written in the parent's site order
    reordered = moved[canonical_atom_order(moved, sites["inference"][1])]
    assert np.all(np.diff(sites["inference"][1][canonical_atom_order(moved, sites["inference"][1])]) > 0)
    assert sorted(reordered.get_chemical_symbols()) == sorted(moved.get_chemical_symbols())


def test_without_a_parent_pymatgens_matcher_decides():
    base = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 1, 1))
    base.set_chemical_symbols(["Au"] + ["Cu"] * 7)
    base.info.update(id="a", n_A5_defects=0)
    shifted = base.copy()
    shifted.translate([0.9, 0.4, 0.2])
    shifted.wrap()
    shifted = shifted[[3, 1, 7, 0, 2, 6, 5, 4]]
    shifted.info["id"] = "b"
    strained = base.copy()
    strained.set_cell(base.cell * 1.02, scale_atoms=True)
    strained.info["id"] = "c"
    table, sites = classify({"dataset": [strained], "inference": [shifted, base]})
    classes = dict(zip(table["id"], table["class"]))
    assert classes["a"] == classes["b"] != classes["c"]
    assert sites == {"dataset": None, "inference": None}
    # the order of the frames does not decide the classes
    again, _ = classify({"inference": [base, shifted], "dataset": [strained]})
    assert dict(zip(again["id"], again["class"])) == classes


def test_equivalents_keep_the_smallest_id_and_name_the_labeled_structure():
    own = pd.DataFrame({"set": "inference", "id": ["c", "a", "b", "d"], "class": [0, 0, 1, 2]})
    labeled = pd.DataFrame({"set": "dataset", "id": ["z", "y"], "class": [2, 2]})
    table = equivalents(own, labeled, "inference")
    assert table.to_dict("records") == [
        {"id": "c", "relation": "duplicate", "equivalent_id": "a", "equivalent_set": "inference"},
        {"id": "a", "relation": "kept", "equivalent_id": "a", "equivalent_set": "inference"},
        {"id": "b", "relation": "kept", "equivalent_id": "b", "equivalent_set": "inference"},
        {"id": "d", "relation": "labeled", "equivalent_id": "y", "equivalent_set": "dataset"},
    ]


def _ingest(tmp_path, spec, set_name, folder="out"):
    out = tmp_path / folder
    paths = {
        "structures": out / layout.path(layout.STRUCTURES, system="CuAu", set=set_name),
        "equivalents": out / layout.path(layout.EQUIVALENTS, system="CuAu", set=set_name),
    }
    if set_name in ("dataset", "audit"):
        paths["targets"] = out / layout.path(layout.TARGETS, system="CuAu", set=set_name)
    if set_name != "dataset":
        paths["labeled_structures"] = out / layout.path(layout.STRUCTURES, system="CuAu", set="dataset")
    ingest_set("CuAu", spec, set_name, defect_step=2, **paths)
    return paths


def _write(path, frames):
    ase.io.write(path, frames, format="extxyz")
    return str(path)


def test_ingest_merges_duplicates_and_leaves_out_labeled_structures(tmp_path):
    parent = fcc_parent()
    perms = site_permutations(parent)
    g = perms[100]
    dataset = [
        decorate(parent, gold=[0, 5], ident="d-1", energy=-100.0),
        decorate(parent, gold=[g[0], g[5]], order=lambda n: np.arange(n)[::-1], ident="d-0", energy=-100.4),
        decorate(parent, gold=[0, 1, 2, 3], ident="d-2", energy=-101.0),
    ]
    inference = [
        decorate(parent, gold=[0], ident="i-0"),
        decorate(parent, gold=[0, 5], ident="i-1"),
        decorate(parent, gold=[0], vacant=[1], ident="i-2"),
        decorate(parent, gold=[0, 1, 2], ident="i-3"),
    ]
    twin = decorate(parent, gold=[13], order=lambda n: np.arange(n)[::-1], ident="i-9")  # i-0 again: one Au in a 32-site cell
    spec = {
        "dataset": _write(tmp_path / "d.extxyz", dataset),
        "inference": _write(tmp_path / "i.extxyz", inference + [twin]),
        "parent": _write(tmp_path / "p.extxyz", [parent]),
        "references": REFS,
    }
    paths = _ingest(tmp_path, spec, "dataset")
    targets = pd.read_csv(paths["targets"])
    # d-0 and d-1 are one structure: kept once (the smaller id) with the mean of their labels
    assert targets["id"].tolist() == ["d-0", "d-2"]
    assert targets.set_index("id").loc["d-0", "energy"] == pytest.approx(-100.2)
    written = ase.io.read(paths["structures"], ":")
    assert written[0].info["id"] == "d-0" and written[0].get_potential_energy() == pytest.approx(-100.2)
    assert pd.read_csv(paths["equivalents"])["relation"].tolist() == ["duplicate", "kept", "kept"]
    inference_paths = _ingest(tmp_path, spec, "inference")
    fate = pd.read_csv(inference_paths["equivalents"]).set_index("id")
    # i-1 is d-0's (and d-1's) structure
    assert fate["relation"].to_dict() == {"i-0": "kept", "i-1": "labeled", "i-2": "kept", "i-3": "kept", "i-9": "duplicate"}
    assert fate.loc["i-1", "equivalent_id"] == "d-0" and fate.loc["i-9", "equivalent_id"] == "i-0"
    assert [a.info["id"] for a in ase.io.read(inference_paths["structures"], ":")] == ["i-0", "i-2", "i-3"]

    # the same files with their frames in another order: the same structures and labels, byte for
    # byte (frames in id order); the equivalents tables follow the input's rows
    reordered = {
        **spec,
        "dataset": _write(tmp_path / "d2.extxyz", dataset[::-1]),
        "inference": _write(tmp_path / "i2.extxyz", ([twin] + inference)[::-1]),
    }
    again = {name: _ingest(tmp_path, reordered, name, folder="again") for name in ("dataset", "inference")}
    for name, first in (("dataset", paths), ("inference", inference_paths)):
        for kind in ("structures", "targets") if name == "dataset" else ("structures",):
            assert first[kind].read_bytes() == again[name][kind].read_bytes(), (name, kind)
        equivalents_before, equivalents_after = (sorted(p["equivalents"].read_text().splitlines()) for p in (first, again[name]))
        assert equivalents_before == equivalents_after, name


def test_equivalent_frames_with_different_limits_are_an_error(tmp_path):
    parent = fcc_parent()
    frames = [decorate(parent, gold=[0], ident="a", energy=-100.0), decorate(parent, gold=[1], ident="b", energy=-100.0)]
    frames[1].info["n_A5_defects"] = 2
    spec = {
        "dataset": _write(tmp_path / "d.extxyz", frames),
        "inference": _write(tmp_path / "i.extxyz", frames),
        "parent": _write(tmp_path / "p.extxyz", [parent]),
        "references": REFS,
    }
    with pytest.raises(InputError, match=r"d.extxyz: ids \['a', 'b'\]: the same structure with different n_A5_defects \[0, 2\]"):
        _ingest(tmp_path, spec, "dataset")


@pytest.mark.parametrize("seed", range(3))
def test_atom_order_without_a_parent_depends_on_the_atoms_only(seed):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 1, 1))
    atoms.set_chemical_symbols(["Au", "Cu", "Au"] + ["Cu"] * 5)
    shuffled = atoms[np.random.default_rng(seed).permutation(len(atoms))]
    a, b = atoms[canonical_atom_order(atoms)], shuffled[canonical_atom_order(shuffled)]
    assert np.array_equal(a.numbers, b.numbers) and np.allclose(a.positions, b.positions)
    assert list(itertools.islice(a.get_chemical_symbols(), 2)) == ["Cu", "Cu"]  # Cu (29) before Au (79)
