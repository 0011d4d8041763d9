"""Rule noise: one model's limit effect against its retraining noise (tables and heatmaps)."""

from qcrobust import plots
from qcrobust.evaluate import EvaluationSettings, read_test_targets, replica_predictions
from qcrobust.replicas import noise_table, replica_scores, seed_spread
from qcrobust.tables import write_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    w = snakemake.wildcards
    settings = EvaluationSettings.from_config(snakemake.params.settings)
    inputs = snakemake.input
    verdicts = snakemake.params.verdicts
    predictions = replica_predictions({"test": inputs.test, "inference": inputs.inference}, snakemake.params.limits)
    truth = read_test_targets(inputs.splits, inputs.targets, snakemake.params.target)
    limits = sorted({limit for limit, _ in predictions})
    common = dict(
        normalizer=settings.normalizer, warn_below=settings.warn_below, key={"system": w.system, "family": w.family, "model": w.model}
    )
    tables = {
        "noise": noise_table(predictions, truth, settings.modes, limits, alpha=verdicts["alpha"], pairs=verdicts["pairs"], **common),
        "seed_spread": seed_spread(predictions, truth, settings.modes, limits, **common),
        "replica_scores": replica_scores(predictions, truth, limits, **common),
    }
    for name, table in tables.items():
        write_table(table, snakemake.output[name])
    noise, spread = tables["noise"], tables["seed_spread"]
    title = f"{w.system} - {w.family} / {w.model}"
    plots.noise_heatmap(noise, spread, snakemake.output.noise_rmse, "rmse", title=f"{title}: test RMSE")
    plots.noise_heatmap(noise, spread, snakemake.output.noise_similarity, "similarity", title=f"{title}: SimilarityScore")
    for mode in settings.modes:
        plots.noise_heatmap(
            noise,
            spread,
            snakemake.output[f"noise_jaccard_{mode.name}"],
            "jaccard",
            mode.name,
            title=f"{title}: Jaccard of the screens ({mode.name})",
        )
    log.info("%s: %d limit pairs x quantities, %d beyond noise", title, len(noise), int((noise["verdict"] == "beyond noise").sum()))
