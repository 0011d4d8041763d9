"""Is the limit effect real? Retrained replicas of every model against the differences between limits (issue 14).

Config ``replicas`` trains every (system, family, model, limit) once per seed; the seed changes
the model's initialisation, data shuffling and CV folds, never the train/val/test split. This
module turns the per-seed predictions of one (system, family, model) into tables that say, for
each pair of limits, whether the models of the two limits differ more than retrained models of one
limit differ among themselves (the retraining-noise floor), and then whether the paper's findings
survive that floor. It reads nothing from disk: the rules hand it DataFrames.

Input of one (system, family, model): ``predictions[(limit, seed)] = {"test": DataFrame id,y_pred,
"inference": DataFrame id,y_pred}`` (the same seeds at every limit), the test truth ``id, y_true``
and the screening modes (:mod:`qcrobust.screening`).

Quantities (``quantity`` column), each compared between two models a and b:

- ``rmse``: the test RMSE. Between two limits: mean_j - mean_i over the seeds (eV/atom; negative:
  the larger limit predicts better); within a limit: the mean |RMSE_a - RMSE_b| over its seed pairs.
  Test: T = |mean_i - mean_j| (:func:`qcrobust.permutation.value_test`).
- ``similarity``: the SimilarityScore of the study, 1 - |RMSE_a - RMSE_b| / ȳ (paper eq. 4,
  :mod:`qcrobust.metrics`, ȳ from the test targets by the configured normalizer). It is built from
  *test* RMSEs, as in :func:`qcrobust.evaluate.summarize`: the inference set has no labels.
  Between two limits: the mean score over the n x n seed pairs; within: over the n(n-1)/2 pairs
  of one limit. Test: T = mean within-limit score - mean between-limit score, i.e.
  :func:`qcrobust.permutation.distance_test` on |RMSE_a - RMSE_b| / ȳ; ȳ only scales the distances, so
  the p-value does not depend on the normalizer (and stays defined when ȳ = 0).
- ``jaccard`` (one row per screening mode): the Jaccard index |S_a ∩ S_b| / |S_a ∪ S_b| of the
  models' screening sets of the inference set; between and within as for the score. Test:
  :func:`qcrobust.permutation.set_test` (T = mean within-limit index - mean between-limit index). Two
  empty sets (nothing selected by either model) are undefined in the screening tables; here they
  count as identical (index 1: both models make the same call, "nothing"), and every table counts
  them (``n_empty_*``, ``n_undefined_pairs``, ``note``) instead of dropping them.

The test, and why. For a pair of limits there are 2n models. Under the null hypothesis "the limit
does not matter" every model is as likely to carry either label, so the observed split of the 2n
models into the limits' two groups of n is one of C(2n, n) / 2 equally likely splits (each
unordered split once). The p-value is the share of splits whose T reaches the observed one: an
*exact* permutation test over seeds, valid for any n and any distribution (RMSEs over seeds are
neither normal nor many; Jaccard indices are bounded and tied). Its price is a floor: the
smallest p possible is 1 / (C(2n, n) / 2): 1 with 1 seed, 1/3 with 2, 1/10 with 3, 1/35 with 4,
1/126 with 5. At α (config ``verdicts.alpha``, default 0.05) a pair can be called "beyond noise" only
from 4 seeds on (3 at α = 0.1);
with fewer, the verdict is "too few seeds", never "within noise" (a test that cannot reject says
nothing about the noise). With one seed there is no within-limit pair at all: the within columns
are NaN and say so in ``note``; every other column is defined (T, p = 1, one split).

Multiple comparisons. A model with L limits has m = L(L-1)/2 pairs. ``p_value`` and ``verdict``
are per pair, unadjusted: right for one pre-specified comparison, such as (smallest, largest)
limit, which :func:`noise_summary` reports as the model's limit effect. ``p_holm`` /
``verdict_holm`` adjust across the m pairs of one (model, quantity, mode) by Holm's step-down
method (family-wise error ≤ α, no independence assumed, never less powerful than Bonferroni).
Holm's smallest adjusted p is at least m x min_p, so when m x min_p > α no pair can be beyond noise
after adjustment and ``verdict_holm`` says "too few seeds": Allegro's 3 limits (3 pairs) need 4
seeds, 12 pairs against the largest limit need 5, all 78 pairs of 13 limits need 7.

Findings (:func:`qcrobust.findings_vs_noise.finding_verdicts`) take the verdicts a step further; their docstring says when
each finding "holds". Everything is deterministic: exact enumeration, no random numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from qcrobust import metrics
from qcrobust.permutation import distance_test, holm, jaccard_distance, set_test, value_test, verdict
from qcrobust.screening import ScreeningMode

QUANTITIES = ("rmse", "similarity", "jaccard")
REPLICA_COLUMNS = ["limit", "seed", "n_test", "rmse", "mae", "r2", "bias", "normalizer_kind", "normalizer"]
SPREAD_COLUMNS = [
    "quantity",
    "mode",
    "limit",
    "n_seeds",
    "over",
    "n_values",
    "mean",
    "std",
    "min",
    "max",
    "n_selected_min",
    "n_selected_max",
    "n_empty",
    "n_undefined_pairs",
    "note",
]
NOISE_COLUMNS = [
    "quantity",
    "mode",
    "limit_i",
    "limit_j",
    "n_seeds",
    "between",
    "within_i",
    "within_j",
    "within",
    "within_min",
    "within_max",
    "statistic",
    "p_value",
    "min_p",
    "n_splits",
    "p_holm",
    "alpha",
    "verdict",
    "verdict_holm",
    "n_empty_i",
    "n_empty_j",
    "n_all_i",
    "n_all_j",
    "n_undefined_pairs",
    "note",
]
SUMMARY_COLUMNS = [
    "quantity",
    "mode",
    "n_seeds",
    "n_limits",
    "smallest_limit",
    "largest_limit",
    "between",
    "within_i",
    "within_j",
    "statistic",
    "p_value",
    "min_p",
    "n_splits",
    "alpha",
    "limit_effect",
    "n_pairs",
    "n_beyond",
    "share_beyond",
    "n_beyond_holm",
    "share_beyond_holm",
    "statement",
]
KEY = ("system", "family", "model")


# --- collecting one model's replicas ---


def _aligned(table: pd.DataFrame, ids: Sequence[str] | None, where: str) -> pd.DataFrame:
    """``id, y_pred`` with string ids, finite predictions, in the order of ``ids`` when given."""
    missing_columns = {"id", "y_pred"} - set(table.columns)
    if missing_columns:
        raise ValueError(f"{where}: no column(s) {sorted(missing_columns)}")
    table = pd.DataFrame({"id": table["id"].astype(str), "y_pred": pd.to_numeric(table["y_pred"], errors="coerce").astype(float)})
    if table["id"].duplicated().any():
        raise ValueError(f"{where}: duplicate id {table['id'][table['id'].duplicated()].iloc[0]!r}")
    if not np.all(np.isfinite(table["y_pred"].to_numpy())):
        raise ValueError(f"{where}: y_pred is not finite for id {table['id'][~np.isfinite(table['y_pred'])].iloc[0]!r}")
    if ids is None:
        return table.reset_index(drop=True)
    expected = pd.Index(ids)
    if len(table) != len(expected) or len(expected.difference(table["id"])):
        raise ValueError(f"{where}: ids differ from the expected {len(expected)} ids")
    return table.set_index("id").loc[expected].reset_index()


class _Replicas:
    """One model's per-seed test RMSEs and screening sets on the compared limits."""

    def __init__(
        self,
        predictions: Mapping[tuple[int, int], Mapping[str, pd.DataFrame]],
        test_truth: pd.DataFrame,
        modes: Sequence[ScreeningMode],
        limits: Sequence[int],
        normalizer: str,
        warn_below: float,
        source: str,
    ):
        self.limits = sorted({int(x) for x in limits})
        if not self.limits:
            raise ValueError(f"{source}: no limits to compare")
        seeds_of: dict[int, set[int]] = {}
        for limit, seed in predictions:
            seeds_of.setdefault(int(limit), set()).add(int(seed))
        missing = [x for x in self.limits if x not in seeds_of]
        if missing:
            raise ValueError(f"{source}: no predictions at limit(s) {missing}")
        self.seeds = sorted(seeds_of[self.limits[0]])
        for limit in self.limits:
            if sorted(seeds_of[limit]) != self.seeds:
                raise ValueError(
                    f"{source}: limit {limit} has seeds {sorted(seeds_of[limit])}, limit {self.limits[0]} has {self.seeds}: "
                    "every limit needs the same seeds"
                )
        self.modes = list(modes)
        y_test = test_truth["y_true"].to_numpy(dtype=np.float64)
        test_ids = list(test_truth["id"].astype(str))
        self.normalizer_kind = normalizer
        self.normalizer = metrics.similarity_normalizer(y_test, normalizer, warn_below=warn_below, source=source or "test set")
        rows, self.rmse, self.selected = [], {}, {mode.name: {} for mode in self.modes}
        inference_ids = None
        self.n_inference = 0
        for limit in self.limits:
            values = []
            for seed in self.seeds:
                files = predictions[(limit, seed)]
                where = f"{source} limit {limit} seed {seed}".strip()
                test = _aligned(files["test"], test_ids, f"{where} test")
                scores = metrics.regression_scores(y_test, test["y_pred"].to_numpy())
                values.append(scores["rmse"])
                rows.append(
                    {
                        "limit": limit,
                        "seed": seed,
                        "n_test": len(y_test),
                        **scores,
                        "normalizer_kind": normalizer,
                        "normalizer": self.normalizer,
                    }
                )
                if not self.modes:  # replica_scores: the test set only
                    continue
                inference = _aligned(files["inference"], inference_ids, f"{where} inference")
                if inference_ids is None:
                    inference_ids, self.n_inference = list(inference["id"]), len(inference)
                for mode in self.modes:
                    self.selected[mode.name].setdefault(limit, []).append(mode.select(inference))
            self.rmse[limit] = np.array(values)
        self.scores = pd.DataFrame(rows, columns=REPLICA_COLUMNS)

    @property
    def n(self) -> int:
        return len(self.seeds)


def _keyed(table: pd.DataFrame, key: Mapping[str, str] | None) -> pd.DataFrame:
    if not key:
        return table
    front = pd.DataFrame({k: [v] * len(table) for k, v in key.items()}, index=table.index)
    return pd.concat([front, table], axis=1)


def replica_scores(
    predictions: Mapping[tuple[int, int], Mapping[str, pd.DataFrame]],
    test_truth: pd.DataFrame,
    limits: Sequence[int],
    *,
    normalizer: str = "std",
    warn_below: float = 0.0,
    key: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per (limit, seed): ``limit, seed, n_test, rmse, mae, r2, bias, normalizer_kind,
    normalizer`` (ȳ of the SimilarityScore), after ``key`` columns (e.g. system, family, model)
    when given; only the ``"test"`` predictions are read. :func:`qcrobust.findings_vs_noise.finding_verdicts` compares models with it."""
    replicas = _Replicas(predictions, test_truth, (), limits, normalizer, warn_below, _source(key))
    return _keyed(replicas.scores, key)


def _source(key: Mapping[str, str] | None) -> str:
    return "/".join(str(v) for v in key.values()) if key else ""


# --- the seed spread at each limit ---


def _pairs(values: Sequence, distance) -> list[float]:
    return [distance(a, b) for a, b in itertools.combinations(values, 2)]


def seed_spread(
    predictions: Mapping[tuple[int, int], Mapping[str, pd.DataFrame]],
    test_truth: pd.DataFrame,
    modes: Sequence[ScreeningMode],
    limits: Sequence[int],
    *,
    normalizer: str = "std",
    warn_below: float = 0.0,
    key: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """What retraining alone does at each limit: one row per (quantity, mode, limit).

    ``over`` says what ``mean, std, min, max`` (std: ddof 1, NaN for one value) are taken over,
    ``n_values`` how many: ``rmse`` over the seeds' test RMSEs (eV/atom); ``similarity`` and
    ``jaccard`` over the between-seed values of the n(n-1)/2 seed pairs (NaN with one seed).
    ``jaccard`` rows also give the size range of the screening sets (``n_selected_min/max``), the
    seeds that select nothing (``n_empty``) and the pairs of two empty sets (``n_undefined_pairs``,
    counted as index 1). ``mode`` is "" for the mode-free rmse and similarity rows.
    """
    r = _Replicas(predictions, test_truth, modes, limits, normalizer, warn_below, _source(key))
    rows = []

    def stats(values: Sequence[float]) -> dict:
        v = np.asarray(values, dtype=np.float64)
        if not v.size:
            return {"n_values": 0, "mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan}
        return {
            "n_values": int(v.size),
            "mean": float(v.mean()),
            "std": float(v.std(ddof=1)) if v.size > 1 else math.nan,
            "min": float(v.min()),
            "max": float(v.max()),
        }

    one_seed = "one seed: no seed pair, so no between-seed value" if r.n == 1 else ""
    blank = {"n_selected_min": math.nan, "n_selected_max": math.nan, "n_empty": 0, "n_undefined_pairs": 0}
    for limit in r.limits:
        rmse = r.rmse[limit]
        rows.append(
            {
                "quantity": "rmse",
                "mode": "",
                "limit": limit,
                "n_seeds": r.n,
                "over": "seeds",
                **stats(rmse),
                **blank,
                "note": "one seed: no spread" if r.n == 1 else "",
            }
        )
        gaps = _pairs(rmse, lambda a, b: abs(a - b))
        scores = [1.0 - g / r.normalizer for g in gaps] if r.normalizer > 0 else [math.nan] * len(gaps)
        note = [one_seed] if one_seed else []
        if r.normalizer <= 0:
            note.append("normalizer ȳ = 0: SimilarityScore undefined")
        rows.append(
            {
                "quantity": "similarity",
                "mode": "",
                "limit": limit,
                "n_seeds": r.n,
                "over": "seed pairs",
                **stats(scores),
                **blank,
                "note": "; ".join(note),
            }
        )
    for mode in r.modes:
        for limit in r.limits:
            sets = r.selected[mode.name][limit]
            empty = sum(1 for s in sets if not s)
            undefined = sum(1 for a, b in itertools.combinations(sets, 2) if not a and not b)
            note = [one_seed] if one_seed else []
            if empty:
                note.append(f"{empty} of {r.n} seeds select nothing; {undefined} pairs of two empty sets counted as identical (index 1)")
            rows.append(
                {
                    "quantity": "jaccard",
                    "mode": mode.name,
                    "limit": limit,
                    "n_seeds": r.n,
                    "over": "seed pairs",
                    **stats(_pairs(sets, lambda a, b: 1.0 - jaccard_distance(a, b))),
                    "n_selected_min": min(len(s) for s in sets),
                    "n_selected_max": max(len(s) for s in sets),
                    "n_empty": empty,
                    "n_undefined_pairs": undefined,
                    "note": "; ".join(note),
                }
            )
    return _keyed(pd.DataFrame(rows, columns=SPREAD_COLUMNS), key)


# --- limit pairs against the noise floor ---


def _few_seeds_note(n: int, min_p: float, alpha: float) -> list[str]:
    if n == 1:
        return ["one seed: no within-limit pair, so no retraining noise to compare with (within_* NaN, p = 1)"]
    if min_p > alpha:
        return [f"{n} seeds: the smallest possible p is {min_p:.3g} > alpha {alpha:g}"]
    return []


def _pair_rows(r: _Replicas, i: int, j: int, alpha: float) -> list[dict]:
    n = r.n
    base = {
        "limit_i": i,
        "limit_j": j,
        "n_seeds": n,
        "alpha": alpha,
        "n_empty_i": 0,
        "n_empty_j": 0,
        "n_all_i": 0,
        "n_all_j": 0,
        "n_undefined_pairs": 0,
    }
    rows = []
    gaps = np.abs(np.subtract.outer(np.r_[r.rmse[i], r.rmse[j]], np.r_[r.rmse[i], r.rmse[j]]))
    spread = distance_test(gaps)  # within-limit |ΔRMSE| and the similarity test
    test = value_test(r.rmse[i], r.rmse[j])
    rows.append(
        base
        | {
            "quantity": "rmse",
            "mode": "",
            "between": test["difference"],
            "within_i": spread["within_i"],
            "within_j": spread["within_j"],
            "within": spread["within"],
            "within_min": spread["within_min"],
            "within_max": spread["within_max"],
            "statistic": test["statistic"],
            "p_value": test["p_value"],
            "min_p": test["min_p"],
            "n_splits": test["n_splits"],
            "note": _few_seeds_note(n, test["min_p"], alpha),
        }
    )
    y = r.normalizer
    note = _few_seeds_note(n, spread["min_p"], alpha)
    if y > 0:
        score = {k: 1.0 - spread[k] / y for k in ("between", "within_i", "within_j", "within")}
        score |= {
            "within_min": 1.0 - spread["within_max"] / y,
            "within_max": 1.0 - spread["within_min"] / y,
            "statistic": spread["statistic"] / y,
        }
    else:
        score = dict.fromkeys(("between", "within_i", "within_j", "within", "within_min", "within_max", "statistic"), math.nan)
        note.append("normalizer ȳ = 0: SimilarityScores undefined; p from |ΔRMSE|, which ȳ only scales")
    rows.append(
        base
        | score
        | {
            "quantity": "similarity",
            "mode": "",
            "p_value": spread["p_value"],
            "min_p": spread["min_p"],
            "n_splits": spread["n_splits"],
            "note": note,
        }
    )
    for mode in r.modes:
        sets_i, sets_j = r.selected[mode.name][i], r.selected[mode.name][j]
        test = set_test(sets_i, sets_j)
        everything = sets_i + sets_j
        undefined = sum(1 for a, b in itertools.combinations(everything, 2) if not a and not b)
        empty_i, empty_j = sum(1 for s in sets_i if not s), sum(1 for s in sets_j if not s)
        # screens that select the whole inference set (a window above every prediction)
        all_i, all_j = (sum(1 for s in sets if r.n_inference and len(s) == r.n_inference) for sets in (sets_i, sets_j))
        note = _few_seeds_note(n, test["min_p"], alpha)
        if all_i == all_j == n:
            note.append(f"every seed selects all {r.n_inference} inference structures at limit {i} and {j}")
        if empty_i == empty_j == n:
            note.append(f"no seed selects anything at limit {i} or {j}: every index is 1 by convention")
        elif undefined:
            pairs = n * n + n * (n - 1)
            note.append(
                f"{empty_i} of {n} screening sets empty at limit {i}, {empty_j} at limit {j}: {undefined} of {pairs} pairs "
                "of two empty sets counted as identical (index 1; undefined in the screening tables)"
            )
        elif empty_i or empty_j:
            note.append(f"{empty_i} of {n} screening sets empty at limit {i}, {empty_j} at limit {j} (index 0 against a non-empty set)")
        rows.append(
            base
            | {
                "quantity": "jaccard",
                "mode": mode.name,
                "between": 1.0 - test["between"],
                "within_i": 1.0 - test["within_i"],
                "within_j": 1.0 - test["within_j"],
                "within": 1.0 - test["within"],
                "within_min": 1.0 - test["within_max"],
                "within_max": 1.0 - test["within_min"],
                "statistic": test["statistic"],
                "p_value": test["p_value"],
                "min_p": test["min_p"],
                "n_splits": test["n_splits"],
                "n_empty_i": empty_i,
                "n_empty_j": empty_j,
                "n_all_i": all_i,
                "n_all_j": all_j,
                "n_undefined_pairs": undefined,
                "note": note,
            }
        )
    return rows


def noise_table(
    predictions: Mapping[tuple[int, int], Mapping[str, pd.DataFrame]],
    test_truth: pd.DataFrame,
    modes: Sequence[ScreeningMode],
    limits: Sequence[int],
    *,
    alpha: float,
    pairs: Sequence[Sequence[int]] | None = None,
    normalizer: str = "std",
    warn_below: float = 0.0,
    key: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Every pair of limits (i < j) of one model against its retraining noise, or the ``pairs``
    among them (config ``verdicts.pairs``; pairs of other limits are skipped): one row per
    (quantity, mode, limit_i, limit_j), columns ``NOISE_COLUMNS`` after the ``key`` columns.
    ``alpha``: config ``verdicts.alpha``.

    ``predictions[(limit, seed)]``: ``{"test": id,y_pred, "inference": id,y_pred}`` DataFrames,
    the same seeds at every limit of ``limits`` (other limits are ignored); ``test_truth``:
    ``id, y_true``; ``modes``: the screening modes (jaccard rows, one block per mode; rmse and
    similarity rows have ``mode`` ""). ``normalizer``: ȳ of the SimilarityScore (``std``,
    ``mean``, ``mean_abs``). Columns (module docstring for the quantities):

    - ``between``: the between-limit value, mean over the n x n seed pairs (rmse: mean_j - mean_i);
    - ``within_i`` / ``within_j``: the mean between-seed value at each limit, ``within`` both
      pooled, ``within_min`` / ``within_max`` the range over all within-limit seed pairs (NaN: one seed);
    - ``statistic`` (T), ``p_value`` (exact permutation test), ``min_p`` (the smallest p n seeds
      allow), ``n_splits`` (distinct splits of the 2n models), ``p_holm`` (Holm across the pairs
      of the same quantity and mode), ``alpha``;
    - ``verdict`` / ``verdict_holm``: "beyond noise", "within noise" or "too few seeds";
    - ``n_empty_i`` / ``n_empty_j`` (seeds whose screening set is empty), ``n_undefined_pairs``
      (pairs of two empty sets, counted as identical), ``note`` (every undefined or conventional value).
    """
    r = _Replicas(predictions, test_truth, modes, limits, normalizer, warn_below, _source(key))
    wanted = None if pairs is None else {(int(i), int(j)) for i, j in pairs}
    compared = [(i, j) for i, j in itertools.combinations(r.limits, 2) if wanted is None or (i, j) in wanted]
    rows = [row for i, j in compared for row in _pair_rows(r, i, j, alpha)]
    table = pd.DataFrame(rows, columns=[c for c in NOISE_COLUMNS if c not in ("p_holm", "verdict", "verdict_holm")] + ["p_holm"])
    if len(table):
        table["p_holm"] = table.groupby(["quantity", "mode"], sort=False)["p_value"].transform(lambda p: holm(p.to_numpy()))
        m = table.groupby(["quantity", "mode"], sort=False)["p_value"].transform("size")
        table["verdict"] = [verdict(p, q, alpha) for p, q in zip(table["p_value"], table["min_p"])]
        table["verdict_holm"] = [verdict(p, min(1.0, q * k), alpha) for p, q, k in zip(table["p_holm"], table["min_p"], m)]
        order = {name: k for k, name in enumerate(QUANTITIES)}
        table = table.sort_values(
            ["quantity", "mode", "limit_i", "limit_j"], key=lambda c: c.map(order) if c.name == "quantity" else c, kind="stable"
        ).reset_index(drop=True)
    else:
        table["verdict"], table["verdict_holm"] = pd.Series(dtype=str), pd.Series(dtype=str)
    table["note"] = ["; ".join(n) for n in table["note"]] if len(table) else pd.Series(dtype=str)
    return _keyed(table[NOISE_COLUMNS], key)


# --- per model: does the limit effect exceed retraining noise? ---


def format_number(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(float(value)) else f"{float(value):.{digits}g}"


def text_columns(table: pd.DataFrame, columns: Iterable[str] = ("mode", "note")) -> pd.DataFrame:
    """A table read back from CSV: empty strings come back as NaN."""
    table = table.copy()
    for column in columns:
        if column in table:
            table[column] = table[column].fillna("").astype(str)
    return table


def noise_summary(noise: pd.DataFrame) -> pd.DataFrame:
    """Per (model, quantity, mode) of a :func:`noise_table` (one model's, or many concatenated
    with their ``system, family, model`` columns): does the limit effect exceed retraining noise?

    The model's limit effect is the pre-specified pair (smallest, largest limit), tested alone:
    its ``between``, ``within_i`` / ``within_j``, ``statistic``, ``p_value`` and ``limit_effect``
    (its raw verdict). Over all ``n_pairs`` pairs: ``n_beyond`` / ``share_beyond`` by raw p and
    ``n_beyond_holm`` / ``share_beyond_holm`` after Holm. ``statement``: one sentence with the numbers.
    """
    noise = text_columns(noise)
    keys = [k for k in KEY if k in noise.columns]
    rows = []
    for group_key, part in noise.groupby([*keys, "quantity", "mode"], sort=False):
        values = dict(zip([*keys, "quantity", "mode"], group_key))
        low, high = int(part["limit_i"].min()), int(part["limit_j"].max())
        extreme = part[(part["limit_i"] == low) & (part["limit_j"] == high)].iloc[0]
        beyond = int((part["verdict"] == "beyond noise").sum())
        beyond_holm = int((part["verdict_holm"] == "beyond noise").sum())
        limits = sorted(set(part["limit_i"].astype(int)) | set(part["limit_j"].astype(int)))
        row = values | {
            "n_seeds": int(extreme["n_seeds"]),
            "n_limits": len(limits),
            "smallest_limit": low,
            "largest_limit": high,
            **{c: float(extreme[c]) for c in ("between", "within_i", "within_j", "statistic", "p_value", "min_p", "alpha")},
            "n_splits": int(extreme["n_splits"]),
            "limit_effect": str(extreme["verdict"]),
            "n_pairs": len(part),
            "n_beyond": beyond,
            "share_beyond": beyond / len(part),
            "n_beyond_holm": beyond_holm,
            "share_beyond_holm": beyond_holm / len(part),
        }
        row["statement"] = _statement(row)
        rows.append(row)
    return pd.DataFrame(rows, columns=keys + SUMMARY_COLUMNS)


def _statement(row: Mapping) -> str:
    q, low, high = row["quantity"], row["smallest_limit"], row["largest_limit"]
    if q == "rmse":
        what = (
            f"limit {low} -> {high} changes the mean test RMSE by {format_number(row['between'])} eV/atom; retraining alone by "
            f"{format_number(row['within_i'])} (mean |Δ| between seeds at {low}) and {format_number(row['within_j'])} (at {high}); "
            "T = |mean RMSE difference|"
        )
    else:
        name = "SimilarityScore" if q == "similarity" else f"Jaccard [{row['mode']}]"
        what = (
            f"{name} between limits {low} and {high} {format_number(row['between'])}, between seeds {format_number(row['within_i'])} at {low} "
            f"and {format_number(row['within_j'])} at {high}; T = mean within - mean between"
        )
    return (
        f"{q}: {what} = {format_number(row['statistic'])}, p = {format_number(row['p_value'])} ({row['n_seeds']} seeds, {row['n_splits']} splits, "
        f"alpha {row['alpha']:g}): {row['limit_effect']}; beyond noise at {row['n_beyond']} of {row['n_pairs']} limit pairs "
        f"({row['n_beyond_holm']} after Holm)."
    )


# --- the paper's findings against the noise floor ---
