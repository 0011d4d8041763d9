"""Rule allegro_fetched_corpus: the cached responses as the external corpus (extxyz, e_form) and its provenance."""

from qcrobust.allegro.sources import write_fetched_corpus
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    write_fetched_corpus(
        snakemake.input.responses,
        snakemake.params.elements,
        list(snakemake.input.species),
        corpus=snakemake.output.corpus,
        provenance=snakemake.output.provenance,
    )
