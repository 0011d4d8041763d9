"""Rule split: the one train/val/test split of a system, reused by every limit."""

from qcrobust.io import read_csv, write_csv
from qcrobust.scripting import rule_logging
from qcrobust.splits import make_splits

with rule_logging(snakemake) as log:
    params = snakemake.params.split
    splits = make_splits(
        read_csv(snakemake.input.targets, required=["id", "n_A5_defects"], dtype={"id": str}),
        test_size=params["test_size"],
        val_fraction=params["val_fraction"],
        seed=params["seed"],
        source=snakemake.params.dataset,
    )
    log.info("split sizes: %s", splits["split"].value_counts().to_dict())
    write_csv(splits, snakemake.output.splits)
