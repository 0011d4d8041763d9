"""Rule classical_train: K-fold fits of one (system, model, limit), saved with their training metrics."""

from qcrobust.classical import limit_data, train_limit, write_outputs
from qcrobust.features import read_features
from qcrobust.tables import read_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    settings = snakemake.params.settings
    target, limit, model = settings["target"], int(snakemake.wildcards.limit), snakemake.wildcards.model
    features = read_features(snakemake.input.dataset)
    targets = read_table(snakemake.input.targets)
    splits = read_table(snakemake.input.splits)
    data = limit_data(features, targets, splits, limit, target, source=snakemake.input.splits)
    fit, metrics = train_limit(
        data,
        model,
        settings["params"],
        folds=settings["folds"],
        seed=settings["seed"],
        threads=snakemake.threads,
        source=f"{snakemake.input.splits} (limit {limit})",
    )
    metrics |= {
        "system": snakemake.wildcards.system,
        "family": "classical",
        "model": model,
        "limit": limit,
        "target": target,
        "threads": snakemake.threads,
    }
    log.info(
        "%s limit %d: %d train + %d val rows, CV RMSE %.4f, %.1f s",
        model,
        limit,
        data.n_train,
        data.n_val,
        metrics["cv_rmse"],
        metrics["fit_seconds"],
    )
    write_outputs(fit, metrics, snakemake.output)
