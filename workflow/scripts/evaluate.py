"""Rule evaluate: summary tables of one (system, family, model) across its limits."""

from qcrobust.evaluate import EvaluationSettings, predictions_by_limit, read_test_targets, summarize, write_tables
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    inputs = snakemake.input
    tables = summarize(
        system=snakemake.wildcards.system,
        family=snakemake.wildcards.family,
        model=snakemake.wildcards.model,
        predictions=predictions_by_limit({"test": inputs.test, "inference": inputs.inference}, snakemake.params.seed),
        test=read_test_targets(inputs.splits, inputs.targets, snakemake.params.target),
        settings=EvaluationSettings.from_config(snakemake.params.settings),
    )
    write_tables(tables, snakemake.output)
