"""The default dataset's structure model, compositions, symmetry reduction and decorations (no labeler)."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import spglib

from qcrobust.default_data.decorations import (
    N_A4,
    N_EXTRA_LIMIT0,
    a4_orbit_representatives,
    apply_permutation,
    build_decorations,
    canonical,
    composition_of,
    compositions,
    site_permutations,
)
from qcrobust.default_data.parent import build_ideal_parent, disordered_indices, min_pair_distance, space_group_symbol
from qcrobust.default_data.structures import decorate


@pytest.fixture(scope="module")
def ideal_parent():
    return build_ideal_parent("Pt")


@pytest.fixture(scope="module")
def perms(ideal_parent):
    return site_permutations(ideal_parent)


def test_ideal_parent_matches_the_design(ideal_parent):
    assert len(ideal_parent) == 146
    assert ideal_parent.get_chemical_formula() == "Pt26Sc120"
    assert space_group_symbol(ideal_parent, symprec=0.01) == "Im-3"
    assert min_pair_distance(ideal_parent) == pytest.approx(2.77, abs=0.01)
    counts = Counter(ideal_parent.get_array("site"))
    assert counts == {"M1": 2, "Sc1": 24, "Sc2": 12, "Sc3": 48, "M2": 24, "A4": 12, "A5": 24}
    # The glue sites close the atom list, A4 before A5: the decoration's site order.
    assert list(disordered_indices(ideal_parent)) == list(range(110, 146))


@pytest.mark.parametrize("dopant, n_total", [("Pt", 2107), ("Pd", 2107), ("Ir", 1023), ("Rh", 1023)])
def test_composition_counts_match_table_1(dopant, n_total):
    comps = compositions(dopant)
    assert len(comps) == n_total
    assert sum(c.n_A5_defects == 0 for c in comps) == 28
    assert all(c.n_A4_vac % 2 == 0 and c.n_A5_M % 2 == 0 for c in comps)


def test_symmetry_permutations_map_the_decorated_structure_onto_itself(ideal_parent, perms):
    """Every permutation, applied to a decoration, gives a structure spglib sees as the same crystal."""
    assert perms.shape == (48, 36)  # m-3 (24 operations) x body centring
    deco = "XXMSSSSSSSSS" + "MMSSSSSSSSSSSSSSSSSSSSSS"
    positions = ideal_parent.get_positions()[disordered_indices(ideal_parent)]
    for perm in perms:
        moved = apply_permutation(deco, perm)
        assert composition_of(moved) == composition_of(deco)
        # the species of each site travels with the site: the map is a bijection of the 36 sites
        assert sorted(perm) == list(range(36))
    assert len(positions) == 36


def test_symmetry_reduction_agrees_with_brute_force(ideal_parent, perms):
    """Small case: two dopants on A4 (66 decorations). Independent of the permutation table,
    spglib's symmetry of each decorated structure gives its orbit size |G| / |stabiliser|;
    the orbits found by the reduction must have exactly those sizes and cover all 66."""
    decos = []
    for pair in itertools.combinations(range(N_A4), 2):
        chars = ["S"] * N_A4
        for i in pair:
            chars[i] = "M"
        decos.append("".join(chars) + "S" * 24)
    orbits = {}
    for deco in decos:
        orbits.setdefault(canonical(deco, perms), []).append(deco)
    n_ops = len(perms)
    for members in orbits.values():
        for deco in members:
            atoms = decorate(ideal_parent, deco, "Pt")
            cell = (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers)
            stabiliser = len(spglib.get_symmetry(cell, symprec=0.01)["rotations"])
            assert n_ops % stabiliser == 0 and len(members) == n_ops // stabiliser
    assert sum(len(m) for m in orbits.values()) == len(decos)
    # the vectorised enumeration used for the inference set finds the same orbits
    reps = a4_orbit_representatives(perms, lambda n_vac, n_m: n_vac == 0 and n_m == 2)
    assert sorted("".join("MSX"[d] for d in row) + "S" * 24 for row in reps) == sorted(orbits)


@pytest.fixture(scope="module")
def table(ideal_parent):
    return build_decorations("ScPt", "Pt", ideal_parent, seed=2024, audit_size=200, shard_size=50)


def test_decorations_table(table, perms):
    kinds = table["kind"].value_counts().to_dict()
    assert kinds["labeled"] == 2107 and kinds["extra_limit0"] == N_EXTRA_LIMIT0
    assert table["id"].is_unique
    assert table.loc[table["kind"] == "inference", "audit"].sum() == 200
    for row in table.itertuples():
        c = composition_of(row.decoration)
        assert (c.n_A4_vac, c.n_A4_M, c.n_A5_vac, c.n_A5_M, c.n_A5_defects) == (
            row.n_A4_vac,
            row.n_A4_M,
            row.n_A5_vac,
            row.n_A5_M,
            row.n_A5_defects,
        )
    labeled = table[table["kind"] != "inference"]
    # one decoration per composition; all labeled decorations symmetry-distinct
    assert not labeled[labeled["kind"] == "labeled"].duplicated(["n_A4_vac", "n_A4_M", "n_A5_vac", "n_A5_M"]).any()
    limit0 = labeled[labeled["n_A5_defects"] == 0]
    assert len(limit0) == 28 + N_EXTRA_LIMIT0
    assert len({canonical(d, perms) for d in limit0["decoration"]}) == len(limit0)
    inference = table[table["kind"] == "inference"]
    assert (inference["n_A5_defects"] == 0).all()
    assert inference["decoration"].is_unique


def test_shards_put_limit0_first_and_audit_last(table):
    labeled = table[table["shard"] >= 0]
    assert len(labeled) == 2107 + 63 + 200
    assert labeled["shard"].value_counts().max() == 50
    first = labeled[labeled["shard"] == 0]
    assert (first["n_A5_defects"] == 0).all()
    order = labeled.sort_values("shard", kind="stable")
    audit_shards = order.loc[order["audit"] == 1, "shard"]
    assert audit_shards.min() >= order.loc[order["audit"] == 0, "shard"].max()
    # within the training data, shards follow the A5 defect count
    train = order[order["audit"] == 0]
    assert np.all(np.diff(train.groupby("shard")["n_A5_defects"].min().to_numpy()) >= 0)


def test_decorations_are_deterministic(ideal_parent, table):
    again = build_decorations("ScPt", "Pt", ideal_parent, seed=2024, audit_size=200, shard_size=50)
    assert again.equals(table)
    other = build_decorations("ScPt", "Pt", ideal_parent, seed=7, audit_size=200, shard_size=50)
    assert not other["decoration"].equals(table["decoration"])


def test_decorate_deletes_vacancies_and_keeps_site_labels(ideal_parent):
    deco = "XXMM" + "S" * 8 + "MMXX" + "S" * 20
    atoms = decorate(ideal_parent, deco, "Pt")
    assert len(atoms) == 146 - 4
    sites = atoms.get_array("site")
    symbols = np.array(atoms.get_chemical_symbols())
    assert (symbols[sites == "A4"] == "Pt").sum() == 2 and (sites == "A4").sum() == 10
    assert (symbols[sites == "A5"] == "Pt").sum() == 2 and (sites == "A5").sum() == 22
    with pytest.raises(ValueError, match="invalid decoration"):
        decorate(ideal_parent, "Q" * 36, "Pt")


def test_hull_summary_counts_structures_below_the_hull(tmp_path):
    import pandas as pd

    from qcrobust.hull_stats import hull_summary, plot_hull_histogram

    targets = pd.DataFrame({"id": list("abcde"), "n_A5_defects": [0, 0, 2, 4, 4], "e_above_hull": [-0.01, 0.0, 0.02, -0.003, 0.1]})
    summary = hull_summary(targets)
    assert (summary["n"], summary["n_below_hull"], summary["n_limit0"], summary["n_limit0_below_hull"]) == (5, 2, 2, 1)
    assert summary["share_below_hull"] == pytest.approx(0.4) and summary["median"] == 0.0
    plot_hull_histogram({"dataset": targets}, "ScPt", tmp_path / "hull.png")
    assert (tmp_path / "hull.png").stat().st_size > 1000


def test_crosscheck_sample_is_seeded_and_from_the_training_pool(table):
    from qcrobust.default_data.crosscheck import crosscheck_sample

    sample = crosscheck_sample(table, 100, seed=2024, system="ScPt")
    assert len(sample) == 100 and sample["id"].is_unique
    assert set(sample["kind"]) <= {"labeled", "extra_limit0"}
    assert sample.equals(crosscheck_sample(table, 100, seed=2024, system="ScPt"))
