# Ingest (the dataset contract), splits and limit subsets.
from qcrobust.splits import limit_requirements


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        dataset="results/{system}/dataset.extxyz",
        targets="results/{system}/targets.csv",
        inference="results/{system}/inference.extxyz",
    log:
        "logs/{system}/ingest.log",
    benchmark:
        "benchmarks/{system}/ingest.tsv"
    conda:
        "../envs/qcrobust.yaml"
    params:
        spec=system_config,
        defect_step=config["defect_step"],
    script:
        "../workflow/scripts/ingest.py"


rule ingest_audit:
    input:
        unpack(ingest_audit_inputs),
    output:
        audit="results/{system}/audit.extxyz",
        audit_targets="results/{system}/audit_targets.csv",
    log:
        "logs/{system}/ingest_audit.log",
    benchmark:
        "benchmarks/{system}/ingest_audit.tsv"
    conda:
        "../envs/qcrobust.yaml"
    params:
        spec=system_config,
        defect_step=config["defect_step"],
    script:
        "../workflow/scripts/ingest.py"


rule split:
    input:
        targets="results/{system}/targets.csv",
    output:
        splits="results/{system}/splits.csv",
    log:
        "logs/{system}/split.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        split=config["split"],
        dataset=dataset_file,
    script:
        "../workflow/scripts/split.py"


rule limit_sizes:
    input:
        splits="results/{system}/splits.csv",
    output:
        sizes=report(
            "results/{system}/limit_sizes.csv",
            caption="../workflow/report/limit_sizes.rst",
            category="Data",
            subcategory="{system}",
        ),
    log:
        "logs/{system}/limit_sizes.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        limits=LIMITS,
        # checked here, before any model trains (training rules wait for this file)
        requirements=limit_requirements(config),
        dataset=dataset_file,
    script:
        "../workflow/scripts/limit_sizes.py"


rule hull_histogram:
    input:
        unpack(hull_histogram_inputs),
    output:
        stats="results/{system}/hull/hull_stats.json",
        figure=report(
            "results/{system}/hull/hull_histogram.png",
            caption="../workflow/report/hull_histogram.rst",
            category="Data",
            subcategory="{system}",
        ),
    log:
        "logs/{system}/hull_histogram.log",
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/hull_histogram.py"
