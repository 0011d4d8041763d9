"""Rule default_parent: build and relax (cell + positions) a default system's parent approximant."""

from qcrobust.default_data.structures import relaxed_parent, write_parent
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    atoms, checks = relaxed_parent(snakemake.wildcards.system)
    log.info("relaxed parent: %s; %s", checks, atoms.info)
    write_parent(atoms, snakemake.output.parent)
