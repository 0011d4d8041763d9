"""Rule report_tables: cross-family tables (every system, family and model) and the RMSE box plots."""

from qcrobust import plots
from qcrobust.evaluate import concat_tables
from qcrobust.io import write_csv
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    for name, paths in snakemake.input.items():
        paths = [paths] if isinstance(paths, str) else list(paths)  # one model: snakemake gives a plain string
        table = concat_tables(paths)
        write_csv(table, snakemake.output[name])
        log.info("%s: %d rows from %d tables", name, len(table), len(paths))
        if name == "rmse_all":
            plots.rmse_boxplots(table, snakemake.output.rmse_boxplot)
