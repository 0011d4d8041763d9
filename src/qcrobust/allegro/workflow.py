"""Input functions and settings of ``rules/allegro.smk`` (kept here so the rules file holds rules only).

Every function takes the validated config first; the rules bind it with ``functools.partial``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from snakemake.io import ancient

from qcrobust.config import allegro_limits

__all__ = ["allegro_limits", "corpus_inputs", "corpus_path", "gpu_resources", "system_regex", "targets",
           "threads", "train_inputs", "training_settings"]

PRETRAIN_DIR = "results/allegro_pretrain"


def _has_audit(config: Mapping, system: str) -> bool:
    return bool(config["systems"][system].get("audit"))


def training_settings(config: Mapping) -> dict:
    """The ``allegro`` settings a trained model depends on (rule params: a change retrains).
    ``models``, ``limits`` and ``pretrain`` only choose which models exist or reach them as files."""
    return {k: v for k, v in config["allegro"].items() if k not in ("models", "limits", "pretrain")}


def corpus_path(config: Mapping) -> str:
    """The external corpus: the user's extxyz, or the one rule ``allegro_corpus`` builds."""
    return config["allegro"]["pretrain"]["corpus"] or f"{PRETRAIN_DIR}/corpus.extxyz"


def threads(config: Mapping) -> int:
    """CPU: one torch thread per training (two trainings share two cores far better than one
    training with two threads, measured in bench/README.md); GPU: two for data handling."""
    return 1 if config["allegro"]["device"] == "cpu" else 2


def gpus(wildcards) -> int:
    """One GPU per training job; self at limit 0 only copies the scratch model's files."""
    return 0 if wildcards.get("model") == "self" and int(wildcards.limit) == 0 else 1


def gpu_resources(config: Mapping) -> dict:
    """``resources`` of the training rules: ``gpu`` (the slurm executor plugin's GPU request)
    when ``allegro.device`` is cuda, and nothing at all on CPU."""
    return {"gpu": gpus} if config["allegro"]["device"] == "cuda" else {}


def system_regex(config: Mapping, audit: bool) -> str:
    """The systems with (``audit=True``) or without an audit set, as a wildcard regex."""
    names = [s for s in config["systems"] if _has_audit(config, s) == audit]
    return "|".join(re.escape(s) for s in names) if names else "(?!)"


def train_inputs(config: Mapping, wildcards) -> dict[str, str]:
    """Training data and starting model of one (system, model, limit); for self at limit 0,
    the scratch model's files (copied, not retrained: there is nothing to self-pretrain on)."""
    system, model, limit = wildcards.system, wildcards.model, int(wildcards.limit)
    if model == "self" and limit == 0:
        scratch = f"results/{system}/allegro/scratch/limit_0"
        names = ["pred_test", "pred_inference"] + (["pred_audit"] if _has_audit(config, system) else [])
        reuse = {f"reuse_{name}": f"{scratch}/{name}.csv" for name in names}
        return reuse | {"reuse_model": f"{scratch}/model.nequip.zip", "reuse_metrics": f"{scratch}/metrics.json"}
    data = f"results/{system}/allegro_data/limit_{0 if model == 'self' else limit}"
    inputs = {part: f"{data}/{part}.extxyz" for part in ("train", "val", "test")}
    # the limit subsets' checks (rule limit_sizes) come first; ancient: a new limit in that
    # table retrains nothing
    inputs["checked"] = ancient(f"results/{system}/limit_sizes.csv")
    inputs |= {"species": f"results/{system}/allegro_data/species.json", "inference": f"results/{system}/inference.extxyz"}
    if _has_audit(config, system):
        inputs["audit"] = f"results/{system}/audit.extxyz"
    if model == "external":
        inputs |= {"init_model": f"{PRETRAIN_DIR}/model.nequip.zip", "init_metrics": f"{PRETRAIN_DIR}/metrics.json"}
    elif model == "self":
        pretrain = f"results/{system}/allegro/self/limit_{limit}/pretrain"
        inputs |= {"init_model": f"{pretrain}/model.nequip.zip", "init_metrics": f"{pretrain}/metrics.json"}
    return inputs


def corpus_inputs(config: Mapping, wildcards) -> list[str]:
    """The systems' species files (their host-dopant pairs make the corpus), unless
    ``allegro.pretrain.elements`` names the elements."""
    if config["allegro"]["pretrain"]["elements"]:
        return []
    return [f"results/{system}/allegro_data/species.json" for system in config["systems"]]


def targets(config: Mapping) -> list[str]:
    """Every Allegro model's outputs: systems × models (regimes) × Allegro limits."""
    paths = []
    for system in config["systems"]:
        for model in config["allegro"]["models"]:
            for limit in allegro_limits(config):
                folder = f"results/{system}/allegro/{model}/limit_{limit}"
                paths += [f"{folder}/{name}" for name in ("pred_test.csv", "pred_inference.csv", "metrics.json")]
                if _has_audit(config, system):
                    paths.append(f"{folder}/pred_audit.csv")
    return paths
