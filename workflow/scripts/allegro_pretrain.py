"""Rules allegro_pretrain (the external corpus, once) and allegro_self_pretrain (per system and limit)."""

from qcrobust.allegro.pipeline import pretrain_external, pretrain_self
from qcrobust.scripting import rule_logging

with rule_logging(snakemake):
    common = dict(
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        run_dir=snakemake.params.run_dir,
        threads=snakemake.threads,
    )
    if snakemake.rule == "allegro_pretrain":
        pretrain_external(corpus=snakemake.input.corpus, **common)
    else:
        pretrain_self(inputs=dict(snakemake.input.items()), **common)
