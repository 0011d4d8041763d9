"""Inputs and params of ``rules/classical.smk``: one classical training."""

from __future__ import annotations

from collections.abc import Mapping

from snakemake.io import ancient

from qcrobust import layout


def train_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``classical_train``: the dataset's descriptors, targets and splits."""

    system = wildcards.system
    return {
        "dataset": layout.path(layout.FEATURES, system=system, set="dataset"),
        "targets": layout.path(layout.TARGETS, system=system, set="dataset"),
        "splits": layout.path(layout.SPLITS, system=system),
        # the limit subsets' checks come first; ancient: a new limit in that table retrains nothing
        "checked": ancient(layout.path(layout.LIMIT_SIZES, system=system)),
    }


def model_settings(config: Mapping, wildcards) -> dict:
    """What a trained model depends on besides its inputs (a rule param: a change retrains only it)."""
    block = config["classical"]
    return {
        "params": dict(block["params"][wildcards.model]),
        "folds": block["folds"],
        "seed": int(wildcards.seed),
        "target": config["target"],
    }
