"""The classical family: one pipeline, K-fold fits averaged, seeds fixed, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qcrobust.classical import MODELS, fit_cv, limit_data, make_pipeline, make_regressor, train_limit
from qcrobust.errors import InputError

# tiny models: the tests check the plumbing, not the accuracy
SMALL = {"rf": {"n_estimators": 10}, "xgb": {"n_estimators": 20}, "lgbm": {"n_estimators": 20, "min_child_samples": 3}, "catboost": {"iterations": 20}}


def _features(n: int, seed: int = 0, prefix: str = "s") -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    table = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    table["constant"] = 1.0
    table.insert(0, "id", [f"{prefix}{k:03d}" for k in range(n)])
    return table, 0.05 * x[:, 0] - 0.02 * x[:, 1] ** 2 + 0.001 * rng.normal(size=n)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_fits_five_folds_and_averages_them(model):
    features, y = _features(40)
    fit = fit_cv(features, y, model, SMALL[model], folds=5, seed=1)
    assert len(fit.pipelines) == 5
    assert fit.feature_names == ["a", "b", "c", "d", "constant"]
    assert fit.pipelines[0].named_steps["drop_constant"].get_support().tolist() == [True] * 4 + [False]
    new, _ = _features(7, seed=9)
    x = new[fit.feature_names].to_numpy()
    np.testing.assert_allclose(fit.predict(new), np.mean([p.predict(x) for p in fit.pipelines], axis=0))
    # the out-of-fold predictions carry signal (a constant model would give ~0 correlation)
    assert np.corrcoef(fit.oof_pred, y)[0, 1] > 0.3


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_same_predictions_to_the_bit(model):
    features, y = _features(40)
    one = fit_cv(features, y, model, SMALL[model], seed=3).predict(features)
    two = fit_cv(features, y, model, SMALL[model], seed=3).predict(features)
    assert one.tobytes() == two.tobytes()


def test_seeds_and_threads_reach_every_estimator():
    assert make_regressor("rf", seed=7, threads=2).get_params()["random_state"] == 7
    assert make_regressor("rf", seed=7, threads=2).get_params()["n_jobs"] == 2
    assert make_regressor("xgb", seed=7, threads=2).get_params()["n_jobs"] == 2
    assert make_regressor("lgbm", seed=7, threads=2).get_params()["deterministic"] is True
    catboost = make_regressor("catboost", seed=7, threads=2).get_params()
    assert (catboost["random_seed"], catboost["thread_count"], catboost["allow_writing_files"]) == (7, 2, False)
    assert [name for name, _ in make_pipeline("rf").steps] == ["drop_constant", "regressor"]


def test_unknown_or_reserved_hyperparameters_name_the_config_key():
    with pytest.raises(InputError, match=r"key 'classical.params.rf.n_trees': not a parameter of RandomForestRegressor"):
        make_regressor("rf", {"n_trees": 10})
    with pytest.raises(InputError, match=r"key 'classical.params.catboost.random_seed': is set by the workflow"):
        make_regressor("catboost", {"random_seed": 1})
    # XGBoost and LightGBM take native parameters as keywords
    assert make_regressor("lgbm", {"max_bin": 63}).get_params()["max_bin"] == 63


def test_fewer_rows_than_folds_is_a_clear_error():
    features, y = _features(4)
    with pytest.raises(InputError, match=r"splits.csv \(limit 0\): only 4 training rows, fewer than classical.folds = 5"):
        fit_cv(features, y, "rf", SMALL["rf"], folds=5, source="splits.csv (limit 0)")


def _study(n: int = 60):
    features, y = _features(n)
    defects = np.tile([0, 0, 2, 4, 8, 8], n // 6)
    split = np.array(["train"] * n, dtype=object)
    split[:6] = "test"  # ids s000-s005 ...
    defects[:6] = 0  # ... all limit 0, as in the study
    split[[10, 20, 30, 40]] = "val"
    splits = pd.DataFrame({"id": features["id"], "n_A5_defects": defects, "split": split})
    targets = pd.DataFrame({"id": features["id"], "e_above_hull": y, "e_form": y - 0.1})
    # shuffled rows: the join must go by id, not by position
    return features.sample(frac=1, random_state=1), targets.sample(frac=1, random_state=2), splits


def test_limit_data_selects_the_limit_subset_and_the_fixed_test_set():
    features, targets, splits = _study()
    data = limit_data(features, targets, splits, 2, "e_above_hull")
    expected = splits[(splits["split"] != "test") & (splits["n_A5_defects"] <= 2)]
    assert list(data.train["id"]) == list(expected["id"])
    assert (data.n_train, data.n_val) == ((expected["split"] == "train").sum(), (expected["split"] == "val").sum())
    assert data.n_val == 2  # val rows 20 (2 defects) and 30 (0); rows 10 and 40 have 8
    assert list(data.test["id"]) == [f"s{k:03d}" for k in range(6)]
    by_id = targets.set_index("id")["e_above_hull"]
    np.testing.assert_array_equal(data.y_train, by_id.loc[data.train["id"]].to_numpy())
    np.testing.assert_array_equal(data.y_test, by_id.loc[data.test["id"]].to_numpy())
    assert list(limit_data(features, targets, splits, 8, "e_form").train["id"]) == list(splits[splits["split"] != "test"]["id"])


def test_limit_data_missing_id_names_it():
    features, targets, splits = _study()
    with pytest.raises(InputError, match=r"splits.csv: id 's007': not in the descriptor table \(1 ids missing\)"):
        limit_data(features[features["id"] != "s007"], targets, splits, 8, "e_above_hull", source="splits.csv")


def test_train_limit_predicts_every_set_and_reports_metrics():
    features, targets, splits = _study()
    data = limit_data(features, targets, splits, 8, "e_above_hull")
    inference, _ = _features(9, seed=5, prefix="inf")
    fit, predictions, metrics = train_limit(data, {"inference": inference}, "rf", SMALL["rf"], folds=5, seed=0)
    assert list(predictions) == ["test", "inference"]
    assert list(predictions["inference"]["id"]) == list(inference["id"])
    assert list(predictions["test"].columns) == ["id", "y_pred"]
    y_test = data.y_test
    rmse = float(np.sqrt(np.mean((predictions["test"]["y_pred"].to_numpy() - y_test) ** 2)))
    assert metrics["rmse"] == pytest.approx(rmse)
    assert (metrics["n_train"], metrics["n_val"], metrics["n_test"], metrics["folds"]) == (data.n_train, data.n_val, 6, 5)
    assert metrics["n_features"] == 5 and metrics["n_features_used"] == 4
    assert metrics["cv_rmse"] > 0 and metrics["fit_seconds"] > 0


def test_outputs_are_schema_checked_and_written(tmp_path):
    import json

    import joblib

    from qcrobust.classical import write_outputs

    features, targets, splits = _study()
    data = limit_data(features, targets, splits, 8, "e_above_hull")
    fit, predictions, metrics = train_limit(data, {}, "xgb", SMALL["xgb"], folds=5)
    metrics |= {"system": "S", "family": "classical", "model": "xgb", "limit": 8, "target": "e_above_hull", "threads": 1}
    outputs = {"pred_test": tmp_path / "pred_test.csv", "metrics": tmp_path / "metrics.json", "model": tmp_path / "model.joblib"}
    write_outputs(fit, predictions, metrics, outputs)
    assert json.loads(outputs["metrics"].read_text())["rmse"] == pytest.approx(metrics["rmse"])
    assert len(joblib.load(outputs["model"])) == 5
    with pytest.raises(InputError, match=r"metrics.json: does not match classical_metrics.schema.yaml: 'limit' is a required property"):
        write_outputs(fit, predictions, {k: v for k, v in metrics.items() if k != "limit"}, {k: tmp_path / "x" / v.name for k, v in outputs.items()})
    assert not (tmp_path / "x").exists()
