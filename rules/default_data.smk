# Stage 'default_data': the embedded default dataset (issue 4).
# Published files: results/default_data/{system}/{parent,competing_phases,dataset,inference,audit}.extxyz,
# fed to ingest like any user data. Their sources: the shipped data/default/ of the repository
# (default_data.relabel: false; a missing shipped label shard is computed) or everything recomputed under
# results/default_data/{system}/computed/ (relabel: true).
from functools import partial
from pathlib import Path

from qcrobust import layout as L
from qcrobust.workflow.default_data import (
    default_settings,
    label_files,
    source,
)

DEFAULT_DATA = default_settings(
    config["default_data"], Path(workflow.basedir) / "data" / "default"
)
default_label_files = partial(label_files, DEFAULT_DATA)


wildcard_constraints:
    shard=r"\d{3}",


rule default_parent:
    output:
        parent=L.path(L.DEFAULT_COMPUTED, name="parent.extxyz"),
    log:
        L.log("default_data/{system}/parent"),
    benchmark:
        L.benchmark("default_data/{system}/parent")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    script:
        "../workflow/scripts/default_data_parent.py"


rule default_decorations:
    input:
        parent=source(DEFAULT_DATA, "parent.extxyz"),
    output:
        decorations=L.path(L.DEFAULT_COMPUTED, name="decorations.csv"),
    log:
        L.log("default_data/{system}/decorations"),
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
        labels=L.path(L.DEFAULT_COMPUTED, name=L.DEFAULT_LABEL_SHARD),
    log:
        L.log("default_data/{system}/label_shard_{shard}"),
    benchmark:
        L.benchmark("default_data/{system}/label_shard_{shard}")
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
        phases=L.path(L.DEFAULT_COMPUTED, name="competing_phases.extxyz"),
    log:
        L.log("default_data/{system}/competing_phases"),
    benchmark:
        L.benchmark("default_data/{system}/competing_phases")
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
        parent=L.path(L.DEFAULT_DATA, name="parent.extxyz"),
        phases=L.path(L.DEFAULT_DATA, name="competing_phases.extxyz"),
        dataset=L.path(L.DEFAULT_DATA, name="dataset.extxyz"),
        inference=L.path(L.DEFAULT_DATA, name="inference.extxyz"),
        audit=L.path(L.DEFAULT_DATA, name="audit.extxyz"),
    log:
        L.log("default_data/{system}/assemble"),
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
        table=L.path(L.DEFAULT_DATA, name="crosscheck.csv"),
        summary=L.path(L.DEFAULT_DATA, name="crosscheck.json"),
    log:
        L.log("default_data/{system}/crosscheck"),
    benchmark:
        L.benchmark("default_data/{system}/crosscheck")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        settings=DEFAULT_DATA,
    script:
        "../workflow/scripts/default_data_crosscheck.py"
