# Stage 'default_data': the embedded default dataset (issue 4).
# Published files: results/default_data/{system}/{parent,competing_phases,dataset,inference,audit}.extxyz,
# fed to ingest like any user data. Their sources: the shipped data/default/ (default_data.relabel:
# false; a missing shipped label shard is computed) or everything recomputed under
# results/default_data/{system}/computed/ (relabel: true).
from pathlib import Path

from qcrobust.default_data.workflow import default_settings, label_shard_count

DEFAULT_DATA = default_settings(config.get("default_data", {}), Path("data/default"))


wildcard_constraints:
    shard=r"\d{3}",


def default_source(name):
    """Input function: a file of the default data, shipped or (relabel: true) recomputed."""

    def source(wildcards):
        if DEFAULT_DATA["relabel"]:
            return f"results/default_data/{wildcards.system}/computed/{name}"
        return f"data/default/{wildcards.system}/{name}"

    return source


def default_label_files(wildcards):
    """Every label shard of a system: the shipped one where present, else the computed one."""
    system = wildcards.system
    files = []
    for shard in range(label_shard_count(system, DEFAULT_DATA, Path("data/default"))):
        shipped = f"data/default/{system}/labels/shard_{shard:03d}.csv"
        computed = f"results/default_data/{system}/computed/labels/shard_{shard:03d}.csv"
        files.append(shipped if not DEFAULT_DATA["relabel"] and Path(shipped).exists() else computed)
    return files


rule default_parent:
    output:
        parent="results/default_data/{system}/computed/parent.extxyz",
    log:
        "logs/default_data/{system}/parent.log",
    benchmark:
        "benchmarks/default_data/{system}/parent.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    script:
        "../workflow/scripts/default_data_parent.py"


rule default_decorations:
    input:
        parent=default_source("parent.extxyz"),
    output:
        decorations="results/default_data/{system}/computed/decorations.csv",
    log:
        "logs/default_data/{system}/decorations.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        settings=DEFAULT_DATA,
    script:
        "../workflow/scripts/default_data_decorations.py"


rule default_label_shard:
    input:
        parent=default_source("parent.extxyz"),
        decorations=default_source("decorations.csv"),
    output:
        labels="results/default_data/{system}/computed/labels/shard_{shard}.csv",
    log:
        "logs/default_data/{system}/label_shard_{shard}.log",
    benchmark:
        "benchmarks/default_data/{system}/label_shard_{shard}.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    resources:
        runtime=60,
    params:
        settings=DEFAULT_DATA,
    script:
        "../workflow/scripts/default_data_label.py"


rule default_competing_phases:
    input:
        parent=default_source("parent.extxyz"),
    output:
        phases="results/default_data/{system}/computed/competing_phases.extxyz",
    log:
        "logs/default_data/{system}/competing_phases.log",
    benchmark:
        "benchmarks/default_data/{system}/competing_phases.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    script:
        "../workflow/scripts/default_data_competing_phases.py"


rule default_assemble:
    input:
        parent=default_source("parent.extxyz"),
        decorations=default_source("decorations.csv"),
        phases=default_source("competing_phases.extxyz"),
        labels=default_label_files,
    output:
        parent="results/default_data/{system}/parent.extxyz",
        phases="results/default_data/{system}/competing_phases.extxyz",
        dataset="results/default_data/{system}/dataset.extxyz",
        inference="results/default_data/{system}/inference.extxyz",
        audit="results/default_data/{system}/audit.extxyz",
    log:
        "logs/default_data/{system}/assemble.log",
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/default_data_assemble.py"


# On request only (needs the 'sevenn' package): snakemake results/default_data/ScPt/crosscheck.json
rule default_crosscheck:
    input:
        parent=default_source("parent.extxyz"),
        decorations=default_source("decorations.csv"),
    output:
        table="results/default_data/{system}/crosscheck.csv",
        summary="results/default_data/{system}/crosscheck.json",
    log:
        "logs/default_data/{system}/crosscheck.log",
    benchmark:
        "benchmarks/default_data/{system}/crosscheck.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        settings=DEFAULT_DATA,
    script:
        "../workflow/scripts/default_data_crosscheck.py"


def hull_histogram_inputs(wildcards):
    inputs = {"dataset": f"results/{wildcards.system}/targets.csv"}
    if has_audit(wildcards.system):
        inputs["audit"] = f"results/{wildcards.system}/audit_targets.csv"
    return inputs


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
        "../workflow/scripts/default_data_hull.py"


def hull_histogram_targets():
    return [f"results/{system}/hull/hull_stats.json" for system in SYSTEMS]


TARGET_FUNCTIONS.append(hull_histogram_targets)
