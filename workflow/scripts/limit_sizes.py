"""Rule limit_sizes: how many train/val/test structures each limit subset has, and whether the
configured models find what they need in it."""

from qcrobust.splits import limit_sizes
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    splits = read_table(snakemake.input.splits)
    sizes = limit_sizes(splits, snakemake.params.limits, source=snakemake.params.dataset, requirements=snakemake.params.requirements)
    log.info("\n%s", sizes.to_string(index=False))
    write_table(sizes, snakemake.output.sizes)
