"""Rule audit_figures: cumulative precision and recall on the audit set, per screening mode."""

from qcrobust import plots
from qcrobust.tables import read_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    table = read_table(snakemake.input.audit_cumulative)
    for mode in snakemake.params.modes:
        plots.audit_cumulative(table[table["mode"] == mode], snakemake.output[f"audit_cumulative_{mode}"])
