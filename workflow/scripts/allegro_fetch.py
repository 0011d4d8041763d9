"""Rule allegro_fetch: the provider's responses for the study's host-dopant pairs (the fetch's cache)."""

from qcrobust.allegro.sources import fetch_responses
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    fetch_responses(snakemake.params.source, snakemake.params.elements, list(snakemake.input.species), snakemake.output.responses)
