# Stage 'features' (issue 5): descriptor tables of the classical family, one rule per system for all of
# its structure files (they share one column set). See src/qcrobust/features.py.
from functools import partial

from qcrobust import features as descriptors
from qcrobust.evaluate import system_regex


rule features:
    input:
        unpack(partial(descriptors.feature_inputs, config)),
    output:
        dataset="results/{system}/features/dataset.parquet",
        inference="results/{system}/features/inference.parquet",
    log:
        "logs/{system}/features.log",
    benchmark:
        "benchmarks/{system}/features.tsv"
    wildcard_constraints:
        # systems without an audit set (features_audit below takes the others)
        system=system_regex(config, audit=False),
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        settings=config["features"],
    script:
        "../workflow/scripts/features.py"


use rule features as features_audit with:
    output:
        dataset="results/{system}/features/dataset.parquet",
        inference="results/{system}/features/inference.parquet",
        audit="results/{system}/features/audit.parquet",
    wildcard_constraints:
        system=system_regex(config, audit=True),
