"""Rule report_tables: cross-family tables (every system, family and model) and the RMSE box plots."""

from qcrobust import plots
from qcrobust.evaluate import REPORT_TABLES, TABLE_SCHEMAS, concat_tables, write_tables
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    tables = {}
    for name in REPORT_TABLES:
        paths = snakemake.input[name]
        paths = [paths] if isinstance(paths, str) else list(paths)  # one model: snakemake gives a plain string
        tables[name] = concat_tables(paths)
        log.info("%s: %d rows from %d tables", name, len(tables[name]), len(paths))
    write_tables(tables, snakemake.output, {name: TABLE_SCHEMAS[table] for name, table in REPORT_TABLES.items()})
    # the boxes compare families, so only over the limits every family trained on
    plots.rmse_boxplots(tables["rmse_all"], snakemake.output.rmse_boxplot, snakemake.params.shared_limits)
