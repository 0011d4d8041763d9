"""The classical family: RandomForest, XGBoost, LightGBM and CatBoost behind one scikit-learn pipeline.

Per (system, model, limit): K-fold CV (shuffled, seeded) over the limit's train+val rows; the
fold models' predictions are averaged for the test, inference and audit sets (paper §4.3–4.4).
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
    raise InputError("config.yaml", f"key 'classical.models'", f"unknown model {model!r}; known: {list(MODELS)}")


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
        """Mean of the fold models' predictions."""
        x = _matrix(features, self.feature_names)
        return np.mean([p.predict(x) for p in self.pipelines], axis=0)


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
    """The rows one (system, limit) model sees: its training rows and the sets it predicts."""

    train: pd.DataFrame  # descriptors of the limit's train+val rows (id first)
    y_train: np.ndarray
    n_train: int
    n_val: int
    test: pd.DataFrame
    y_test: np.ndarray


def limit_data(features: pd.DataFrame, targets: pd.DataFrame, splits: pd.DataFrame, limit: int, target: str, *, source: str = "splits") -> LimitData:
    """Join descriptors, targets and splits; select the ``limit`` subset (train+val) and the test set."""
    for name, table in (("descriptor table", features), ("targets", targets)):
        missing = sorted(set(splits["id"]) - set(table["id"]))
        if missing:
            raise InputError(source, f"id {missing[0]!r}", f"not in the {name} ({len(missing)} ids missing)")
    joined = splits.merge(targets[["id", target]], on="id", how="left", validate="one_to_one")
    members = limit_members(joined, limit)
    test = joined[joined["split"] == "test"]
    indexed = features.set_index("id")

    def rows(part: pd.DataFrame) -> pd.DataFrame:
        return indexed.loc[part["id"]].reset_index()

    return LimitData(
        train=rows(members),
        y_train=members[target].to_numpy(dtype=np.float64),
        n_train=int((members["split"] == "train").sum()),
        n_val=int((members["split"] == "val").sum()),
        test=rows(test),
        y_test=test[target].to_numpy(dtype=np.float64),
    )


def prediction_table(features: pd.DataFrame, y_pred: np.ndarray) -> pd.DataFrame:
    """``id, y_pred`` in the order of ``features``."""
    return pd.DataFrame({"id": features["id"].astype(str).to_numpy(), "y_pred": np.asarray(y_pred, dtype=np.float64)})


def train_limit(
    data: LimitData,
    predict_sets: Mapping[str, pd.DataFrame],
    model: str,
    params: Mapping | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    threads: int = 1,
    source: str = "training data",
) -> tuple[CVFit, dict[str, pd.DataFrame], dict]:
    """Fit the fold models of one limit; predictions (``test`` + each of ``predict_sets``) and metrics."""
    fit = fit_cv(data.train, data.y_train, model, params, folds=folds, seed=seed, threads=threads, source=source)
    predictions = {"test": prediction_table(data.test, fit.predict(data.test))}
    for name, table in predict_sets.items():
        predictions[name] = prediction_table(table, fit.predict(table))
    scores = regression_scores(data.y_test, predictions["test"]["y_pred"].to_numpy())
    cv = regression_scores(data.y_train, fit.oof_pred)
    metrics = {
        **scores,
        "n_train": data.n_train,
        "n_val": data.n_val,
        "n_test": len(data.y_test),
        "n_features": len(fit.feature_names),
        "n_features_used": int(fit.pipelines[0].named_steps["drop_constant"].get_support().sum()),
        "folds": folds,
        "cv_rmse": cv["rmse"],
        "cv_mae": cv["mae"],
        "fit_seconds": fit.fit_seconds,
    }
    return fit, predictions, metrics


def write_outputs(fit: CVFit, predictions: Mapping[str, pd.DataFrame], metrics: Mapping, outputs: Mapping[str, str]) -> None:
    """Schema-check, then write ``pred_{set}`` tables, ``metrics`` (JSON) and ``model`` (joblib of the fold pipelines)."""
    import joblib

    from qcrobust.io import atomic_path, write_csv, write_json
    from qcrobust.tables import check_record, check_table

    for name, table in predictions.items():
        check_table(table, "predictions", outputs[f"pred_{name}"])
    check_record({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in metrics.items()}, "classical_metrics", outputs["metrics"])
    for name, table in predictions.items():
        write_csv(table, outputs[f"pred_{name}"])
    write_json(metrics, outputs["metrics"])
    with atomic_path(outputs["model"]) as tmp:
        joblib.dump(fit.pipelines, tmp, compress=3)


# --- rule glue (rules/classical.smk) ---


def train_inputs(config: Mapping, wildcards) -> dict[str, str]:
    """Inputs of rule ``classical_train``: descriptor tables, targets and splits of the system."""
    system = wildcards.system
    folder = f"results/{system}/features"
    inputs = {
        "dataset": f"{folder}/dataset.parquet",
        "inference": f"{folder}/inference.parquet",
        "targets": f"results/{system}/targets.csv",
        "splits": f"results/{system}/splits.csv",
    }
    if config["systems"][system].get("audit"):
        inputs["audit"] = f"{folder}/audit.parquet"
    return inputs


def model_settings(config: Mapping, wildcards) -> dict:
    """What a trained model depends on besides its inputs (a rule param: a change retrains only it)."""
    block = config["classical"]
    return {"params": dict(block["params"][wildcards.model]), "folds": block["folds"], "seed": block["seed"], "target": config["target"]}


def targets(config: Mapping) -> list[str]:
    """Every classical model's outputs: systems x models x limits."""
    paths = []
    for system, spec in config["systems"].items():
        for model in config["classical"]["models"]:
            for limit in config["limits"]:
                folder = f"results/{system}/classical/{model}/limit_{limit}"
                names = ["pred_test.csv", "pred_inference.csv", "metrics.json", "model.joblib"]
                paths += [f"{folder}/{name}" for name in names + (["pred_audit.csv"] if spec.get("audit") else [])]
    return paths
