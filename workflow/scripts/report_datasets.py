"""Rule report_datasets: one row per system (sizes, splits, target statistics) for the report."""

from qcrobust.report.datasets import dataset_table
from qcrobust.tables import write_table
from qcrobust.workflow.scripting import as_paths, rule_logging

with rule_logging(snakemake) as log:
    params = snakemake.params
    inputs = {name: as_paths(snakemake.input[name]) for name in snakemake.input.keys()}
    table = dataset_table(params.systems, inputs, params.audit_systems, params.target)
    log.info("\n%s", table.to_string(index=False))
    write_table(table, snakemake.output.datasets)
