"""Rule consensus: on the audit set, are structures selected by most screens right more often than a single screen's?"""

from qcrobust.candidates import audit_on_kept_ids, consensus_precision
from qcrobust.evaluate import read_audit_targets
from qcrobust.screening import modes_from_config
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.report import screen_predictions
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    inputs = snakemake.input
    predictions = screen_predictions(dict(inputs.items()))
    equivalents = read_table(inputs.equivalents)
    audit = audit_on_kept_ids(read_audit_targets(inputs.audit_targets, snakemake.params.target), equivalents)
    result = consensus_precision(predictions, modes_from_config(snakemake.params.modes), audit)
    log.info("\n%s", result.to_string(index=False))
    write_table(result, snakemake.output.consensus)
