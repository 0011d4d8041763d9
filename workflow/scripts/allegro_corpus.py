"""Rule allegro_corpus: the default external corpus (host-dopant prototype cells, CHGNet-labeled)."""

from qcrobust.allegro.pipeline import build_corpus_file
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    build_corpus_file(snakemake.params.pretrain, list(snakemake.input.species), snakemake.output.corpus)
