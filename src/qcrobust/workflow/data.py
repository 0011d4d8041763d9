"""Inputs and targets of ``rules/data.smk``: ingest, split, limit sizes, hull statistics."""

from __future__ import annotations

from qcrobust import layout


def data_targets(study) -> list[str]:
    """Final outputs of the data stage: per system its splits, limit sizes and hull statistics."""

    return [layout.path(p, system=s) for s in study.systems for p in (layout.SPLITS, layout.LIMIT_SIZES, layout.HULL_STATS)]


def ingest_inputs(study, wildcards) -> dict:
    """Inputs of the ingest rules: the user's file of the set, the hull's and the parent's (it
    decides which frames are equivalent); a set to predict also reads the ingested dataset."""

    spec = study.spec(wildcards.system)
    inputs = {
        "structures": spec[wildcards.set],
        "hull": [spec["competing_phases"]] if spec.get("competing_phases") else [],
        "parent": [spec["parent"]] if spec.get("parent") else [],
    }
    if wildcards.set != "dataset":
        inputs["labeled_structures"] = layout.path(layout.STRUCTURES, system=wildcards.system, set="dataset")
    return inputs


def system_spec(study, wildcards):
    """The {system}'s config entry, as a rule param (a change to it reruns the rule)."""
    return study.spec(wildcards.system)
