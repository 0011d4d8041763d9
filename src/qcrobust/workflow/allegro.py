"""Input functions and settings of ``rules/allegro.smk`` (kept here so the rules file holds rules only).

Every function takes the validated config or the :class:`qcrobust.study.Study` first; the rules
bind it with ``functools.partial``. Paths come from :mod:`qcrobust.layout`.
"""

from __future__ import annotations

from collections.abc import Mapping

from snakemake.io import ancient

from qcrobust import layout

__all__ = [
    "corpus_inputs",
    "corpus_path",
    "fetch_inputs",
    "gpu_resources",
    "pretrain_settings",
    "predicts_from_graphs",
    "seeded_settings",
    "threads",
    "train_inputs",
    "training_settings",
]


def training_settings(config: Mapping) -> dict:
    """The ``allegro`` settings a trained model depends on (rule params: a change retrains).
    ``models``, ``limits`` and ``pretrain`` only choose which models exist or reach them as files."""
    return {k: v for k, v in config["allegro"].items() if k not in ("models", "limits", "pretrain")}


def seeded_settings(config: Mapping, wildcards) -> dict:
    """:func:`training_settings` with the job's ``{seed}`` (a replica's seed; the base seed is ``allegro.seed``)."""
    return training_settings(config) | {"seed": int(wildcards.seed)}


def pretrain_settings(config: Mapping) -> dict:
    """``allegro.pretrain`` as the built-in corpus and the pretraining depend on it (rule params):
    without ``source`` and ``package``, which choose where the external regime starts (as files)."""
    return {k: v for k, v in config["allegro"]["pretrain"].items() if k not in ("source", "package")}


def corpus_path(config: Mapping) -> str:
    """The external corpus: the user's extxyz, the fetched one (rule ``allegro_fetched_corpus``)
    or the built-in one (rule ``allegro_corpus``)."""
    pretrain = config["allegro"]["pretrain"]
    if pretrain["corpus"]:
        return pretrain["corpus"]
    return layout.PRETRAIN_FETCHED_CORPUS if pretrain["source"]["api"] else layout.PRETRAIN_CORPUS


def predicts_from_graphs(config: Mapping, model: str) -> bool:
    """Whether an Allegro model predicts its inference set from the system's graph file (rule
    ``allegro_graphs``, neighbour lists within ``allegro.model.cutoff_radius``): every model but
    one fine-tuned from ``allegro.pretrain.package``, whose cutoff is the package's."""
    return not (model == "external" and config["allegro"]["pretrain"]["package"])


def threads(config: Mapping) -> int:
    """CPU: one torch thread per training (two trainings share two cores far better than one
    training with two threads, measured in bench/README.md); GPU: two for data handling."""
    return 1 if config["allegro"]["device"] == "cpu" else 2


def gpus(wildcards) -> int:
    """One GPU per training job; self at limit 0 only copies the scratch model's files."""
    return 0 if wildcards.get("model") == "self" and int(wildcards.limit) == 0 else 1


def gpu_resources(config: Mapping, per_job=gpus) -> dict:
    """``resources`` of the rules that run Allegro (training: :func:`gpus`; rule predict passes
    its own ``per_job``): ``gpu`` (the slurm executor plugin's GPU request) when
    ``allegro.device`` is cuda, and nothing at all on CPU."""
    return {"gpu": per_job} if config["allegro"]["device"] == "cuda" else {}


def train_inputs(study, wildcards) -> dict[str, str]:
    """Training data and starting model of one (system, model, limit); for self at limit 0,
    the scratch model's files (copied, not retrained: there is nothing to self-pretrain on)."""
    system, model, limit, seed = wildcards.system, wildcards.model, int(wildcards.limit), int(wildcards.seed)
    if model == "self" and limit == 0:
        scratch = {"system": system, "family": "allegro", "model": "scratch", "limit": 0, "seed": seed}
        return {"reuse_model": layout.model_file(**scratch), "reuse_metrics": layout.path(layout.METRICS, **scratch)}
    data_limit = 0 if model == "self" else limit
    inputs = {part: layout.path(layout.ALLEGRO_PART, system=system, limit=data_limit, part=part) for part in ("train", "val")}
    # the limit subsets' checks (rule limit_sizes) come first; ancient: a new limit in that
    # table retrains nothing
    inputs["checked"] = ancient(layout.path(layout.LIMIT_SIZES, system=system))
    inputs["species"] = layout.path(layout.ALLEGRO_SPECIES, system=system)
    package = study.config["allegro"]["pretrain"]["package"]
    if model == "external" and package:  # a published package: no pretraining here
        inputs["init_package"] = package
    elif model in ("external", "self"):
        folder = (
            layout.PRETRAIN_DIR if model == "external" else layout.path(layout.SELF_PRETRAIN_DIR, system=system, limit=limit, seed=seed)
        )
        inputs |= {f"init_{name}": path for name, path in layout.trained_files(folder).items()}
    return inputs


def corpus_inputs(study, wildcards) -> list[str]:
    """The systems' species files (their host-dopant pairs make the corpus), unless
    ``allegro.pretrain.elements`` names the elements."""
    if study.config["allegro"]["pretrain"]["elements"]:
        return []
    return [layout.path(layout.ALLEGRO_SPECIES, system=system) for system in study.systems]


def fetch_inputs(study, wildcards) -> list:
    """:func:`corpus_inputs`, ``ancient``: re-ingesting a dataset must not query the provider
    again (rule ``allegro_fetched_corpus`` checks that the cached responses cover the pairs)."""
    return [ancient(path) for path in corpus_inputs(study, wildcards)]
