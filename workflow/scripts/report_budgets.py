"""Rule report_budgets: optimizer steps and seconds of every Allegro model beside its test error."""

from qcrobust.report.budgets import budget_table
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.scripting import as_paths, rule_logging

with rule_logging(snakemake) as log:
    rmse = read_table(snakemake.input.rmse)
    table = budget_table(as_paths(snakemake.input.metrics), rmse)
    log.info("\n%s", table.to_string(index=False))
    write_table(table, snakemake.output.budgets)
