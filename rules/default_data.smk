# Stage 'default_data': the embedded default dataset (issue 4).
# Published files: results/default_data/{system}/{parent,competing_phases,dataset,inference,audit}.extxyz,
# fed to ingest like any user data. Their sources: the shipped data/default/ of the repository
# (default_data.relabel: false; a missing shipped label shard is computed) or everything recomputed under
# results/default_data/{system}/computed/ (relabel: true).
from functools import partial
from pathlib import Path

from qcrobust.default_data.workflow import (
    default_settings,
    label_files,
    source,
)

DEFAULT_DATA = default_settings(
    config.get("default_data", {}), Path(workflow.basedir) / "data" / "default"
)
default_label_files = partial(label_files, DEFAULT_DATA)


wildcard_constraints:
    shard=r"\d{3}",


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
        parent=source(DEFAULT_DATA, "parent.extxyz"),
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
        parent=source(DEFAULT_DATA, "parent.extxyz"),
        decorations=source(DEFAULT_DATA, "decorations.csv"),
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
        parent=source(DEFAULT_DATA, "parent.extxyz"),
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
        parent=source(DEFAULT_DATA, "parent.extxyz"),
        decorations=source(DEFAULT_DATA, "decorations.csv"),
        phases=source(DEFAULT_DATA, "competing_phases.extxyz"),
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
        parent=source(DEFAULT_DATA, "parent.extxyz"),
        decorations=source(DEFAULT_DATA, "decorations.csv"),
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
