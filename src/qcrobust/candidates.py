"""Robust candidates: which inference structures survive a change of model, training limit and seed.

Every screen -- one (family, model, limit, seed) model under one screening mode -- selects a set
of inference structures. Per system and mode, :func:`candidate_table` gives every inference
structure the share of screens that select it (in all and per family), the mean and spread of
its predicted target over every model, and its audit label where it has one, ranked by the
share (then by the mean prediction). :func:`consensus_precision` asks, on the audit set, whether
structures selected by most screens are right more often than those of a single screen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from qcrobust.screening import ScreeningMode

# (family, model, limit, seed)
ScreenKey = tuple[str, str, int, int]


def _matrix(predictions: Mapping[ScreenKey, pd.DataFrame]) -> tuple[list[ScreenKey], list[str], np.ndarray]:
    """Prediction matrix (screens x ids), ids in the first table's order; every table must hold the same ids."""
    keys = list(predictions)
    ids = [str(i) for i in predictions[keys[0]]["id"]]
    rows = []
    for key in keys:
        table = predictions[key].set_index(predictions[key]["id"].astype(str))["y_pred"]
        if len(table) != len(ids) or set(table.index) != set(ids):
            raise ValueError(f"screen {key}: its inference ids differ from screen {keys[0]}'s")
        rows.append(table.loc[ids].to_numpy(dtype=np.float64))
    return keys, ids, np.vstack(rows)


def candidate_table(predictions: Mapping[ScreenKey, pd.DataFrame], modes: Sequence[ScreeningMode],
                    audit: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (mode, inference structure), ranked within each mode (``rank`` 1 = most robust).

    Columns: ``mode, rank, id, share_selected`` (of all screens), ``share_{family}`` per family,
    ``share_balanced`` (the mean of the family shares: each family weighs the same), ``n_screens``,
    ``y_pred_mean``, ``y_pred_sd`` (over all models, ddof 0), ``y_pred_min``, ``y_pred_max``, and with an audit set ``y_true`` (NaN where the structure is not in it) and
    ``truly_selected`` (the mode applied to the audit's true labels; empty where not audited).
    """
    keys, ids, values = _matrix(predictions)
    families = list(dict.fromkeys(key[0] for key in keys))
    # what does not depend on the mode: the predictions' statistics and the audit labels
    common = pd.DataFrame({"n_screens": len(keys), "y_pred_mean": values.mean(axis=0), "y_pred_sd": values.std(axis=0),
                           "y_pred_min": values.min(axis=0), "y_pred_max": values.max(axis=0)})
    if audit is not None:
        audit_ids = audit["id"].astype(str).tolist()
        labels = dict(zip(audit_ids, audit["y_true"].astype(float)))
        common["y_true"] = [labels.get(i, math.nan) for i in ids]
    tables = []
    for mode in modes:
        selected = np.vstack([mode.mask(row) for row in values])
        table = pd.DataFrame({"mode": mode.name, "id": ids, "share_selected": selected.mean(axis=0)})
        for family in families:
            rows = [k for k, key in enumerate(keys) if key[0] == family]
            table[f"share_{family}"] = selected[rows].mean(axis=0)
        # every family counts once, however many screens it has (52 classical vs 9 Allegro by default)
        table["share_balanced"] = table[[f"share_{family}" for family in families]].mean(axis=1)
        table = pd.concat([table, common], axis=1)
        if audit is not None:
            truth = dict(zip(audit_ids, mode.mask(audit["y_true"].to_numpy())))
            table["truly_selected"] = [("yes" if truth[i] else "no") if i in truth else "" for i in ids]
        table = table.sort_values(["share_selected", "y_pred_mean", "id"], ascending=[False, True, True], kind="stable")
        table.insert(1, "rank", np.arange(1, len(table) + 1))
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def consensus_precision(table: pd.DataFrame, levels: Sequence[float] = (0.5, 0.9)) -> pd.DataFrame:
    """Per mode, on the audited structures: the precision of the consensus (structures selected by
    at least a share ``level`` of the screens) against the mean precision of a single screen.

    A single screen's precision is estimated from the shares: over audited structures, the
    selections of all screens together are sum(share) * n_screens, of which the truly selected
    ones are the true positives; this equals the mean over screens of TP / selected, weighted by
    each screen's selection count. Rows where nothing was selected have NaN precision and say so.
    """
    rows = []
    audited = table[table["truly_selected"] != ""]
    for mode, part in audited.groupby("mode", sort=False):
        truth = part["truly_selected"] == "yes"
        picks = part["share_selected"] * part["n_screens"]
        single = float((picks * truth).sum() / picks.sum()) if picks.sum() else math.nan
        row = {"mode": mode, "n_audited": len(part), "n_truly_selected": int(truth.sum()),
               "single_screen_precision": single, "single_screen_selected_mean": float(picks.sum() / part["n_screens"].iloc[0])}
        for level in levels:
            chosen = part["share_selected"] >= level
            row[f"consensus{int(100 * level)}_selected"] = int(chosen.sum())
            row[f"consensus{int(100 * level)}_precision"] = float(truth[chosen].mean()) if chosen.any() else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --- rule glue (rules/report.smk) ---


def candidate_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``candidates``: every model's inference predictions of the system
    (``pred__{family}__{model}__{limit}__{seed}``: every replica is a screen) and its audit targets, if any."""
    from qcrobust import layout

    system = wildcards.system
    inputs = {
        f"pred__{k['family']}__{k['model']}__{k['limit']}__{k['seed']}": layout.path(layout.PREDICTIONS, **k, set="inference")
        for k in study.trained(system)
    }
    if study.has_audit(system):
        inputs["audit_targets"] = layout.path(layout.TARGETS, system=system, set="audit")
    return inputs


def screens_from_inputs(named: Mapping[str, str]) -> dict[ScreenKey, str]:
    """``pred__{family}__{model}__{limit}__{seed}`` rule inputs -> {(family, model, limit, seed): path}."""
    out = {}
    for name, path in named.items():
        if name.startswith("pred__"):
            _, family, model, limit, seed = name.split("__")
            out[(family, model, int(limit), int(seed))] = str(path)
    return out


def candidate_targets(study) -> list[str]:
    from qcrobust import layout

    if not study.grids:
        return []
    paths = []
    for system in study.systems:
        paths += [layout.path(layout.CANDIDATES, system=system), layout.path(layout.CANDIDATES_FIGURE, system=system)]
        if study.has_audit(system):
            paths.append(layout.path(layout.CONSENSUS, system=system))
    return paths
