"""Rules allegro_data / allegro_self_data (one limit's training files for nequip, target x
n_atoms) and allegro_species (a system's species and host)."""

from qcrobust.allegro.data import write_limit_data, write_species
from qcrobust.scripting import rule_logging

with rule_logging(snakemake):
    if snakemake.rule == "allegro_species":
        write_species(snakemake.input.dataset, snakemake.output.species)
    else:
        write_limit_data(
            snakemake.input.dataset,
            snakemake.input.splits,
            limit=int(snakemake.wildcards.limit),
            target=snakemake.params.target,
            outputs=dict(snakemake.output.items()),
        )
