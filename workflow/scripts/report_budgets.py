"""Rule report_budgets: optimizer steps and seconds of every Allegro model beside its test error."""

from qcrobust.io import read_csv, write_csv
from qcrobust.report import as_paths, budget_table
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    rmse = read_csv(snakemake.input.rmse, required=["system", "family", "model", "limit", "rmse"], dtype={"system": str, "model": str})
    table = budget_table(as_paths(snakemake.input.metrics), rmse)
    log.info("\n%s", table.to_string(index=False))
    write_csv(table, snakemake.output.budgets)
