# Ingest (the dataset contract), splits and limit subsets.
# Rules with `group:` are short jobs: a cluster run submits several of them at once (the Slurm
# profiles' group-components); a local run ignores groups.
from functools import partial

from qcrobust import layout as L
from qcrobust.dataset import LABELED_SETS
from qcrobust.splits import limit_requirements
from qcrobust.workflow import data as data_stage
from qcrobust.workflow import study_of

STUDY = study_of(config)


# The labeled sets (dataset, audit): normalized structures and their target table.
rule ingest:
    input:
        unpack(partial(data_stage.ingest_inputs, STUDY)),
    output:
        structures=L.STRUCTURES,
        targets=L.TARGETS,
        equivalents=L.EQUIVALENTS,
    log:
        L.log("{system}/ingest_{set}"),
    benchmark:
        L.benchmark("{system}/ingest_{set}")
    wildcard_constraints:
        set="|".join(LABELED_SETS),
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    params:
        spec=partial(data_stage.system_spec, STUDY),
        defect_step=config["defect_step"],
        site_tolerance=config["features"]["site_tolerance"],
    script:
        "../workflow/scripts/ingest.py"


# The structures to screen (unlabeled), less those the labeled dataset already holds.
rule ingest_inference:
    input:
        unpack(partial(data_stage.ingest_inputs, STUDY)),
    output:
        structures=L.STRUCTURES,
        equivalents=L.EQUIVALENTS,
    log:
        L.log("{system}/ingest_{set}"),
    benchmark:
        L.benchmark("{system}/ingest_{set}")
    wildcard_constraints:
        set="inference",
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    params:
        spec=partial(data_stage.system_spec, STUDY),
        defect_step=config["defect_step"],
        site_tolerance=config["features"]["site_tolerance"],
    script:
        "../workflow/scripts/ingest.py"


rule split:
    input:
        targets=L.path(L.TARGETS, set="dataset"),
    output:
        splits=L.SPLITS,
    log:
        L.log("{system}/split"),
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    params:
        split=config["split"],
        dataset=lambda wildcards: STUDY.spec(wildcards.system)["dataset"],
    script:
        "../workflow/scripts/split.py"


rule limit_sizes:
    input:
        splits=L.SPLITS,
    output:
        sizes=report(
            L.LIMIT_SIZES,
            caption="../workflow/report/limit_sizes.rst",
            category="Data",
            subcategory="{system}",
        ),
    log:
        L.log("{system}/limit_sizes"),
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    params:
        limits=STUDY.limits,
        # checked here, before any model trains (training rules wait for this file)
        requirements=limit_requirements(config),
        dataset=lambda wildcards: STUDY.spec(wildcards.system)["dataset"],
    script:
        "../workflow/scripts/limit_sizes.py"


rule hull_histogram:
    input:
        # the labeled sets' energies above the hull
        unpack(
            lambda wildcards: {
                name: L.path(L.TARGETS, system=wildcards.system, set=name)
                for name in STUDY.structure_sets(wildcards.system)
                if name in LABELED_SETS
            }
        ),
    output:
        stats=L.HULL_STATS,
        figure=report(
            L.HULL_FIGURE,
            caption="../workflow/report/hull_histogram.rst",
            category="Data",
            subcategory="{system}",
        ),
    log:
        L.log("{system}/hull_histogram"),
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/hull_histogram.py"
