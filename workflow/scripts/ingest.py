"""Rules ingest / ingest_inference: check one structure set of a system against the dataset
contract, write its normalized copy (and target table, if labeled) and what became of each frame."""

from qcrobust.dataset import ingest_set
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    ingest_set(
        snakemake.wildcards.system,
        snakemake.params.spec,
        snakemake.wildcards.set,
        defect_step=snakemake.params.defect_step,
        structures=snakemake.output.structures,
        equivalents=snakemake.output.equivalents,
        targets=snakemake.output.get("targets"),
        labeled_structures=snakemake.input.get("labeled_structures"),
        site_tolerance=snakemake.params.site_tolerance,
    )
