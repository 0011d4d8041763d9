"""Rule default_label_shard: CHGNet labels of one shard of a default system's decorations."""

from qcrobust.default_data.labeler import Protocol, set_single_thread
from qcrobust.default_data.labels import label_shard, read_decorations, write_labels
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import read_parent
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    set_single_thread()
    settings = snakemake.params.settings
    labels = label_shard(
        read_parent(snakemake.input.parent),
        read_decorations(snakemake.input.decorations),
        int(snakemake.wildcards.shard),
        dopant_of(snakemake.wildcards.system),
        Protocol(settings["optimizer"], settings["fmax"], settings["step_cap"]),
    )
    write_labels(labels, snakemake.output.labels)
