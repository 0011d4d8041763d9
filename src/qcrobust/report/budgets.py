"""What each Allegro model cost beside its test error (rule report_budgets: ``allegro_budgets.csv``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from qcrobust.errors import InputError

BUDGET_COLUMNS = [
    "system",
    "model",
    "limit",
    "rmse",
    "n_train",
    "n_val",
    "epochs",
    "steps",
    "checkpoint",
    "selected_epoch",
    "fit_seconds",
    "pretrain_stage",
    "pretrain_steps",
    "pretrain_seconds",
    "total_seconds",
    "reused_from",
]


def budget_table(paths: Sequence[str | os.PathLike], rmse: pd.DataFrame) -> pd.DataFrame:
    """What each Allegro model cost, beside its test error: optimizer steps and seconds on the
    target data, and of its pretraining stage (external: the corpus run shared by all systems;
    self: the run on the limit's defected structures). A model reused from another regime (self
    at limit 0 is scratch's) costs nothing of its own (fit_seconds 0) and names it in ``reused_from``.
    ``rmse``: the cross-family test RMSE table (``rmse_all.csv``; training never reads the test set)."""
    import json

    rows = []
    for path in paths:
        metrics = json.loads(Path(path).read_text())
        pre = metrics.get("pretrain") or {}
        fit_seconds = float(metrics.get("fit_seconds") or 0.0)
        rows.append(
            {
                "system": metrics["system"],
                "model": metrics["model"],
                "limit": int(metrics["limit"]),
                "n_train": metrics.get("n_train"),
                "n_val": metrics.get("n_val"),
                "epochs": metrics.get("epochs"),
                "steps": metrics.get("steps"),
                "checkpoint": metrics.get("checkpoint", ""),
                "selected_epoch": metrics.get("selected_epoch"),
                "fit_seconds": fit_seconds,
                "pretrain_stage": pre.get("stage", ""),
                "pretrain_steps": pre.get("steps"),
                "pretrain_seconds": pre.get("fit_seconds"),
                "total_seconds": fit_seconds + float(pre.get("fit_seconds") or 0.0),
                "reused_from": metrics.get("reused_from") or "",
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in BUDGET_COLUMNS if c != "rmse"])
    allegro = rmse.loc[rmse["family"] == "allegro", ["system", "model", "limit", "rmse"]]
    table = table.merge(allegro, on=["system", "model", "limit"], how="left", validate="one_to_one")
    missing = table["rmse"].isna()
    if missing.any():
        row = table[missing].iloc[0]
        raise InputError("rmse_all.csv", f"{row['system']}/{row['model']} limit {row['limit']}", "no test RMSE for this Allegro model")
    return table[BUDGET_COLUMNS]
