"""Rule report_noise: every model's noise table, the per-model summary and the paper's findings
against the retraining noise (holds / fails / within retraining noise / undetermined)."""

import pandas as pd

from qcrobust.findings_vs_noise import finding_verdicts, settings_from_config
from qcrobust.replicas import noise_summary
from qcrobust.tables import read_table, write_table
from qcrobust.workflow.scripting import as_paths, rule_logging

with rule_logging(snakemake) as log:
    noise = pd.concat([read_table(p) for p in as_paths(snakemake.input.noise)], ignore_index=True)
    scores = pd.concat([read_table(p) for p in as_paths(snakemake.input.scores)], ignore_index=True)
    for column in ("mode", "note"):
        noise[column] = noise[column].fillna("")
    findings = finding_verdicts(noise, scores, **settings_from_config(snakemake.params.verdicts))
    write_table(noise, snakemake.output.noise_all)
    write_table(noise_summary(noise), snakemake.output.noise_summary)
    write_table(findings, snakemake.output.findings_noise)
    log.info("findings against the noise:\n%s", findings[["system", "family", "model", "finding", "verdict"]].to_string(index=False))
