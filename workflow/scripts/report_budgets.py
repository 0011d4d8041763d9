"""Rule report_budgets: optimizer steps and seconds of every Allegro model beside its test error."""

from qcrobust.io import write_csv
from qcrobust.report import as_paths, budget_table
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    table = budget_table(as_paths(snakemake.input.metrics))
    log.info("\n%s", table.to_string(index=False))
    write_csv(table, snakemake.output.budgets)
