"""Rules ingest / ingest_audit: check a system's files against the dataset contract, write normalized copies."""

from qcrobust.dataset import ingest_system
from qcrobust.scripting import rule_logging

with rule_logging(snakemake):
    ingest_system(
        snakemake.wildcards.system,
        snakemake.params.spec,
        defect_step=snakemake.params.defect_step,
        outputs=dict(snakemake.output.items()),
    )
