"""Rule allegro_train: one (system, model, limit) trained and packaged (self at limit 0: scratch's, copied)."""

from qcrobust.allegro.pipeline import reuse_model, run_model
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    wildcards = snakemake.wildcards
    inputs, outputs = dict(snakemake.input.items()), dict(snakemake.output.items())
    if "reuse_model" in inputs:
        reuse_model(inputs=inputs, outputs=outputs, model=wildcards.model, limit=int(wildcards.limit))
    else:
        run_model(
            settings=snakemake.params.settings,
            model=wildcards.model,
            system=wildcards.system,
            limit=int(wildcards.limit),
            target=snakemake.params.target,
            inputs=inputs,
            outputs=outputs,
            run_dir=snakemake.params.run_dir,
            threads=snakemake.threads,
        )
