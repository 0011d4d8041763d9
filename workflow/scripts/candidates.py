"""Rule candidates: every inference structure with the share of screens (model, limit, seed, per mode) that select it,
and the structures the labeled dataset already holds, with their known label."""

from qcrobust import plots
from qcrobust.candidates import audit_on_kept_ids, candidate_table, known_structures, merged_ids
from qcrobust.evaluate import read_audit_targets
from qcrobust.screening import modes_from_config
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.report import screen_predictions
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    params, inputs = snakemake.params, snakemake.input
    predictions = screen_predictions(dict(inputs.items()))
    equivalents = read_table(inputs.equivalents)
    known = known_structures(equivalents, read_table(inputs.targets), read_table(inputs.splits), params.target)
    audit = None
    if "audit_targets" in inputs.keys():
        audit = audit_on_kept_ids(read_audit_targets(inputs.audit_targets, params.target), equivalents)
    table = candidate_table(
        predictions,
        modes_from_config(params.modes),
        audit,
        known,
        merged_ids(equivalents),
        rank_by=params.ranking["rank_by"],
        lcb_k=params.ranking["lcb_k"],
    )
    top = table[table["rank"] <= 10]
    log.info(
        "%d screens, %d structures already labeled (listed, not screened); top 10 per mode:\n%s",
        len(predictions),
        len(known),
        top.to_string(index=False),
    )
    write_table(table, snakemake.output.candidates)
    plots.candidate_shares(
        table[table["status"] == "screened"],
        snakemake.output.figure,
        params.target,
        f"{snakemake.wildcards.system}: robust candidates ({len(predictions)} screens per mode)",
    )
