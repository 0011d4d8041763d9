"""Train/val/test splits and the nested limit subsets (paper §3.2–3.3).

- test: ``test_size`` structures drawn (seeded) from the limit-0 pool; the same for every limit.
- train/val: everything else, split once. The split is stratified by ``n_A5_defects`` so that
  every limit subset gets about the same validation share (a plain random split can leave the
  small low limits without any validation structure).
- limit x: the train/val rows with ``n_A5_defects <= x``. Subsets are nested by construction.

:func:`limit_sizes` also checks, before any model trains, that every limit subset holds what the
configured models need (:func:`limit_requirements`): enough rows for the classical family's
cross-validation, a train and a val row wherever Allegro trains, and structures with A5 defects
wherever Allegro's self regime pretrains.

Rows are sorted by id before drawing, so the split depends on the seed and the set of ids,
not on the order of frames in the input file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

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
        raise InputError(source, None, f"only {len(pool)} limit-0 structures, fewer than split.test_size = {test_size}")
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
    """The train/val rows of the ``limit`` subset (any table with ``split`` and ``n_A5_defects``
    columns): the one definition both model families train on."""
    return splits[(splits["split"] != "test") & (splits["n_A5_defects"] <= limit)]


def test_ids(splits: pd.DataFrame) -> list[str]:
    """The test set: ids with split ``test``, in splits.csv order (the same for every limit)."""
    return splits.loc[splits["split"] == "test", "id"].astype(str).tolist()


def limit_requirements(config: Mapping) -> dict:
    """What the configured models need of the limit subsets (rule ``limit_sizes``' params):

    - ``folds``: the classical family cross-validates over each limit's train+val rows with
      ``classical.folds`` folds (None when it trains no model);
    - ``allegro_limits``: Allegro trains on these limits and needs a train and a val row in each;
    - ``self_pretrain``: Allegro's self regime fine-tunes on limit 0 (train and val rows there)
      and pretrains on the A5-defected training rows of each of its limits above 0.
    """
    from qcrobust.config import allegro_limits

    models = list(config["allegro"]["models"])
    return {
        "folds": config["classical"]["folds"] if config["classical"]["models"] else None,
        "allegro_limits": allegro_limits(config) if models else [],
        "self_pretrain": "self" in models,
    }


def _check_requirements(splits: pd.DataFrame, sizes: pd.DataFrame, requirements: Mapping, source: str) -> None:
    """Raise an :class:`InputError` for the first limit that lacks what a configured model needs."""
    folds = requirements.get("folds")
    allegro = set(requirements.get("allegro_limits", ()))
    self_pretrain = requirements.get("self_pretrain", False) and bool(allegro)
    more = "lower split.test_size or add structures"
    if self_pretrain:
        zero = limit_members(splits, 0)["split"]
        for part, name in (("train", "training"), ("val", "validation")):
            if not (zero == part).any():
                raise InputError(
                    source,
                    "limit 0",
                    f"no {name} structure, which Allegro's self regime needs (it fine-tunes on limit 0); "
                    f"{'raise split.val_fraction, ' if part == 'val' else ''}{more} with n_A5_defects = 0",
                )
    for row in sizes.itertuples():
        limit, where = int(row.limit), f"limit {int(row.limit)}"
        rows = row.n_train + row.n_val
        if folds and rows < folds:
            raise InputError(
                source,
                where,
                f"only {rows} train+val structures, fewer than classical.folds = {folds} (the classical models "
                f"cross-validate over them); lower classical.folds, {more} with n_A5_defects <= {limit}",
            )
        if row.n_val == 0 and limit in allegro:
            raise InputError(
                source,
                where,
                f"no validation structure, which Allegro needs (allegro.limits holds {limit}); "
                f"raise split.val_fraction, {more} with n_A5_defects <= {limit}",
            )
        if self_pretrain and limit in allegro and limit > 0:
            members = limit_members(splits, limit)
            if not ((members["split"] == "train") & (members["n_A5_defects"] > 0)).any():
                raise InputError(
                    source,
                    where,
                    f"no training structure with A5 defects (0 < n_A5_defects <= {limit}) for Allegro's "
                    f"self-pretraining (allegro.models holds 'self'); drop {limit} from allegro.limits or "
                    "'self' from allegro.models, or add such structures",
                )


def limit_sizes(splits: pd.DataFrame, limits: list[int], source: str = "splits", requirements: Mapping | None = None) -> pd.DataFrame:
    """Per limit: how many train, val and test structures it has. Every limit needs training
    data, and what ``requirements`` (:func:`limit_requirements`) asks for; errors name ``source``."""
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
            f"no training structures (all {n_test} test structures come from the limit-0 pool; lower split.test_size or add limit-0 data)",
        )
    _check_requirements(splits, sizes, requirements or {}, source)
    maximum = int(splits["n_A5_defects"].max())
    if maximum > limits[-1]:
        log.warning("%s: structures with up to %d A5 defects exceed the largest limit %d and train no model", source, maximum, limits[-1])
    return sizes
