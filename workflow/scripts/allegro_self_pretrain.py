"""Rule allegro_self_pretrain: a fresh model on one limit's structures with A5 defects."""

from qcrobust.allegro.pipeline import pretrain_self
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    pretrain_self(
        inputs=dict(snakemake.input.items()),
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        run_dir=snakemake.params.run_dir,
        threads=snakemake.threads,
    )
