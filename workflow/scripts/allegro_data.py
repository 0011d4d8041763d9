"""Rules allegro_data / allegro_self_data: one limit's training files for nequip (target x n_atoms)."""

from qcrobust.allegro.data import write_limit_data
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    write_limit_data(
        snakemake.input.dataset,
        snakemake.input.splits,
        limit=int(snakemake.wildcards.limit),
        target=snakemake.params.target,
        outputs=dict(snakemake.output.items()),
    )
