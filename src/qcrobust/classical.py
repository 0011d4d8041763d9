"""The classical family: RandomForest, XGBoost, LightGBM and CatBoost behind one scikit-learn pipeline.

Per (system, model, limit): K-fold CV (shuffled, seeded) over the limit's train+val rows; the
fold models are saved together, and their predictions are averaged for every prediction set
(test, inference, audit: rule ``predict``, :mod:`qcrobust.predict`; paper §4.3–4.4). Training
never reads the test set.
Every estimator gets a fixed seed and an explicit thread count; with the same thread count,
predictions are identical run to run (LightGBM and XGBoost may differ in the last bits across
thread counts, see ``bench/README.md``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qcrobust.errors import InputError
from qcrobust.metrics import regression_scores
from qcrobust.splits import limit_members

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)

MODELS = ("rf", "xgb", "lgbm", "catboost")


def _regressor_class(model: str):
    """The estimator class of a model name (imported on demand: each job needs only one)."""
    if model == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor
    if model == "xgb":
        from xgboost import XGBRegressor

        return XGBRegressor
    if model == "lgbm":
        from lightgbm import LGBMRegressor

        return LGBMRegressor
    if model == "catboost":
        from catboost import CatBoostRegressor

        return CatBoostRegressor
    raise InputError("config.yaml", "key 'classical.models'", f"unknown model {model!r}; known: {list(MODELS)}")


def _fixed_settings(model: str, seed: int, threads: int) -> dict:
    """Seed, threads and quiet output: set by the workflow, not by the user."""
    if model == "rf":
        return {"random_state": seed, "n_jobs": threads}
    if model == "xgb":
        return {"random_state": seed, "n_jobs": threads, "verbosity": 0}
    if model == "lgbm":
        # deterministic + row-wise histograms: same bits on every run with the same threads
        return {"random_state": seed, "n_jobs": threads, "verbose": -1, "deterministic": True, "force_row_wise": True}
    if model == "catboost":
        return {"random_seed": seed, "thread_count": threads, "verbose": 0, "allow_writing_files": False}
    raise AssertionError(model)


def make_regressor(model: str, params: Mapping | None = None, *, seed: int = 0, threads: int = 1):
    """One regressor of the family with the user's hyperparameters ``params``.

    Unknown hyperparameters of RandomForest and CatBoost are an error naming the config key.
    XGBoost and LightGBM take any native parameter as a keyword (``max_bin``, ...), so theirs
    are passed through; XGBoost warns about unused ones in the rule's log.
    """
    import inspect

    cls = _regressor_class(model)
    params = dict(params or {})
    fixed = _fixed_settings(model, seed, threads)
    known = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    for key in params:
        where = f"key 'classical.params.{model}.{key}'"
        if key in fixed:
            raise InputError("config.yaml", where, "is set by the workflow (seed, threads or logging)")
        if model in ("rf", "catboost") and key not in known:
            raise InputError("config.yaml", where, f"not a parameter of {cls.__name__}")
    return cls(**params, **fixed)


def make_pipeline(model: str, params: Mapping | None = None, *, seed: int = 0, threads: int = 1) -> Pipeline:
    """The family's one pipeline: drop constant descriptors, then the regressor."""
    # sklearn is imported where used: the Snakefile imports this module at every start
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.pipeline import Pipeline

    return Pipeline([("drop_constant", VarianceThreshold()), ("regressor", make_regressor(model, params, seed=seed, threads=threads))])


@dataclass
class CVFit:
    """The fold pipelines of one (model, limit) and what the fit cost."""

    pipelines: list[Pipeline]
    feature_names: list[str]
    oof_pred: np.ndarray  # out-of-fold prediction of every training row
    fit_seconds: float

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return predict_mean(self.pipelines, self.feature_names, features)


def predict_mean(pipelines: list[Pipeline], feature_names: list[str], features: pd.DataFrame) -> np.ndarray:
    """Mean of the fold models' predictions."""
    x = _matrix(features, feature_names)
    return np.mean([p.predict(x) for p in pipelines], axis=0)


def _matrix(features: pd.DataFrame, names: list[str]) -> np.ndarray:
    return features[names].to_numpy(dtype=np.float64)


def fit_cv(
    features: pd.DataFrame,
    y: np.ndarray,
    model: str,
    params: Mapping | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    threads: int = 1,
    source: str = "training data",
) -> CVFit:
    """Fit one pipeline per fold of a shuffled, seeded K-fold split of ``features`` (``id`` + descriptors)."""
    y = np.asarray(y, dtype=np.float64)
    if len(features) < folds:
        raise InputError(source, None, f"only {len(features)} training rows, fewer than classical.folds = {folds}")
    names = [c for c in features.columns if c != "id"]
    from sklearn.model_selection import KFold

    x = _matrix(features, names)
    oof = np.empty(len(y))
    pipelines = []
    start = time.perf_counter()
    for train, held_out in KFold(n_splits=folds, shuffle=True, random_state=seed).split(x):
        pipeline = make_pipeline(model, params, seed=seed, threads=threads).fit(x[train], y[train])
        oof[held_out] = pipeline.predict(x[held_out])
        pipelines.append(pipeline)
    return CVFit(pipelines, names, oof, time.perf_counter() - start)


@dataclass
class LimitData:
    """The training rows of one (system, limit): the limit subset's train+val rows."""

    train: pd.DataFrame  # descriptors (id first)
    y_train: np.ndarray
    n_train: int
    n_val: int


def limit_data(
    features: pd.DataFrame, targets: pd.DataFrame, splits: pd.DataFrame, limit: int, target: str, *, source: str = "splits"
) -> LimitData:
    """Join descriptors, targets and splits; select the ``limit`` subset (train+val)."""
    for name, table in (("descriptor table", features), ("targets", targets)):
        missing = sorted(set(splits["id"]) - set(table["id"]))
        if missing:
            raise InputError(source, f"id {missing[0]!r}", f"not in the {name} ({len(missing)} ids missing)")
    joined = splits.merge(targets[["id", target]], on="id", how="left", validate="one_to_one")
    members = limit_members(joined, limit)
    return LimitData(
        train=features.set_index("id").loc[members["id"]].reset_index(),
        y_train=members[target].to_numpy(dtype=np.float64),
        n_train=int((members["split"] == "train").sum()),
        n_val=int((members["split"] == "val").sum()),
    )


def train_limit(
    data: LimitData,
    model: str,
    params: Mapping | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    threads: int = 1,
    source: str = "training data",
) -> tuple[CVFit, dict]:
    """Fit the fold models of one limit; returns them and the training metrics (CV scores)."""
    fit = fit_cv(data.train, data.y_train, model, params, folds=folds, seed=seed, threads=threads, source=source)
    cv = regression_scores(data.y_train, fit.oof_pred)
    metrics = {
        "n_train": data.n_train,
        "n_val": data.n_val,
        "n_features": len(fit.feature_names),
        "n_features_used": int(fit.pipelines[0].named_steps["drop_constant"].get_support().sum()),
        "folds": folds,
        "cv_rmse": cv["rmse"],
        "cv_mae": cv["mae"],
        "fit_seconds": fit.fit_seconds,
    }
    return fit, metrics


def write_outputs(fit: CVFit, metrics: Mapping, outputs: Mapping[str, str]) -> None:
    """Schema-check, then write ``metrics`` (JSON) and ``model`` (joblib: the fold pipelines and
    the descriptor columns they were fitted on)."""
    import joblib

    from qcrobust.io import atomic_path, write_json
    from qcrobust.tables import check_record

    check_record(
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in metrics.items()}, "classical_metrics", outputs["metrics"]
    )
    write_json(metrics, outputs["metrics"])
    with atomic_path(outputs["model"]) as tmp:
        joblib.dump({"feature_names": fit.feature_names, "pipelines": fit.pipelines}, tmp, compress=3)


def load_model(path) -> tuple[list[Pipeline], list[str]]:
    """The fold pipelines and descriptor columns saved by :func:`write_outputs`."""
    import joblib

    saved = joblib.load(path)
    return saved["pipelines"], saved["feature_names"]
