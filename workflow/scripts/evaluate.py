"""Rule evaluate: summary tables of one (system, family, model) across its limits."""

from qcrobust.evaluate import EvaluationSettings, predictions_by_limit, read_test_targets, summarize, write_tables
from qcrobust.scripting import rule_logging

with rule_logging(snakemake):
    tables = summarize(
        system=snakemake.wildcards.system,
        family=snakemake.wildcards.family,
        model=snakemake.wildcards.model,
        predictions=predictions_by_limit(dict(snakemake.input.items())),
        test=read_test_targets(snakemake.input.splits, snakemake.input.targets, snakemake.params.target),
        settings=EvaluationSettings.from_config(snakemake.params.settings),
    )
    write_tables(tables, snakemake.output)
