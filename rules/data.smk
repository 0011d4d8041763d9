# Ingest (the dataset contract), splits and limit subsets.


def ingest_inputs(wildcards):
    spec = system_spec(wildcards.system)
    return {
        "dataset": spec["dataset"],
        "inference": spec["inference"],
        "hull": system_hull_inputs(wildcards.system),
    }


def ingest_audit_inputs(wildcards):
    return {
        "audit": system_spec(wildcards.system)["audit"],
        "hull": system_hull_inputs(wildcards.system),
    }


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        dataset="results/{system}/dataset.extxyz",
        targets="results/{system}/targets.csv",
        inference="results/{system}/inference.extxyz",
    params:
        spec=system_config,
        defect_step=config["defect_step"],
    log:
        "logs/{system}/ingest.log",
    benchmark:
        "benchmarks/{system}/ingest.tsv"
    script:
        "../workflow/scripts/ingest.py"


rule ingest_audit:
    input:
        unpack(ingest_audit_inputs),
    output:
        audit="results/{system}/audit.extxyz",
        audit_targets="results/{system}/audit_targets.csv",
    params:
        spec=system_config,
        defect_step=config["defect_step"],
    log:
        "logs/{system}/ingest_audit.log",
    benchmark:
        "benchmarks/{system}/ingest_audit.tsv"
    script:
        "../workflow/scripts/ingest.py"


rule split:
    input:
        targets="results/{system}/targets.csv",
    output:
        splits="results/{system}/splits.csv",
    params:
        split=config["split"],
    log:
        "logs/{system}/split.log",
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
    params:
        limits=LIMITS,
    log:
        "logs/{system}/limit_sizes.log",
    script:
        "../workflow/scripts/limit_sizes.py"


def data_targets():
    targets = []
    for system in SYSTEMS:
        targets += [f"results/{system}/splits.csv", f"results/{system}/limit_sizes.csv"]
        if has_audit(system):
            targets.append(f"results/{system}/audit_targets.csv")
    return targets


TARGET_FUNCTIONS.append(data_targets)
