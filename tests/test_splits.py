import numpy as np
import pandas as pd
import pytest

from qcrobust.errors import InputError
from qcrobust.splits import limit_members, limit_requirements, limit_sizes, make_splits
from qcrobust.splits import test_ids as split_test_ids

LIMITS = [0, 2, 4, 6, 8, 10]


def table(counts: dict[int, int]) -> pd.DataFrame:
    rows = [(f"s{d:02d}-{i:03d}", d) for d, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["id", "n_A5_defects"])


DATA = table({0: 40, 2: 31, 4: 57, 6: 12, 8: 3, 10: 90})


def split(data=DATA, **kw):
    args = dict(test_size=20, val_fraction=0.1, seed=3)
    args.update(kw)
    return make_splits(data, **args)


def test_test_set_is_limit0_of_requested_size_and_shared_by_all_limits():
    s = split()
    test = s[s.split == "test"]
    assert len(test) == 20 and (test.n_A5_defects == 0).all()
    assert (limit_sizes(s, LIMITS)["n_test"] == 20).all()
    # what every model predicts as its test set: those ids, in splits.csv order, as strings
    assert split_test_ids(s) == test.id.tolist()
    shuffled = s.sample(frac=1.0, random_state=2)
    assert split_test_ids(shuffled) == shuffled.id[shuffled.split == "test"].tolist()
    assert split_test_ids(pd.DataFrame({"id": [3, 1, 2], "split": ["test", "train", "test"]})) == ["3", "2"]


def test_subsets_are_nested_and_never_contain_test():
    s = split()
    previous = set()
    for limit in LIMITS:
        members = limit_members(s, limit)
        ids = set(members.id)
        assert previous <= ids
        assert not ids & set(s.id[s.split == "test"])
        assert (members.n_A5_defects <= limit).all()
        previous = ids
    assert previous == set(s.id[s.split != "test"])


def test_sizes_add_up_and_val_share_matches_table_1():
    s = split()
    assert len(s) == len(DATA) and s.id.is_unique
    sizes = limit_sizes(s, LIMITS)
    top = sizes.iloc[-1]
    assert top.n_train + top.n_val + top.n_test == len(DATA)
    assert top.n_val == round(0.1 * (len(DATA) - 20))
    # paper Table 1: 2,107 train+val -> 211 val
    big = table({0: 91, 2: 600, 4: 800, 6: 679})
    b = make_splits(big, test_size=63, val_fraction=0.1, seed=0)
    assert (b.split == "val").sum() == 211 and (b.split == "train").sum() == 1896


def test_validation_is_stratified_so_small_limits_get_validation_data():
    s = split()
    sizes = limit_sizes(s, LIMITS).set_index("limit")
    assert sizes.loc[0, "n_val"] == 2  # 10 % of the 20 limit-0 structures left after the test draw
    for limit in LIMITS:
        n = sizes.loc[limit, "n_train"] + sizes.loc[limit, "n_val"]
        assert abs(sizes.loc[limit, "n_val"] - 0.1 * n) <= len(LIMITS)


def test_same_seed_same_split_regardless_of_row_order_and_other_seed_differs():
    a = split()
    shuffled = DATA.sample(frac=1.0, random_state=1)
    b = split(data=shuffled)
    pd.testing.assert_frame_equal(a, b)
    c = split(seed=4)
    assert not np.array_equal(a.split.to_numpy(), c.split.to_numpy())


def test_empty_limit0_pool_is_an_error():
    with pytest.raises(InputError, match="no limit-0 structures"):
        split(data=table({2: 30, 4: 10}))


def test_too_few_limit0_structures_is_an_error():
    with pytest.raises(InputError, match="only 40 limit-0 structures, fewer than split.test_size = 41"):
        split(test_size=41)


def test_limit_without_training_data_is_an_error():
    s = split(test_size=40)
    with pytest.raises(InputError, match="limit 0: no training structures"):
        limit_sizes(s, LIMITS)


def config(classical=("rf",), folds=5, allegro=("scratch",), allegro_limits=None, limits=LIMITS):
    return {
        "limits": list(limits),
        "classical": {"models": list(classical), "folds": folds},
        "allegro": {"models": list(allegro), "limits": allegro_limits},
    }


def test_requirements_follow_the_configured_models():
    assert limit_requirements(config()) == {"folds": 5, "allegro_limits": LIMITS, "self_pretrain": False}
    assert limit_requirements(config(classical=(), allegro=("self",), allegro_limits=[0, 10])) == {
        "folds": None,
        "allegro_limits": [0, 10],
        "self_pretrain": True,
    }
    assert limit_requirements(config(allegro=()))["allegro_limits"] == []


# 12 limit-0 structures, 10 of them drawn for the test set: limit 0 keeps 2 (1 train, 1 val)
SMALL = table({0: 12, 2: 10, 4: 10})


@pytest.mark.parametrize(
    "data, test_size, val_fraction, requirements, message",
    [
        (SMALL, 10, 0.5, config(allegro=()), "limit 0: only 2 train+val structures, fewer than classical.folds = 5"),
        (
            table({0: 12, 2: 1, 4: 10}),
            10,
            0.5,
            config(allegro=(), folds=4, limits=[2, 4]),
            "limit 2: only 3 train+val structures, fewer than classical.folds = 4",
        ),
        (
            table({0: 12, 2: 10}),
            10,
            0.05,
            config(classical=(), allegro_limits=[0, 2], limits=[0, 2]),
            "limit 0: no validation structure, which Allegro needs (allegro.limits holds 0)",
        ),
        (
            table({0: 12, 2: 10}),
            10,
            0.05,
            config(classical=(), allegro=("self",), allegro_limits=[2], limits=[0, 2]),
            "limit 0: no validation structure, which Allegro's self regime needs (it fine-tunes on limit 0)",
        ),
        (
            table({0: 30, 4: 10}),
            10,
            0.2,
            config(classical=(), allegro=("self",), allegro_limits=[2, 4], limits=[0, 2, 4]),
            "limit 2: no training structure with A5 defects (0 < n_A5_defects <= 2) for Allegro's self-pretraining",
        ),
    ],
)
def test_unmet_model_requirements_stop_at_the_limit_table_naming_the_dataset(data, test_size, val_fraction, requirements, message):
    s = make_splits(data, test_size=test_size, val_fraction=val_fraction, seed=0)
    with pytest.raises(InputError) as err:
        limit_sizes(s, requirements["limits"], source="my/labeled.extxyz", requirements=limit_requirements(requirements))
    assert str(err.value).startswith(f"my/labeled.extxyz: {message}")


def test_met_requirements_pass_and_classical_only_needs_no_validation_rows():
    s = make_splits(table({0: 30, 2: 10, 4: 10}), test_size=10, val_fraction=0.2, seed=0)
    full = config(allegro=("scratch", "external", "self"), allegro_limits=[0, 4], limits=[0, 2, 4])
    assert list(limit_sizes(s, [0, 2, 4], requirements=limit_requirements(full)).limit) == [0, 2, 4]
    no_val = make_splits(table({0: 17, 2: 4}), test_size=10, val_fraction=0.04, seed=0)
    sizes = limit_sizes(no_val, [0, 2], requirements=limit_requirements(config(allegro=(), limits=[0, 2])))
    assert sizes.n_val.tolist() == [0, 0] and sizes.n_train.tolist() == [7, 11]


def test_both_families_train_on_the_one_limit_subset():
    """classical.limit_data and allegro's limit_parts select exactly splits.limit_members, nested,
    and neither holds a test structure (rule predict reads the test set, splits.test_ids)."""
    from qcrobust.allegro.data import limit_parts
    from qcrobust.classical import limit_data

    rng = np.random.default_rng(5)
    defects = rng.choice([0, 2, 4, 6], size=40)
    splits = pd.DataFrame(
        {
            "id": [f"s{k:02d}" for k in range(40)],
            "n_A5_defects": defects,
            "split": np.where(defects == 0, rng.choice(["test", "train", "val"], 40), rng.choice(["train", "val"], 40)),
        }
    )
    targets = pd.DataFrame({"id": splits["id"], "e_above_hull": rng.normal(size=40)})
    features = pd.DataFrame({"id": splits["id"], "x": rng.normal(size=40)})
    previous = set()
    for limit in (0, 2, 4, 6):
        members = set(limit_members(splits, limit)["id"])
        assert members >= previous and members  # nested
        previous = members
        assert set(limit_data(features, targets, splits, limit, "e_above_hull").train["id"]) == members
        parts = limit_parts(splits, limit)
        assert set(parts["train"]) | set(parts["val"]) == members
        assert "test" not in parts and not set().union(*map(set, parts.values())) & set(split_test_ids(splits))
