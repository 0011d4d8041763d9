"""Robust candidates: which inference structures survive a change of model, training limit and seed.

Every screen -- one (family, model, limit, seed) model under one screening mode -- selects a set
of inference structures. Per system and mode, :func:`candidate_table` gives every inference
structure the share of screens that select it (in all and per family), the mean and spread of
its predicted target over every model, and its audit label where it has one, ranked by the
share (then by the mean prediction, then the id) or, by config, by the mean prediction or its
lower confidence bound; the share carries a bootstrap interval over the models.
:func:`ranking_precision` measures on the audit set which ranking finds more truly selected
structures first. Inference structures the labeled dataset
already holds were left out of the screens at ingest; they are listed after the ranked ones with
their known label (``status`` ``labeled``). :func:`consensus_precision` asks, on the audit set,
whether structures selected by most screens are right more often than those of a single screen,
with intervals, and says so only where the intervals separate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from qcrobust.metrics import wilson_interval
from qcrobust.screening import ScreeningMode

# (family, model, limit, seed)
ScreenKey = tuple[str, str, int, int]
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def _matrix(predictions: Mapping[ScreenKey, pd.DataFrame]) -> tuple[list[ScreenKey], list[str], np.ndarray]:
    """Prediction matrix (screens x ids), ids sorted; every table must hold the same ids."""
    keys = list(predictions)
    ids = sorted(str(i) for i in predictions[keys[0]]["id"])
    rows = []
    for key in keys:
        table = predictions[key].set_index(predictions[key]["id"].astype(str))["y_pred"]
        if len(table) != len(ids) or set(table.index) != set(ids):
            raise ValueError(f"screen {key}: its inference ids differ from screen {keys[0]}'s")
        rows.append(table.loc[ids].to_numpy(dtype=np.float64))
    return keys, ids, np.vstack(rows)


def _selections(values: np.ndarray, mode: ScreeningMode) -> np.ndarray:
    return np.vstack([mode.mask(row) for row in values])


RANKINGS = ("share", "mean", "lcb")
RANKING_PRECISION_COLUMNS = ["mode", "ranking", "k", "n_audited", "n_truly", "hits", "precision", "ci_low", "ci_high"]


def _share_interval(keys: Sequence[ScreenKey], selected: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """95 % interval of each structure's selection share by a bootstrap over the models: a
    (family, model) with all its limits and seeds is one unit (its screens are not independent
    draws), resampled with replacement ``BOOTSTRAP_RESAMPLES`` times, seed ``BOOTSTRAP_SEED``."""
    models = sorted({(key[0], key[1]) for key in keys})  # sorted: the resamples never depend on input order
    unit = np.array([models.index((key[0], key[1])) for key in keys])
    counts = np.vstack([selected[unit == m].sum(axis=0) for m in range(len(models))])
    sizes = np.bincount(unit, minlength=len(models)).astype(np.float64)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    weights = rng.multinomial(len(models), [1.0 / len(models)] * len(models), size=BOOTSTRAP_RESAMPLES).astype(np.float64)
    shares = (weights @ counts) / (weights @ sizes)[:, None]
    tail = 100 * (1 - confidence) / 2
    return np.percentile(shares, tail, axis=0), np.percentile(shares, 100 - tail, axis=0)


def _ranked(table: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    """``table`` in the order of ``rank_by`` (:data:`RANKINGS`); ties by id, never by row order."""
    columns, ascending = {
        "share": (["share_selected", "y_pred_mean", "id"], [False, True, True]),
        "mean": (["y_pred_mean", "id"], [True, True]),
        "lcb": (["y_pred_lcb", "id"], [True, True]),
    }[rank_by]
    return table.sort_values(columns, ascending=ascending, kind="stable")


def candidate_table(
    predictions: Mapping[ScreenKey, pd.DataFrame],
    modes: Sequence[ScreeningMode],
    audit: pd.DataFrame | None = None,
    known: pd.DataFrame | None = None,
    equivalent_ids: Mapping[str, str] | None = None,
    *,
    rank_by: str = "share",
    lcb_k: float = 1.0,
) -> pd.DataFrame:
    """One row per (mode, inference structure), ranked within each mode (``rank`` 1 = first).

    ``rank_by`` (config ``candidates.rank_by``): ``share`` (the share of screens selecting it,
    then the mean prediction), ``mean`` (the mean prediction) or ``lcb`` (``y_pred_lcb`` = mean -
    ``lcb_k`` x spread: the optimistic bound, a structure whose models disagree gets the benefit of
    the doubt); ties by id.

    Columns: ``mode, rank, id, status`` (``screened``), ``share_selected`` (of all screens) with
    ``share_ci_low`` / ``share_ci_high`` (:func:`_share_interval`; ``ci_method`` says how),
    ``share_{family}`` per family, ``share_balanced`` (the mean of the family shares: each family
    weighs the same), ``n_screens``, ``y_pred_mean``, ``y_pred_sd`` (over all models, ddof 0),
    ``y_pred_lcb``, ``y_pred_min``, ``y_pred_max``, ``equivalent_ids`` (other input ids of the same structure,
    merged into this row at ingest), and with an audit set ``y_true`` (NaN where the structure is
    not in it) and ``truly_selected`` (the mode applied to the audit's true labels; empty where
    not audited). ``known`` (``id, known_id, known_split, y_known``): inference structures the
    labeled dataset holds, appended per mode with ``status`` ``labeled``, no rank and no shares,
    ``truly_selected`` from their known label for threshold and window modes.
    """
    if rank_by not in RANKINGS:
        raise ValueError(f"rank_by {rank_by!r}: one of {RANKINGS}")
    keys, ids, values = _matrix(predictions)
    families = list(dict.fromkeys(key[0] for key in keys))
    n_models = len({(key[0], key[1]) for key in keys})
    # what does not depend on the mode: the predictions' statistics and the audit labels
    common = pd.DataFrame(
        {
            "n_screens": len(keys),
            "y_pred_mean": values.mean(axis=0),
            "y_pred_sd": values.std(axis=0),
            "y_pred_lcb": values.mean(axis=0) - lcb_k * values.std(axis=0),
            "y_pred_min": values.min(axis=0),
            "y_pred_max": values.max(axis=0),
            "equivalent_ids": [(equivalent_ids or {}).get(i, "") for i in ids],
        }
    )
    if audit is not None:
        audit_ids = audit["id"].astype(str).tolist()
        labels = dict(zip(audit_ids, audit["y_true"].astype(float)))
        common["y_true"] = [labels.get(i, math.nan) for i in ids]
    tables = []
    for mode in modes:
        selected = _selections(values, mode)
        low, high = _share_interval(keys, selected)
        table = pd.DataFrame(
            {
                "mode": mode.name,
                "id": ids,
                "status": "screened",
                "share_selected": selected.mean(axis=0),
                "share_ci_low": low,
                "share_ci_high": high,
                "ci_method": f"bootstrap over {n_models} models, {BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}, 95 %",
            }
        )
        for family in families:
            rows = [k for k, key in enumerate(keys) if key[0] == family]
            table[f"share_{family}"] = selected[rows].mean(axis=0)
        # every family counts once, however many screens it has (52 classical vs 9 Allegro by default)
        table["share_balanced"] = table[[f"share_{family}" for family in families]].mean(axis=1)
        table = pd.concat([table, common], axis=1)
        if audit is not None:
            truth = dict(zip(audit_ids, mode.mask(audit["y_true"].to_numpy())))
            table["truly_selected"] = [("yes" if truth[i] else "no") if i in truth else "" for i in ids]
        table = _ranked(table, rank_by)
        table.insert(1, "rank", pd.array(np.arange(1, len(table) + 1), dtype="Int64"))
        if known is not None and len(known):
            table = pd.concat([table, _known_rows(known, mode, audit is not None)], ignore_index=True)
        tables.append(table)
    out = pd.concat(tables, ignore_index=True)
    for column in ("known_id", "known_split"):
        out[column] = out[column].fillna("") if column in out else ""
    if "y_known" not in out:
        out["y_known"] = math.nan
    return out


def _known_rows(known: pd.DataFrame, mode: ScreeningMode, audited: bool) -> pd.DataFrame:
    """The labeled structures of one mode: their known label decides ``truly_selected`` where the
    mode is a fixed rule (a rank-based mode has no meaning outside the set it ranks)."""
    known = known.sort_values("id", kind="stable")
    rows = pd.DataFrame(
        {
            "mode": mode.name,
            "rank": pd.array([pd.NA] * len(known), dtype="Int64"),
            "id": known["id"].to_numpy(),
            "status": "labeled",
            "known_id": known["known_id"].to_numpy(),
            "known_split": known["known_split"].to_numpy(),
            "y_known": known["y_known"].to_numpy(dtype=np.float64),
        }
    )
    if audited:
        rows["truly_selected"] = "" if mode.kind == "top" else np.where(rows["y_known"] < mode.value, "yes", "no")
    return rows


def consensus_precision(
    predictions: Mapping[ScreenKey, pd.DataFrame],
    modes: Sequence[ScreeningMode],
    audit: pd.DataFrame,
    levels: Sequence[float] = (0.5, 0.9),
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Per mode, on the audited inference structures: the precision of the consensus (structures
    selected by at least a share ``level`` of the screens) against that of a single screen.

    A screen selects from the whole inference set; its precision here is over the audited
    structures it selects. A single screen's precision is given two ways: the mean over screens
    (each screen weighs the same; screens that select no audited structure are counted in
    ``n_screens_none`` and left out of the mean) and pooled (all screens' selections together,
    which weights the screens that select more). Their 95 % intervals are percentile bootstrap
    intervals over the audited structures (``resamples``, ``seed``: the screens stay fixed, the
    audit sample is what varies); a consensus precision's is Wilson's. ``consensus{L}_verdict``
    calls the consensus better or worse than a single screen (its mean) only where the two
    intervals do not overlap, "no difference beyond the intervals" otherwise.
    """
    keys, ids, values = _matrix(predictions)
    position = {i: k for k, i in enumerate(ids)}
    audited = audit[audit["id"].astype(str).isin(position)]
    columns = [position[str(i)] for i in audited["id"]]
    rng = np.random.default_rng(seed)
    # each resample as the multiplicity of every audited structure: counts become matrix products
    draws = rng.integers(0, len(columns), size=(resamples, len(columns))) if len(columns) else np.zeros((resamples, 0), dtype=int)
    weights = np.stack([np.bincount(d, minlength=len(columns)) for d in draws]) if len(columns) else np.zeros((resamples, 0))
    rows = []
    for mode in modes:
        truth = mode.mask(audited["y_true"].to_numpy(dtype=np.float64))
        chosen = _selections(values, mode)[:, columns].astype(np.int64)
        hits = chosen * truth
        row = {
            "mode": mode.name,
            "n_audited": len(columns),
            "n_truly_selected": int(truth.sum()),
            "n_screens": len(keys),
            "n_screens_none": int((chosen.sum(axis=1) == 0).sum()),
        }
        single = _single_screen(chosen.sum(axis=1), hits.sum(axis=1))
        boot = [_single_screen(chosen @ w, hits @ w) for w in weights]
        for name in ("mean", "pooled"):
            estimates = np.array([b[name] for b in boot])
            estimates = estimates[np.isfinite(estimates)]
            low, high = np.percentile(estimates, [2.5, 97.5]) if len(estimates) else (math.nan, math.nan)
            row |= {
                f"single_screen_precision_{name}": single[name],
                f"single_screen_precision_{name}_ci_low": float(low),
                f"single_screen_precision_{name}_ci_high": float(high),
            }
        row["single_screen_selected_mean"] = float(chosen.sum(axis=1).mean())
        share = chosen.mean(axis=0)
        for level in levels:
            name = f"consensus{int(100 * level)}"
            picked = share >= level
            right = int(truth[picked].sum())
            low, high = wilson_interval([right], [int(picked.sum())])
            precision = right / picked.sum() if picked.any() else math.nan
            row |= {
                f"{name}_selected": int(picked.sum()),
                f"{name}_precision": precision,
                f"{name}_ci_low": float(low[0]),
                f"{name}_ci_high": float(high[0]),
                f"{name}_verdict": _verdict(
                    (float(low[0]), float(high[0])),
                    (row["single_screen_precision_mean_ci_low"], row["single_screen_precision_mean_ci_high"]),
                ),
            }
        rows.append(row | {"bootstrap_resamples": resamples, "bootstrap_seed": seed})
    return pd.DataFrame(rows)


def _single_screen(selected: np.ndarray, right: np.ndarray) -> dict[str, float]:
    """Mean over screens (of those that select something) and pooled precision."""
    some = selected > 0
    return {
        "mean": float(np.mean(right[some] / selected[some])) if some.any() else math.nan,
        "pooled": float(right.sum() / selected.sum()) if selected.sum() else math.nan,
    }


def _verdict(consensus: tuple[float, float], single: tuple[float, float]) -> str:
    if any(math.isnan(v) for v in (*consensus, *single)):
        return "undefined (nothing selected)"
    if consensus[0] > single[1]:
        return "consensus better"
    if consensus[1] < single[0]:
        return "consensus worse"
    return "no difference beyond the intervals"


def known_structures(equivalents: pd.DataFrame, targets: pd.DataFrame, splits: pd.DataFrame, target: str) -> pd.DataFrame:
    """``id, known_id, known_split, y_known``: the inference structures that the labeled dataset
    holds (rows ``labeled`` of the inference equivalents table), with the dataset's label."""
    labeled = equivalents[equivalents["relation"] == "labeled"]
    label = targets.set_index(targets["id"].astype(str))[target]
    split = splits.set_index(splits["id"].astype(str))["split"]
    known_id = labeled["equivalent_id"].astype(str)
    return pd.DataFrame(
        {
            "id": labeled["id"].astype(str).to_numpy(),
            "known_id": known_id.to_numpy(),
            "known_split": known_id.map(split).fillna("").to_numpy(),
            "y_known": known_id.map(label).to_numpy(dtype=np.float64),
        }
    )


def merged_ids(equivalents: pd.DataFrame) -> dict[str, str]:
    """Kept inference id -> the other input ids merged into it at ingest ("a;b")."""
    duplicates = equivalents[equivalents["relation"] == "duplicate"]
    return {kept: ";".join(sorted(group["id"].astype(str))) for kept, group in duplicates.groupby("equivalent_id")}


def audit_on_kept_ids(audit: pd.DataFrame, equivalents: pd.DataFrame) -> pd.DataFrame:
    """The audit labels keyed by the kept inference ids: an audited structure given under the id
    of a duplicate that ingest merged counts for the kept one."""
    duplicate = equivalents[equivalents["relation"] == "duplicate"]
    kept = dict(zip(duplicate["id"].astype(str), duplicate["equivalent_id"].astype(str)))
    return audit.assign(id=audit["id"].astype(str).map(lambda i: kept.get(i, i))).drop_duplicates("id")


def ranking_precision(table: pd.DataFrame, k: int, lcb_k: float = 1.0) -> pd.DataFrame:
    """Which ranking finds more truly selected structures first, on the audit set: per mode, the
    audited screened rows of a :func:`candidate_table` ordered by each of :data:`RANKINGS`
    (``lcb`` with ``lcb_k``), and the precision of the first ``k`` (``truly_selected`` yes) with
    its 95 % Wilson interval. Columns :data:`RANKING_PRECISION_COLUMNS`; no rows without an audit set."""
    rows = []
    if "y_true" not in table:
        return pd.DataFrame(rows, columns=RANKING_PRECISION_COLUMNS)
    audited = table[(table["status"] == "screened") & table["y_true"].notna()]
    for mode, part in audited.groupby("mode", sort=False):
        part = part.assign(y_pred_lcb=part["y_pred_mean"] - lcb_k * part["y_pred_sd"])
        for ranking in RANKINGS:
            first = _ranked(part, ranking).head(k)
            hits = int((first["truly_selected"] == "yes").sum())
            low, high = wilson_interval([hits], [len(first)])
            rows.append(
                {
                    "mode": mode,
                    "ranking": ranking,
                    "k": len(first),
                    "n_audited": len(part),
                    "n_truly": int((part["truly_selected"] == "yes").sum()),
                    "hits": hits,
                    "precision": hits / len(first) if len(first) else math.nan,
                    "ci_low": float(low[0]),
                    "ci_high": float(high[0]),
                }
            )
    return pd.DataFrame(rows, columns=RANKING_PRECISION_COLUMNS)
