"""Rule report_findings: each model's stability across the limits every family shares, and the findings page."""

from qcrobust.io import atomic_write_text
from qcrobust.report.findings_page import findings_html, result_warnings
from qcrobust.report.stability import stability_table
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.report import read_summaries
from qcrobust.workflow.scripting import as_paths, rule_logging

with rule_logging(snakemake) as log:
    inputs, params = snakemake.input, snakemake.params
    stability = stability_table(
        rmse=read_table(inputs.rmse),
        screening=read_table(inputs.screening),
        similarity=read_summaries(as_paths(inputs.similarity), index_col=0),
        overlaps=read_summaries(as_paths(inputs.overlaps), required=["limit_i", "limit_j", "n_i", "n_j", "n_common"]),
        limits=params.shared_limits,
    )
    log.info("\n%s", stability.to_string(index=False))
    write_table(stability, snakemake.output.stability)
    extra = [params.external_note] if params.external_note else []
    noise = read_table(inputs.noise_findings) if "noise_findings" in inputs.keys() else None
    screening = read_table(inputs.screening)
    sizes = {system: read_table(path) for system, path in zip(params.systems, as_paths(inputs.limit_sizes), strict=True)}
    warnings = list(params.warnings) + result_warnings(screening, sizes, params.allegro_limits, params.select_min_val)
    for warning in warnings:
        log.warning("%s", warning)
    atomic_write_text(
        snakemake.output.findings, findings_html(stability, params.target, params.notes, params.modes, extra, noise, warnings)
    )
