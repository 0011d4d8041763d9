"""Rule default_crosscheck: CHGNet vs SevenNet formation energies on a seeded sample of a default system."""

from qcrobust.default_data.crosscheck import crosscheck, crosscheck_sample
from qcrobust.default_data.labeler import set_single_thread
from qcrobust.default_data.labels import read_decorations
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import read_parent
from qcrobust.io import write_json
from qcrobust.tables import write_table
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake) as log:
    set_single_thread()
    system, settings = snakemake.wildcards.system, snakemake.params.settings
    sample = crosscheck_sample(read_decorations(snakemake.input.decorations), settings["crosscheck_size"], settings["seed"], system)
    table, summary = crosscheck(read_parent(snakemake.input.parent), sample, dopant_of(system))
    log.info("CHGNet vs SevenNet: %s", summary)
    write_table(table, snakemake.output.table)
    write_json(summary, snakemake.output.summary)
