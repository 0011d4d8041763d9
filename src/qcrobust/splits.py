"""Train/val/test splits and the nested limit subsets (paper §3.2–3.3).

- test: ``test_size`` structures drawn (seeded) from the limit-0 pool; the same for every limit.
- train/val: everything else, split once. The split is stratified by ``n_A5_defects`` so that
  every limit subset gets about the same validation share (a plain random split can leave the
  small low limits without any validation structure).
- limit x: the train/val rows with ``n_A5_defects <= x``. Subsets are nested by construction.

Rows are sorted by id before drawing, so the split depends on the seed and the set of ids,
not on the order of frames in the input file.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from qcrobust.errors import InputError

log = logging.getLogger(__name__)

SPLIT_COLUMNS = ["id", "n_A5_defects", "split"]


def _largest_remainder(quotas: np.ndarray, total: int) -> np.ndarray:
    """Integer counts close to ``quotas`` that add up to ``total`` (Hamilton apportionment)."""
    counts = np.floor(quotas).astype(int)
    remainder = quotas - counts
    # stable sort: ties go to the earlier (smaller n_A5_defects) group, deterministically
    for index in np.argsort(-remainder, kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return counts


def make_splits(
    table: pd.DataFrame,
    *,
    test_size: int,
    val_fraction: float,
    seed: int,
    source: str = "dataset",
) -> pd.DataFrame:
    """Assign ``split`` ∈ {train, val, test} to every row of ``table`` (columns id, n_A5_defects)."""
    table = table[["id", "n_A5_defects"]].sort_values("id", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(table["n_A5_defects"].to_numpy() == 0)
    if len(pool) == 0:
        raise InputError(source, None, "no limit-0 structures (n_A5_defects == 0): the test set cannot be drawn")
    if len(pool) < test_size:
        raise InputError(
            source, None, f"only {len(pool)} limit-0 structures, fewer than test_size = {test_size}"
        )
    split = np.full(len(table), "train", dtype=object)
    split[rng.choice(pool, size=test_size, replace=False)] = "test"

    rest = table[split != "test"]
    groups = sorted(rest["n_A5_defects"].unique())
    sizes = np.array([(rest["n_A5_defects"] == g).sum() for g in groups])
    n_val = _largest_remainder(val_fraction * sizes, int(round(val_fraction * len(rest))))
    for group, k in zip(groups, n_val):
        members = rest.index[rest["n_A5_defects"] == group].to_numpy()
        split[rng.permutation(members)[:k]] = "val"

    return table.assign(split=split)[SPLIT_COLUMNS]


def limit_members(splits: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The train/val rows of the ``limit`` subset."""
    return splits[(splits["split"] != "test") & (splits["n_A5_defects"] <= limit)]


def limit_sizes(splits: pd.DataFrame, limits: list[int], source: str = "splits") -> pd.DataFrame:
    """Per limit: how many train, val and test structures it has. Every limit needs training data."""
    n_test = int((splits["split"] == "test").sum())
    rows = []
    for limit in limits:
        members = limit_members(splits, limit)
        rows.append(
            {
                "limit": limit,
                "n_train": int((members["split"] == "train").sum()),
                "n_val": int((members["split"] == "val").sum()),
                "n_test": n_test,
            }
        )
    sizes = pd.DataFrame(rows, columns=["limit", "n_train", "n_val", "n_test"])
    empty = sizes[sizes["n_train"] == 0]
    if len(empty):
        raise InputError(
            source,
            f"limit {int(empty['limit'].iloc[0])}",
            f"no training structures (all {n_test} test structures come from the limit-0 pool; "
            "lower split.test_size or add limit-0 data)",
        )
    maximum = int(splits["n_A5_defects"].max())
    if maximum > limits[-1]:
        log.warning("%s: structures with up to %d A5 defects exceed the largest limit %d and train no model",
                    source, maximum, limits[-1])
    return sizes
