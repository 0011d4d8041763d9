"""Rule default_decorations: the decorations table (labeled, extra limit-0, inference + audit, shards)."""

from qcrobust.default_data.decorations import build_decorations
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import read_parent
from qcrobust.tables import write_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    system, settings = snakemake.wildcards.system, snakemake.params.settings
    table = build_decorations(
        system,
        dopant_of(system),
        read_parent(snakemake.input.parent),
        seed=settings["seed"],
        audit_size=settings["audit_size"],
        shard_size=settings["shard_size"],
    )
    log.info("decorations per kind: %s", table["kind"].value_counts().to_dict())
    write_table(table, snakemake.output.decorations)
