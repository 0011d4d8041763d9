"""Descriptor tables: columns, values checked by hand, parent mapping, errors, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from icet import ClusterSpace

from qcrobust.errors import InputError
from qcrobust.features import (
    FeatureSettings,
    FeatureSpace,
    Table,
    compute_features,
    feature_space,
    feature_table,
    read_features,
    write_features,
)
from qcrobust.synthetic import decorate, parent

# small cluster space: the synthetic parent is a 32-site cell with 12 decorated sites
SETTINGS = FeatureSettings.from_config({"shells": [2.0, 3.0, 4.0], "coordination_cutoff": 3.0, "cluster_cutoffs": [3.0]})
DECORATIONS = [("SSSS", "SSSSSSSS"), ("MMSS", "SSSSSSSS"), ("XXSS", "MXSSSSXM"), ("SMXS", "MMMMXXXX"), ("SSMX", "XXSSMMSS")]


def _frames(decorations=DECORATIONS, prefix="d"):
    base = parent()
    frames = []
    for k, (a4, a5) in enumerate(decorations):
        atoms = decorate(base, "Pd", a4, a5)
        atoms.info["id"] = f"{prefix}{k}"
        frames.append(atoms)
    return frames


@pytest.fixture(scope="module")
def tables():
    frames = _frames()
    return compute_features(
        [Table("dataset", "dataset.extxyz", frames[:3]), Table("inference", "inference.extxyz", frames[3:])],
        SETTINGS,
        parent(),
        "parent.extxyz",
    )


def test_tables_share_one_column_set_in_a_fixed_order(tables):
    dataset, inference = tables["dataset"], tables["inference"]
    assert list(dataset.columns) == list(inference.columns)
    assert list(dataset["id"]) == ["d0", "d1", "d2"] and list(inference["id"]) == ["d3", "d4"]
    columns = list(dataset.columns)
    groups = [c.split("_")[0] for c in columns[1:]]
    # n_atoms, composition, site counts, cluster vector, pair counts, coordination, environments: in that order
    assert groups == sorted(groups, key=["n", "frac", "site", "ce", "nb", "cn", "env"].index)
    assert all(dataset[c].dtype == np.float64 for c in columns[1:])
    assert {"frac_Cu", "frac_Pd", "site_A4_X", "site_A5_Pd", "site_host_Cu", "nb_Cu_Pd_s1", "cn_site_A5"} <= set(columns)


def test_environment_descriptors_by_hand(tables):
    """Per atom, the G2 density of each neighbour element from ASE's own neighbour list, then
    mean, minimum and maximum per centre element, against the table."""
    from ase.neighborlist import neighbor_list

    env = SETTINGS.environment
    atoms = _frames()[3]
    row = tables["inference"].set_index("id").loc["d3"]
    i, j, d = neighbor_list("ijd", atoms, env.cutoff)
    symbols = np.array(atoms.get_chemical_symbols())
    for k, centre in enumerate(env.centres):
        weight = np.exp(-0.5 * ((d - centre) / env.width) ** 2) * 0.5 * (np.cos(np.pi * d / env.cutoff) + 1)
        for neighbour in ("Cu", "Pd"):
            density = np.zeros(len(atoms))
            np.add.at(density, i[symbols[j] == neighbour], weight[symbols[j] == neighbour])
            for element in ("Cu", "Pd"):
                own = density[symbols == element]
                for stat, value in (("mean", own.mean()), ("min", own.min()), ("max", own.max())):
                    assert row[f"env_{element}_{neighbour}_{stat}_g{k:02d}"] == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert len(env.centres) == 13  # 2.0, 2.5, ..., 8.0 A


def test_environment_descriptors_are_optional():
    settings = FeatureSettings.from_config({**SETTINGS.to_json(), "environment": None})
    frames = _frames()[:2]
    table = compute_features([Table("dataset", "dataset.extxyz", frames)], settings, parent(), "parent.extxyz")["dataset"]
    assert not [c for c in table.columns if c.startswith("env_")]


def test_descriptor_groups_join_rows_with_equal_vectors():
    from qcrobust.features import descriptor_groups

    table = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, 2.0, 1.0 + 1e-12, -0.0], "y": [0.5, 0.5, 0.5, 0.0]})
    groups = descriptor_groups(table)
    assert groups.iloc[0] == groups.iloc[2]  # round-off does not split a group
    assert groups.nunique() == 3 and groups.duplicated(keep=False).sum() == 2


def test_composition_and_site_counts_match_the_decoration(tables):
    table = pd.concat([tables["dataset"], tables["inference"]]).set_index("id")
    for k, (a4, a5) in enumerate(DECORATIONS):
        row = table.loc[f"d{k}"]
        n_atoms = 32 - a4.count("X") - a5.count("X")
        assert row["n_atoms"] == n_atoms
        assert row["frac_Pd"] == pytest.approx((a4.count("M") + a5.count("M")) / n_atoms)
        for site, decoration in (("A4", a4), ("A5", a5)):
            assert row[f"site_{site}_X"] == decoration.count("X")
            assert row[f"site_{site}_Pd"] == decoration.count("M")
            assert row[f"site_{site}_Cu"] == decoration.count("S")
        assert row["site_host_Cu"] == 20


@pytest.mark.filterwarnings("ignore::DeprecationWarning:spglib")
def test_cluster_vector_equals_icet_on_the_parent_with_vacancies_as_x(tables):
    base = parent()
    labels = base.arrays["site"]
    allowed = [["Cu", "Pd", "X"] if label != "host" else ["Cu"] for label in labels]
    space = ClusterSpace(base, [3.0], allowed)
    a4, a5 = DECORATIONS[2]
    symbols = base.get_chemical_symbols()
    for site, decoration in (("A4", a4), ("A5", a5)):
        for index, char in zip(np.flatnonzero(labels == site), decoration):
            symbols[index] = {"S": "Cu", "M": "Pd", "X": "X"}[char]
    structure = base.copy()
    structure.set_chemical_symbols(symbols)
    row = tables["dataset"].set_index("id").loc["d2"]
    np.testing.assert_allclose(row.filter(like="ce_").to_numpy(), space.get_cluster_vector(structure))
    assert row["ce_000_o0"] == 1.0


def test_pair_counts_and_coordination_of_pure_fcc():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)  # nearest neighbours 2.553 A, 12 each
    atoms.info["id"] = "fcc"
    row = compute_features([Table("dataset", "x", [atoms])], SETTINGS)["dataset"].iloc[0]
    # shells [0, 2), [2, 3), [3, 4): 12 neighbours / 2 = 6 pairs per atom at 2.55 A, 3 at 3.61 A
    assert (row["nb_Cu_Cu_s0"], row["nb_Cu_Cu_s1"], row["nb_Cu_Cu_s2"]) == (0.0, 6.0, 3.0)
    assert (row["cn_mean"], row["cn_std"], row["cn_Cu"]) == (12.0, 0.0, 12.0)
    assert not any(c.startswith(("ce_", "site_")) for c in row.index)


def test_without_parent_site_counts_come_from_the_frames_labels():
    frames = _frames()
    table = compute_features([Table("dataset", "x", frames)], SETTINGS)["dataset"].set_index("id")
    assert not any(c.startswith("ce_") for c in table.columns)
    assert "site_A4_X" not in table.columns  # no parent: vacancies cannot be seen
    assert table.loc["d1", "site_A4_Pd"] == 2 and table.loc["d3", "site_A5_Pd"] == 4


def test_atom_order_does_not_matter():
    frames = _frames()
    shuffled = [a[np.random.default_rng(k).permutation(len(a))] for k, a in enumerate(frames)]
    for a, b in zip(frames, shuffled):
        b.info = dict(a.info)
    one = compute_features([Table("dataset", "x", frames)], SETTINGS, parent())["dataset"]
    two = compute_features([Table("dataset", "x", shuffled)], SETTINGS, parent())["dataset"]
    pd.testing.assert_frame_equal(one, two)


def test_frame_off_the_parent_lattice_is_an_error_naming_file_and_frame():
    frames = _frames()
    frames[1].positions[3] += [0.0, 0.0, 0.9]
    with pytest.raises(InputError) as err:
        compute_features([Table("dataset", "data/set.extxyz", frames)], SETTINGS, parent(), "parent.extxyz")
    message = str(err.value)
    assert message.startswith("data/set.extxyz: frame 1 (id='d1'): atom 3 is 0.900 A from the nearest site of the parent parent.extxyz")


def test_site_label_disagreeing_with_the_parent_is_an_error():
    frames = _frames()
    labels = frames[0].arrays["site"].copy()
    labels[labels == "A4"] = "A5"
    frames[0].arrays["site"] = labels
    with pytest.raises(InputError, match=r"frame 0 \(id='d0'\): atom \d+ is labeled site 'A5' but sits on parent site \d+ \('A4'\)"):
        compute_features([Table("dataset", "x", frames)], SETTINGS, parent())


def test_tolerance_above_half_the_site_distance_is_refused():
    with pytest.raises(InputError, match="site_tolerance"):
        compute_features([Table("dataset", "x", _frames())], FeatureSettings.from_config({"site_tolerance": 1.5}), parent())


def test_parquet_round_trip_is_byte_identical(tables, tmp_path):
    write_features(tables["dataset"], tmp_path / "a.parquet")
    again = compute_features(
        [Table("dataset", "dataset.extxyz", _frames()[:3]), Table("inference", "inference.extxyz", _frames()[3:])], SETTINGS, parent()
    )
    write_features(again["dataset"], tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    pd.testing.assert_frame_equal(read_features(tmp_path / "a.parquet"), tables["dataset"])


def test_read_features_rejects_duplicates_and_non_finite_values(tables, tmp_path):
    broken = tables["dataset"].copy()
    broken.loc[1, "cn_mean"] = np.nan
    write_features(broken, tmp_path / "nan.parquet")
    with pytest.raises(InputError, match=r"nan.parquet: id 'd1': column 'cn_mean' is not finite"):
        read_features(tmp_path / "nan.parquet")
    write_features(pd.concat([tables["dataset"], tables["dataset"].iloc[:1]]), tmp_path / "dup.parquet")
    with pytest.raises(InputError, match="id 'd0': duplicate id"):
        read_features(tmp_path / "dup.parquet")


def test_tables_match_the_features_schema_and_bad_values_are_caught(tables):
    from qcrobust.tables import check_table

    check_table(tables["dataset"], "features", "dataset.parquet")
    broken = tables["dataset"].copy()
    broken.loc[2, "frac_Pd"] = 1.2
    with pytest.raises(
        InputError, match=r"dataset.parquet: row 2: does not match features.schema.yaml: frac_Pd: 1.2 is greater than the maximum of 1"
    ):
        check_table(broken, "features", "dataset.parquet")


def test_settings_defaults_are_the_config_schemas():
    from qcrobust.config import schema_defaults

    defaults = schema_defaults("features")
    settings = FeatureSettings.from_config(None)
    assert settings == FeatureSettings.from_config({})
    assert settings.shells == tuple(float(x) for x in defaults["shells"]) and settings.site_tolerance == defaults["site_tolerance"]
    assert SETTINGS.site_tolerance == defaults["site_tolerance"] and SETTINGS.shells == (2.0, 3.0, 4.0)  # keys given win


def _sets(frames=None):
    frames = frames or _frames()
    # the dataset's frames d0, d1 hold no Pd and no vacancy on A5: the other sets bring them
    return [
        Table("dataset", "dataset.extxyz", frames[:2]),
        Table("inference", "inference.extxyz", frames[2:4]),
        Table("audit", "audit.extxyz", frames[4:]),
    ]


@pytest.mark.parametrize("with_parent", [True, False])
def test_each_sets_table_alone_equals_all_tables_together_to_the_bit(with_parent):
    """Rule feature_space fixes the columns from every set, rule features computes one set per job:
    the same tables as computing all sets at once."""
    sets = _sets()
    base = parent() if with_parent else None
    together = compute_features(sets, SETTINGS, base, "parent.extxyz")
    space = feature_space(sets, SETTINGS, base, "parent.extxyz")
    # the space, as rule features reads it back from space.json
    space = FeatureSpace.from_json(json.loads(json.dumps(space.to_json())))
    for table in sets:
        alone = feature_table(space, table, base, "parent.extxyz")
        assert list(alone.columns) == ["id", *space.columns]
        pd.testing.assert_frame_equal(alone, together[table.name], check_exact=True)
        assert alone.drop(columns="id").to_numpy().tobytes() == together[table.name].drop(columns="id").to_numpy().tobytes()
    # the columns are all sets': Pd on A5 occurs in the inference and audit sets only
    assert "site_A5_Pd" in space.columns
    assert "site_A5_Pd" not in feature_space(sets[:1], SETTINGS, base, "parent.extxyz").columns
    assert any(c.startswith("ce_") for c in space.columns) == with_parent


def test_feature_space_survives_json():
    space = feature_space(_sets(), SETTINGS, parent(), "parent.extxyz")
    text = json.dumps(space.to_json())
    again = FeatureSpace.from_json(json.loads(text))
    assert again == space
    assert again.columns == space.columns == json.loads(text)["columns"]
    assert again.settings == SETTINGS
    assert json.dumps(again.to_json()) == text


def test_a_set_outside_the_feature_space_is_an_error():
    frames = _frames()
    space = feature_space([Table("dataset", "dataset.extxyz", frames[:2])], SETTINGS)  # no parent: Cu, Pd only
    stranger = frames[2].copy()
    stranger.info = dict(frames[2].info)
    symbols = stranger.get_chemical_symbols()
    symbols[0] = "Pt"
    stranger.set_chemical_symbols(symbols)
    with pytest.raises(InputError, match=r"other.extxyz: elements \['Pt'\] are not in the system's feature space \['Cu', 'Pd'\]"):
        feature_table(space, Table("other", "other.extxyz", [stranger]))


def test_a_stale_feature_space_file_is_an_error_naming_it():
    frames = _frames()
    space = feature_space([Table("dataset", "dataset.extxyz", frames)], SETTINGS, parent(), "parent.extxyz")
    data = json.loads(json.dumps(space.to_json()))
    data["columns"] = data["columns"][:-1]
    with pytest.raises(InputError, match="results/S/features/space.json: key 'columns': differs"):
        FeatureSpace.from_json(data, "results/S/features/space.json")
