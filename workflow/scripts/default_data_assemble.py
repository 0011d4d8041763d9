"""Rule default_assemble: publish a default system as dataset/inference/audit extxyz (the dataset contract)."""

import shutil

from qcrobust.default_data.assemble import assemble
from qcrobust.default_data.labels import read_decorations, read_labels
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import read_parent
from qcrobust.io import atomic_path, write_frames
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    system = snakemake.wildcards.system
    table = read_decorations(snakemake.input.decorations)
    labels = read_labels(snakemake.input.labels, table)
    frames = assemble(read_parent(snakemake.input.parent), table, labels, system, dopant_of(system), snakemake.input.decorations)
    for name, part in frames.items():
        log.info("%s: %d frames", name, len(part))
        write_frames(part, snakemake.output[name])
    for name in ("parent", "phases"):
        with atomic_path(snakemake.output[name]) as tmp:
            shutil.copyfile(snakemake.input[name], tmp)
