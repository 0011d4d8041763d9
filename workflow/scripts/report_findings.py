"""Rule report_findings: each model's stability across the limits every family shares, and the findings page."""

from qcrobust.io import atomic_write_text, read_csv, write_csv
from qcrobust.report import KEY, as_paths, findings_html, read_summaries, result_warnings, stability_table
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    inputs, params = snakemake.input, snakemake.params
    stability = stability_table(
        rmse=read_csv(inputs.rmse, required=KEY + ["limit", "rmse"]),
        screening=read_csv(inputs.screening, required=KEY + ["limit", "reference_limit", "n_screened", "share_selected"]),
        similarity=read_summaries(as_paths(inputs.similarity), index_col=0),
        overlaps=read_summaries(as_paths(inputs.overlaps), required=["limit_i", "limit_j", "n_i", "n_j", "n_common"]),
        limits=params.shared_limits,
    )
    log.info("\n%s", stability.to_string(index=False))
    write_csv(stability, snakemake.output.stability)
    extra = [params.external_note] if params.external_note else []
    noise = read_csv(inputs.noise_findings, dtype={"system": str, "mode": str}) if "noise_findings" in inputs.keys() else None
    screening = read_csv(inputs.screening, required=KEY + ["mode", "limit", "n_selected"], dtype={"system": str, "mode": str})
    sizes = {
        system: read_csv(path, required=["limit", "n_val"])
        for system, path in zip(params.systems, as_paths(inputs.limit_sizes), strict=True)
    }
    warnings = list(params.warnings) + result_warnings(screening, sizes, params.allegro_limits, params.select_min_val)
    for warning in warnings:
        log.warning("%s", warning)
    atomic_write_text(
        snakemake.output.findings, findings_html(stability, params.target, params.notes, params.modes, extra, noise, warnings)
    )
