"""Rule predict_replica: a replica seed's saved model predicts test and inference in one job."""

from qcrobust.predict import inputs_by_set, predict_sets, write_predictions
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    wildcards = snakemake.wildcards
    tables = predict_sets(
        wildcards.family, inputs_by_set(dict(snakemake.input.items())), device=snakemake.params.device, threads=snakemake.threads
    )
    for set_name, table in tables.items():
        log.info(
            "%s %s/%s limit %s seed %s: %d %s predictions",
            wildcards.system,
            wildcards.family,
            wildcards.model,
            wildcards.limit,
            wildcards.seed,
            len(table),
            set_name,
        )
        write_predictions(table, snakemake.output[set_name])
