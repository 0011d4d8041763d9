"""Rule consensus: on the audit set, are structures selected by most screens right more often than a single screen's?"""

from qcrobust.candidates import audit_on_kept_ids, consensus_precision, screens_from_inputs
from qcrobust.evaluate import read_audit_targets, read_predictions
from qcrobust.io import read_csv, write_csv
from qcrobust.screening import modes_from_config
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    inputs = snakemake.input
    predictions = {key: read_predictions(path) for key, path in screens_from_inputs(dict(inputs.items())).items()}
    equivalents = read_csv(inputs.equivalents, required=["id", "relation", "equivalent_id"], dtype=str)
    audit = audit_on_kept_ids(read_audit_targets(inputs.audit_targets, snakemake.params.target), equivalents)
    result = consensus_precision(predictions, modes_from_config(snakemake.params.modes), audit)
    log.info("\n%s", result.to_string(index=False))
    write_csv(result, snakemake.output.consensus)
