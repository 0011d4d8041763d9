"""Rule report_noise: every model's noise table, the per-model summary and the paper's findings
against the retraining noise (holds / fails / within retraining noise / undetermined)."""

import pandas as pd

from qcrobust.io import read_csv, write_csv
from qcrobust.replicas import finding_verdicts, noise_summary
from qcrobust.report import as_paths
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    text = {"system": str, "family": str, "model": str, "mode": str, "note": str}
    noise = pd.concat([read_csv(p, dtype=text) for p in as_paths(snakemake.input.noise)], ignore_index=True)
    scores = pd.concat([read_csv(p, dtype=text) for p in as_paths(snakemake.input.scores)], ignore_index=True)
    for column in ("mode", "note"):
        noise[column] = noise[column].fillna("")
    findings = finding_verdicts(noise, scores)
    write_csv(noise, snakemake.output.noise_all)
    write_csv(noise_summary(noise), snakemake.output.noise_summary)
    write_csv(findings, snakemake.output.findings_noise)
    log.info("findings against the noise:\n%s", findings[["system", "family", "model", "finding", "verdict"]].to_string(index=False))
