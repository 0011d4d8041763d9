"""Rule evaluate_audit: the screens of one (system, family, model) judged on the labeled audit set."""

from qcrobust.evaluate import EvaluationSettings, predictions_by_limit, read_audit_targets, summarize_audit, write_tables
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    tables = summarize_audit(
        system=snakemake.wildcards.system,
        family=snakemake.wildcards.family,
        model=snakemake.wildcards.model,
        predictions=predictions_by_limit({"audit": snakemake.input.audit}, snakemake.params.seed),
        audit=read_audit_targets(snakemake.input.audit_targets, snakemake.params.target),
        modes=EvaluationSettings.from_config(snakemake.params.settings).modes,
    )
    write_tables(tables, snakemake.output)
