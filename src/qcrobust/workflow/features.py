"""Inputs of ``rules/features.smk``: the descriptor space and tables of a system."""

from __future__ import annotations

from qcrobust import layout


def space_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``feature_space``: every normalized structure set of the system (+ its parent)."""

    system = wildcards.system
    inputs = {name: layout.path(layout.STRUCTURES, system=system, set=name) for name in study.structure_sets(system)}
    return inputs | ({"parent": study.spec(system)["parent"]} if study.spec(system).get("parent") else {})


def table_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``features``: one structure set, the system's feature space (+ its parent)."""

    system = wildcards.system
    inputs = {
        "structures": layout.path(layout.STRUCTURES, system=system, set=wildcards.set),
        "space": layout.path(layout.FEATURE_SPACE, system=system),
    }
    return inputs | ({"parent": study.spec(system)["parent"]} if study.spec(system).get("parent") else {})
