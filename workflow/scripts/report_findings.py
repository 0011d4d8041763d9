"""Rule report_findings: each model's stability across the limit grid and the findings page."""

from qcrobust.io import atomic_write_text, read_csv, write_csv
from qcrobust.report import KEY, as_paths, findings_html, read_summaries, stability_table
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    inputs, params = snakemake.input, snakemake.params
    stability = stability_table(
        rmse=read_csv(inputs.rmse, required=KEY + ["limit", "rmse"]),
        recall=read_csv(inputs.recall, required=KEY + ["limit", "recall"]),
        below_hull=read_csv(inputs.below_hull, required=KEY + ["n_screened"]),
        similarity=read_summaries(as_paths(inputs.similarity), index_col=0),
        overlaps=read_summaries(as_paths(inputs.overlaps), required=["limit_i", "limit_j", "n_i", "n_j", "n_common"]),
    )
    log.info("\n%s", stability.to_string(index=False))
    write_csv(stability, snakemake.output.stability)
    atomic_write_text(snakemake.output.findings, findings_html(stability, params.threshold, params.target))
