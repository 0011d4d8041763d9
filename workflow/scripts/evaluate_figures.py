"""Rule evaluate_figures: the figures of one (system, family, model) from its summary tables (screening ones per mode)."""

from qcrobust import plots
from qcrobust.tables import read_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    w = snakemake.wildcards
    rmse = read_table(snakemake.input.rmse_by_limit)
    plots.rmse_vs_limit(rmse, snakemake.output.rmse_vs_limit)
    plots.similarity_heatmap(
        read_table(snakemake.input.similarity),
        snakemake.output.similarity,
        f"{w.system} - {w.family} / {w.model}: SimilarityScore (test)",
        plots.normalizer_text(rmse),
    )
    screening = read_table(snakemake.input.screening_vs_max_limit)
    overlaps = read_table(snakemake.input.overlaps)
    for mode in snakemake.params.modes:
        plots.screening_vs_limit(screening[screening["mode"] == mode], snakemake.output[f"screening_vs_limit_{mode}"])
        plots.overlap_heatmap(overlaps[overlaps["mode"] == mode], snakemake.output[f"overlaps_{mode}"])
