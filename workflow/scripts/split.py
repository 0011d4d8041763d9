"""Rule split: the one train/val/test split of a system, reused by every limit."""

from qcrobust.splits import make_splits
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    params = snakemake.params.split
    splits = make_splits(
        read_table(snakemake.input.targets),
        test_size=params["test_size"],
        val_fraction=params["val_fraction"],
        seed=params["seed"],
        source=snakemake.params.dataset,
    )
    log.info("split sizes: %s", splits["split"].value_counts().to_dict())
    write_table(splits, snakemake.output.splits)
