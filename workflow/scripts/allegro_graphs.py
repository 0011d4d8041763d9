"""Rule allegro_graphs: a system's inference structures with their neighbour lists, once for every model."""

from qcrobust.allegro.pipeline import write_inference_graphs
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    facts = write_inference_graphs(r_max=snakemake.params.r_max, frames=snakemake.input.frames, output=snakemake.output.graphs)
    log.info("%s", facts)
