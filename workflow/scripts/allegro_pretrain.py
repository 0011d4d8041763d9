"""Rule allegro_pretrain: the model pretrained on the external corpus (once per study)."""

from qcrobust.allegro.pipeline import pretrain_external
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    pretrain_external(
        corpus=snakemake.input.corpus,
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        run_dir=snakemake.params.run_dir,
        threads=snakemake.threads,
    )
