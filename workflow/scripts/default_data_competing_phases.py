"""Rule default_competing_phases: elements, Sc-M binary prototypes and the parent, relaxed with CHGNet."""

from qcrobust.default_data.competing_phases import relaxed_competing_phases
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import read_parent
from qcrobust.io import write_frames
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    phases = relaxed_competing_phases(dopant_of(snakemake.wildcards.system), read_parent(snakemake.input.parent))
    for atoms in phases:
        log.info("%s: %.6f eV/atom", atoms.info["name"], atoms.info["energy"] / len(atoms))
    write_frames(phases, snakemake.output.phases)
