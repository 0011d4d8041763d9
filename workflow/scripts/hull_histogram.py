"""Rule hull_histogram: E_above_hull histogram and below-hull counts of a system (paper Fig. 2)."""

from qcrobust.hull_stats import hull_summary, plot_hull_histogram
from qcrobust.io import read_csv, write_json
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    columns = ["id", "n_A5_defects", "e_above_hull"]
    tables = {name: read_csv(path, required=columns, dtype={"id": str}) for name, path in snakemake.input.items()}
    summary = {name: hull_summary(table) for name, table in tables.items()}
    log.info("hull statistics: %s", summary)
    write_json(summary, snakemake.output.stats)
    plot_hull_histogram(tables, snakemake.wildcards.system, snakemake.output.figure)
