"""Rule allegro_species: a system's species (the models' type names) and host."""

from qcrobust.allegro.data import write_species
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    write_species(snakemake.input.dataset, snakemake.output.species)
