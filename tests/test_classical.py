"""The classical family: one pipeline, K-fold fits averaged, seeds fixed, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qcrobust import layout
from qcrobust.classical import MODELS, fit_cv, limit_data, load_model, make_pipeline, make_regressor, train_limit, write_outputs
from qcrobust.errors import InputError
from qcrobust.io import write_csv
from qcrobust.metrics import regression_scores
from qcrobust.predict import predict_set, write_predictions
from qcrobust.splits import test_ids as split_test_ids

# tiny models: the tests check the plumbing, not the accuracy
SMALL = {
    "rf": {"n_estimators": 10},
    "xgb": {"n_estimators": 20},
    "lgbm": {"n_estimators": 20, "min_child_samples": 3},
    "catboost": {"iterations": 20},
}


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


def test_limit_data_selects_the_limit_subset_and_never_the_test_set():
    features, targets, splits = _study()
    data = limit_data(features, targets, splits, 2, "e_above_hull")
    expected = splits[(splits["split"] != "test") & (splits["n_A5_defects"] <= 2)]
    assert list(data.train["id"]) == list(expected["id"])
    assert (data.n_train, data.n_val) == ((expected["split"] == "train").sum(), (expected["split"] == "val").sum())
    assert data.n_val == 2  # val rows 20 (2 defects) and 30 (0); rows 10 and 40 have 8
    assert not set(data.train["id"]) & set(split_test_ids(splits))  # training never sees the test split
    assert split_test_ids(splits) == [f"s{k:03d}" for k in range(6)]  # the fixed test set, in splits.csv order
    by_id = targets.set_index("id")["e_above_hull"]
    np.testing.assert_array_equal(data.y_train, by_id.loc[data.train["id"]].to_numpy())
    assert list(limit_data(features, targets, splits, 8, "e_form").train["id"]) == list(splits[splits["split"] != "test"]["id"])


def test_limit_data_missing_id_names_it():
    features, targets, splits = _study()
    with pytest.raises(InputError, match=r"splits.csv: id 's007': not in the descriptor table \(1 ids missing\)"):
        limit_data(features[features["id"] != "s007"], targets, splits, 8, "e_above_hull", source="splits.csv")


def _write_descriptors(table: pd.DataFrame, path) -> None:
    """A descriptor table as rule features writes it (parquet, no index); the toy columns here
    are not the features schema's, so not through write_features."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path, index=False)


META = {"system": "S", "family": "classical", "model": "rf", "limit": 8, "target": "e_above_hull", "threads": 1}


def _saved_model(folder, model="rf", limit=8):
    """One limit trained on ``_study`` and saved as rule classical_train does; returns
    (fit, metrics, prediction inputs of the test set, the study's tables)."""
    features, targets, splits = _study()
    data = limit_data(features, targets, splits, limit, "e_above_hull")
    fit, metrics = train_limit(data, model, SMALL[model], folds=5, seed=0)
    key = {"system": "S", "family": "classical", "model": model, "limit": limit, "seed": 0}
    outputs = {"model": folder / layout.model_file(**key), "metrics": folder / layout.path(layout.METRICS, **key)}
    write_outputs(fit, metrics | META | {"model": model, "limit": limit}, outputs)
    _write_descriptors(features, folder / layout.path(layout.FEATURES, system="S", set="dataset"))
    write_csv(splits, folder / layout.path(layout.SPLITS, system="S"))
    inputs = {
        "model": str(outputs["model"]),
        "features": str(folder / layout.path(layout.FEATURES, system="S", set="dataset")),
        "splits": str(folder / layout.path(layout.SPLITS, system="S")),
    }
    return fit, metrics, inputs, (features, targets, splits)


def test_train_limit_reports_training_metrics_and_reads_no_test_row(tmp_path):
    features, targets, splits = _study()
    data = limit_data(features, targets, splits, 8, "e_above_hull")
    fit, metrics = train_limit(data, "rf", SMALL["rf"], folds=5, seed=0)
    assert set(metrics) == {"n_train", "n_val", "n_features", "n_features_used", "folds", "cv_rmse", "cv_mae", "fit_seconds"}
    assert (metrics["n_train"], metrics["n_val"], metrics["folds"]) == (data.n_train, data.n_val, 5)
    assert metrics["n_train"] + metrics["n_val"] == len(splits) - 6  # every row but the 6 test rows
    assert metrics["n_features"] == 5 and metrics["n_features_used"] == 4
    assert metrics["cv_rmse"] == pytest.approx(regression_scores(data.y_train, fit.oof_pred)["rmse"])
    assert metrics["cv_rmse"] > 0 and metrics["fit_seconds"] > 0
    # the same model whatever the test rows hold: training does not read them
    scrambled = targets.copy()
    scrambled.loc[scrambled["id"].isin(split_test_ids(splits)), "e_above_hull"] = 99.0
    again, _ = train_limit(limit_data(features, scrambled, splits, 8, "e_above_hull"), "rf", SMALL["rf"], folds=5, seed=0)
    assert again.predict(features).tobytes() == fit.predict(features).tobytes()


def test_saved_model_predicts_every_set_and_scores_the_test_set(tmp_path):
    fit, metrics, inputs, (features, targets, splits) = _saved_model(tmp_path)
    test = predict_set("classical", "test", inputs)
    assert list(test.columns) == ["id", "y_pred"]
    assert list(test["id"]) == split_test_ids(splits)  # splits.csv order, not the descriptor table's
    truth = targets.set_index("id").loc[test["id"], "e_above_hull"].to_numpy()
    rmse = float(np.sqrt(np.mean((test["y_pred"].to_numpy() - truth) ** 2)))
    assert regression_scores(truth, test["y_pred"].to_numpy())["rmse"] == pytest.approx(rmse)
    assert 0 < rmse < 0.2
    # another set: every row of its descriptor table, in its order
    inference, _ = _features(9, seed=5, prefix="inf")
    _write_descriptors(inference, tmp_path / "inference.parquet")
    predicted = predict_set("classical", "inference", {"model": inputs["model"], "features": str(tmp_path / "inference.parquet")})
    assert list(predicted["id"]) == list(inference["id"])
    # deterministic: predicting again gives the same bytes
    write_csv(test, tmp_path / "a.csv")
    write_csv(predict_set("classical", "test", inputs), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_one_job_predicts_every_model_and_set_as_one_job_each_would(tmp_path):
    """qcrobust.predict.predict_models (rule predict: each set read once, each model loaded once)
    gives every (limit, seed) block the bytes predict_set gives that model and set alone."""
    from qcrobust.predict import predict_models

    _, _, inputs, _ = _saved_model(tmp_path, limit=8)
    _, _, other, _ = _saved_model(tmp_path, limit=4)
    inference, _ = _features(9, seed=5, prefix="inf")
    _write_descriptors(inference, tmp_path / "inference.parquet")
    sets = {"test": {k: inputs[k] for k in ("features", "splits")}, "inference": {"features": str(tmp_path / "inference.parquet")}}
    models = {(8, 0): inputs["model"], (4, 0): other["model"]}
    tables = predict_models("classical", models, sets)
    assert list(tables) == ["test", "inference"] and len(tables["inference"]) == 2 * 9
    for name, table in tables.items():
        assert list(table.columns) == ["limit", "seed", "id", "y_pred"]
        assert table[["limit", "seed"]].drop_duplicates().values.tolist() == [[4, 0], [8, 0]]  # (limit, seed) order
        for (limit, seed), path in models.items():
            block = table[(table["limit"] == limit) & (table["seed"] == seed)].drop(columns=["limit", "seed"]).reset_index(drop=True)
            write_csv(block, tmp_path / "together.csv")
            write_csv(predict_set("classical", name, sets[name] | {"model": path}), tmp_path / "alone.csv")
            assert (tmp_path / "together.csv").read_bytes() == (tmp_path / "alone.csv").read_bytes()
    # the two models differ, so a swapped block would show
    assert not tables["inference"]["y_pred"][:9].equals(tables["inference"]["y_pred"][9:].reset_index(drop=True))
    with pytest.raises(ValueError, match="no models"):
        predict_models("classical", {}, sets)


def test_saved_model_predicts_exactly_what_the_fit_predicts(tmp_path):
    for model in ("rf", "lgbm"):
        fit, _, inputs, (features, _, splits) = _saved_model(tmp_path / model, model=model)
        pipelines, names = load_model(inputs["model"])
        assert names == fit.feature_names and len(pipelines) == 5
        test = predict_set("classical", "test", inputs)
        expected = fit.predict(features.set_index("id").loc[split_test_ids(splits)].reset_index())
        assert test["y_pred"].to_numpy().tobytes() == expected.tobytes()


def test_test_structure_without_descriptors_is_named(tmp_path):
    _, _, inputs, (features, _, _) = _saved_model(tmp_path)
    _write_descriptors(features[features["id"] != "s003"], Path(inputs["features"]))
    with pytest.raises(InputError, match=r"id 's003': test structure without descriptors \(1 missing\)"):
        predict_set("classical", "test", inputs)


def test_write_predictions_rejects_duplicate_ids_and_non_finite_values(tmp_path):
    from qcrobust.predict import prediction_table

    write_predictions(prediction_table(["a", "b"], [0.1, -0.2], limit=4, seed=1), tmp_path / "ok.csv")
    assert (tmp_path / "ok.csv").read_text().splitlines()[:2] == ["limit,seed,id,y_pred", "4,1,a,0.1"]
    with pytest.raises(InputError, match=r"dup.csv: limit 4, seed 0, id 'a': duplicate id$"):
        write_predictions(prediction_table(["a", "b", "a"], [0.1, 0.2, 0.3], limit=4, seed=0), tmp_path / "dup.csv")
    for bad in (np.nan, np.inf):
        with pytest.raises(InputError, match=r"bad.csv: limit 0, seed 0, id 'b': y_pred is not a finite number"):
            write_predictions(prediction_table(["a", "b"], [0.1, bad], limit=0, seed=0), tmp_path / "bad.csv")
    with pytest.raises(InputError, match=r"no_key.csv: row 0: does not match predictions.schema.yaml: 'limit' is a required property"):
        write_predictions(prediction_table(["a"], [0.1]), tmp_path / "no_key.csv")  # a block without its model
    assert not (tmp_path / "dup.csv").exists() and not (tmp_path / "bad.csv").exists()


def test_outputs_are_schema_checked_and_written(tmp_path):
    import json

    import joblib

    features, targets, splits = _study()
    data = limit_data(features, targets, splits, 8, "e_above_hull")
    fit, metrics = train_limit(data, "xgb", SMALL["xgb"], folds=5)
    metrics |= META | {"model": "xgb"}
    outputs = {"metrics": tmp_path / "metrics.json", "model": tmp_path / "model.joblib"}
    write_outputs(fit, metrics, outputs)
    assert json.loads(outputs["metrics"].read_text())["cv_rmse"] == pytest.approx(metrics["cv_rmse"])
    saved = joblib.load(outputs["model"])
    assert saved["feature_names"] == fit.feature_names and len(saved["pipelines"]) == 5
    with pytest.raises(InputError, match=r"metrics.json: does not match classical_metrics.schema.yaml: 'limit' is a required property"):
        write_outputs(fit, {k: v for k, v in metrics.items() if k != "limit"}, {k: tmp_path / "x" / v.name for k, v in outputs.items()})
    assert not (tmp_path / "x").exists()
    # the test scores are not training's any more: the schema refuses them
    with pytest.raises(InputError, match=r"metrics.json: does not match classical_metrics.schema.yaml"):
        write_outputs(fit, metrics | {"rmse": 0.1}, {k: tmp_path / "y" / v.name for k, v in outputs.items()})
