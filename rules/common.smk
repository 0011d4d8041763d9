# Shared helpers: config validation, the study object, wildcards and the registry of final targets.
# A study is the folder snakemake runs in (--directory): its config.yaml, results/, logs/ and
# benchmarks/; data paths in the config are relative to it. Every path the workflow writes is
# named in src/qcrobust/layout.py (imported here as L).
import os
from functools import partial

from snakemake.logging import logger

from qcrobust import layout as L
from qcrobust.config import check_config_files, export_workflow_root, validate_config
from qcrobust.startup import check_study
from qcrobust.study import FAMILIES, PREDICTION_SETS, Study

CONFIG_SOURCE = ", ".join(map(os.path.abspath, workflow.configfiles)) or "config"
check_config_files(config, workflow.configfiles, workflow.overwrite_configfiles)
validate_config(config, source=CONFIG_SOURCE)
# what the config and the datasets' frame headers decide, before any job (the main process only:
# a cluster job re-reads the Snakefile, and its run was checked when it was planned)
if workflow.is_main_process:
    for warning in check_study(config, CONFIG_SOURCE, L.DEFAULT_DATA_PREFIX):
        logger.warning(f"qcrobust: warning: {warning}")
# envs/qcrobust.yaml installs this checkout through ${QCROBUST_ROOT}
export_workflow_root(workflow.basedir)

STUDY = Study.from_config(config)


wildcard_constraints:
    system=STUDY.system_regex(),
    limit=r"\d+",
    seed=r"\d+",
    family="|".join(FAMILIES),
    set="|".join(PREDICTION_SETS + ("dataset",)),


# Each stage file appends a function returning its final targets; rule all asks for all of them.
TARGET_FUNCTIONS = []


def all_outputs():
    return [path for targets in TARGET_FUNCTIONS for path in targets()]


def system_config(wildcards):
    """The {system}'s config entry, as a rule param (a change to it reruns the rule)."""
    return STUDY.spec(wildcards.system)


# report() items of the evaluation figures (rules/evaluate.smk)
def summary_figures(kinds, per_mode):
    """report() items of the figures of one (system, family, model): one per kind, or per kind and screening mode."""
    named = (
        [
            (f"{kind}_{mode}", kind, f"{kind} ({mode})")
            for kind in kinds
            for mode in STUDY.mode_names
        ]
        if per_mode
        else [(kind, kind, kind) for kind in kinds]
    )
    return {
        name: report(
            L.path(L.SUMMARY_FIGURE, figure=name),
            caption=f"../workflow/report/{kind}.rst",
            category="{family}",
            subcategory="{system}",
            labels={"model": "{model}", "figure": label},
        )
        for name, kind, label in named
    }
