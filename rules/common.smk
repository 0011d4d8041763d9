# Shared helpers: config validation, names, and the registry of final targets.
# A study is the folder snakemake runs in (--directory): its config.yaml, results/, logs/ and
# benchmarks/; data paths in the config are relative to it.
import os
import re

from qcrobust.config import check_config_files, export_workflow_root, validate_config

check_config_files(config, workflow.configfiles, workflow.overwrite_configfiles)
validate_config(
    config, source=", ".join(map(os.path.abspath, workflow.configfiles)) or "config"
)
# envs/qcrobust.yaml installs this checkout through ${QCROBUST_ROOT}
export_workflow_root(workflow.basedir)

SYSTEMS = list(config["systems"])
LIMITS = config["limits"]


wildcard_constraints:
    system="|".join(re.escape(s) for s in SYSTEMS),
    limit=r"\d+",


# Each stage file appends a function returning its final targets; rule all asks for all of them.
TARGET_FUNCTIONS = []


def all_outputs():
    return [path for targets in TARGET_FUNCTIONS for path in targets()]


def system_spec(system):
    return config["systems"][system]


def system_config(wildcards):
    """The {system}'s config entry, as a rule param (a change to it reruns the rule)."""
    return system_spec(wildcards.system)


def has_audit(system):
    return bool(system_spec(system).get("audit"))


def system_hull_inputs(system):
    """The files the system's hull is built from (competing phases, when configured)."""
    phases = system_spec(system).get("competing_phases")
    return [phases] if phases else []


# --- data stage (rules/data.smk) ---


# Each ingest rule also reads the other one's file for the elements check (a structure to predict
# with an element the dataset lacks is an error): ancient, since that file's own rule reruns on
# its change and checks again.


def ingest_inputs(wildcards):
    spec = system_spec(wildcards.system)
    audit = {"audit": ancient(spec["audit"])} if has_audit(wildcards.system) else {}
    return {
        "dataset": spec["dataset"],
        "inference": spec["inference"],
        "hull": system_hull_inputs(wildcards.system),
    } | audit


def ingest_audit_inputs(wildcards):
    spec = system_spec(wildcards.system)
    return {
        "audit": spec["audit"],
        "dataset": ancient(spec["dataset"]),
        "hull": system_hull_inputs(wildcards.system),
    }


def dataset_file(wildcards):
    """The user's labeled file of the {system}: errors about its rows name it."""
    return system_spec(wildcards.system)["dataset"]


def hull_histogram_inputs(wildcards):
    """The target tables whose energies above the hull are drawn (dataset, and audit if any)."""
    inputs = {"dataset": f"results/{wildcards.system}/targets.csv"}
    if has_audit(wildcards.system):
        inputs["audit"] = f"results/{wildcards.system}/audit_targets.csv"
    return inputs


def data_targets():
    targets = []
    for system in SYSTEMS:
        targets += [f"results/{system}/splits.csv", f"results/{system}/limit_sizes.csv"]
        targets.append(f"results/{system}/hull/hull_stats.json")
        if has_audit(system):
            targets.append(f"results/{system}/audit_targets.csv")
    return targets


TARGET_FUNCTIONS.append(data_targets)
