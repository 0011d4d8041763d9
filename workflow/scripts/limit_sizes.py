"""Rule limit_sizes: how many train/val/test structures each limit subset has, and whether the
configured models find what they need in it."""

from qcrobust.io import read_csv, write_csv
from qcrobust.scripting import rule_logging
from qcrobust.splits import limit_sizes

with rule_logging(snakemake) as log:
    splits = read_csv(snakemake.input.splits, required=["id", "n_A5_defects", "split"], dtype={"id": str})
    sizes = limit_sizes(splits, snakemake.params.limits, source=snakemake.params.dataset, requirements=snakemake.params.requirements)
    log.info("\n%s", sizes.to_string(index=False))
    write_csv(sizes, snakemake.output.sizes)
