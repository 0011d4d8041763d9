"""Rule audit_figures: cumulative precision and recall on the audit set, per screening mode."""

from qcrobust import plots
from qcrobust.io import read_csv
from qcrobust.scripting import rule_logging

with rule_logging(snakemake):
    table = read_csv(snakemake.input.audit_cumulative, required=["mode", "limit", "k", "precision", "recall"], dtype={"mode": str})
    for mode in snakemake.params.modes:
        plots.audit_cumulative(table[table["mode"] == mode], snakemake.output[f"audit_cumulative_{mode}"])
