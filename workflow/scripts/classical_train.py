"""Rule classical_train / classical_train_audit: K-fold fits of one (system, model, limit), averaged predictions."""

from qcrobust.classical import limit_data, train_limit, write_outputs
from qcrobust.features import read_features
from qcrobust.io import read_csv
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    settings = snakemake.params.settings
    target, limit, model = settings["target"], int(snakemake.wildcards.limit), snakemake.wildcards.model
    features = read_features(snakemake.input.dataset)
    targets = read_csv(snakemake.input.targets, required=["id", target], dtype={"id": str})
    splits = read_csv(snakemake.input.splits, required=["id", "n_A5_defects", "split"], dtype={"id": str})
    data = limit_data(features, targets, splits, limit, target, source=snakemake.input.splits)
    predict_sets = {"inference": read_features(snakemake.input.inference)}
    if "audit" in snakemake.input.keys():
        predict_sets["audit"] = read_features(snakemake.input.audit)
    fit, predictions, metrics = train_limit(
        data, predict_sets, model, settings["params"], folds=settings["folds"], seed=settings["seed"],
        threads=snakemake.threads, source=f"{snakemake.input.splits} (limit {limit})",
    )
    metrics |= {"system": snakemake.wildcards.system, "family": "classical", "model": model, "limit": limit,
                "target": target, "threads": snakemake.threads}
    log.info("%s limit %d: %d train + %d val rows, test RMSE %.4f, CV RMSE %.4f, %.1f s",
             model, limit, data.n_train, data.n_val, metrics["rmse"], metrics["cv_rmse"], metrics["fit_seconds"])
    write_outputs(fit, predictions, metrics, snakemake.output)
