"""Rule candidates: every inference structure with the share of screens (model, limit, seed, per mode) that select it."""

from qcrobust import plots
from qcrobust.candidates import candidate_table, screens_from_inputs
from qcrobust.evaluate import read_audit_targets, read_predictions
from qcrobust.io import write_csv
from qcrobust.scripting import rule_logging
from qcrobust.screening import modes_from_config

with rule_logging(snakemake) as log:
    screens = screens_from_inputs(dict(snakemake.input.items()))
    predictions = {key: read_predictions(path) for key, path in screens.items()}
    audit = None
    if "audit_targets" in snakemake.input.keys():
        audit = read_audit_targets(snakemake.input.audit_targets, snakemake.params.target)
    table = candidate_table(predictions, modes_from_config(snakemake.params.modes), audit)
    top = table[table["rank"] <= 10]
    log.info("%d screens; top 10 per mode:\n%s", len(screens), top.to_string(index=False))
    write_csv(table, snakemake.output.candidates)
    plots.candidate_shares(table, snakemake.output.figure, snakemake.params.target,
                           f"{snakemake.wildcards.system}: robust candidates ({len(screens)} screens per mode)")
