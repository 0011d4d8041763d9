"""Rules predict and predict_audit: every saved model of one (system, family, model) predicts its sets."""

from qcrobust.predict import predict_models, write_predictions
from qcrobust.workflow.predict import decode_inputs
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    w = snakemake.wildcards
    models, sets = decode_inputs(dict(snakemake.input.items()))
    tables = predict_models(w.family, models, sets, device=snakemake.params.device, threads=snakemake.threads)
    for set_name, table in tables.items():
        log.info("%s %s/%s: %d models, %d %s predictions", w.system, w.family, w.model, len(models), len(table), set_name)
        write_predictions(table, snakemake.output[set_name])
