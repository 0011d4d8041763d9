"""Rule evaluate_figures: the figures of one (system, family, model) from its summary tables."""

from qcrobust import plots
from qcrobust.io import read_csv
from qcrobust.scripting import rule_logging

with rule_logging(snakemake):
    w = snakemake.wildcards
    rmse = read_csv(snakemake.input.rmse_by_limit)
    plots.rmse_vs_limit(rmse, snakemake.output.rmse_vs_limit)
    plots.similarity_heatmap(read_csv(snakemake.input.similarity), snakemake.output.similarity,
                             f"{w.system} - {w.family} / {w.model}: SimilarityScore (test)", plots.normalizer_text(rmse))
    plots.screening_vs_limit(read_csv(snakemake.input.screening_vs_max_limit), snakemake.output.screening_vs_limit)
    plots.overlap_heatmap(read_csv(snakemake.input.overlaps), snakemake.output.overlaps)
