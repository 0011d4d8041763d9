"""Rule predict: a saved model of any family predicts one prediction set."""

from qcrobust.predict import predict_set, write_predictions
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    wildcards = snakemake.wildcards
    table = predict_set(
        wildcards.family, wildcards.set, dict(snakemake.input.items()), device=snakemake.params.device, threads=snakemake.threads
    )
    log.info(
        "%s %s/%s limit %s: %d %s predictions",
        wildcards.system,
        wildcards.family,
        wildcards.model,
        wildcards.limit,
        len(table),
        wildcards.set,
    )
    write_predictions(table, snakemake.output.predictions)
