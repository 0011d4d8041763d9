"""Rule hull_histogram: E_above_hull histogram and below-hull counts of a system (paper Fig. 2)."""

from qcrobust.hull_stats import hull_summary, plot_hull_histogram
from qcrobust.io import write_json
from qcrobust.tables import read_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    tables = {name: read_table(path) for name, path in snakemake.input.items()}
    summary = {name: hull_summary(table) for name, table in tables.items()}
    log.info("hull statistics: %s", summary)
    write_json(summary, snakemake.output.stats)
    plot_hull_histogram(tables, snakemake.wildcards.system, snakemake.output.figure)
