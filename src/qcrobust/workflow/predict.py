"""Inputs, outputs and decoders of ``rules/predict.smk``: one prediction job per (system, family, model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qcrobust import layout
from qcrobust.predict import SCREENING_SETS
from qcrobust.workflow import keyed


def set_inputs(study, system: str, family: str, model: str, set_name: str) -> dict[str, str]:
    """What a family reads of a set (+ the splits for the test set)."""
    from qcrobust.workflow.allegro import predicts_from_graphs

    source = "dataset" if set_name == "test" else set_name
    if family == "classical":
        inputs = {"features": layout.path(layout.FEATURES, system=system, set=source)}
    elif set_name == "inference" and predicts_from_graphs(study.config, model):
        # the largest set: its graphs are computed once per system (at the config's cutoff)
        inputs = {"graphs": layout.path(layout.ALLEGRO_GRAPHS, system=system)}
    else:
        inputs = {"structures": layout.path(layout.STRUCTURES, system=system, set=source)}
    if set_name == "test":
        inputs["splits"] = layout.path(layout.SPLITS, system=system)
    return inputs


def model_files(study, system: str, family: str, model: str, base_seed_only: bool = False) -> dict[tuple[int, int], str]:
    """``{(limit, seed): saved model}`` of one (system, family, model): every trained seed, or the base seed's."""
    return {
        (key["limit"], key["seed"]): layout.model_file(family, **{k: key[k] for k in ("system", "model", "limit", "seed")})
        for key in study.trained(system)
        if key["family"] == family and key["model"] == model and not (base_seed_only and key["seed"] != study.base_seed(family))
    }


def prediction_inputs(study, wildcards, sets: Sequence[str] = SCREENING_SETS) -> dict[str, str]:
    """Inputs of rule ``predict`` (``sets``: test and inference, every trained seed) or
    ``predict_audit`` (audit, the base seed): ``model__{limit}__{seed}`` and ``set__{set}__{name}``
    (:mod:`qcrobust.workflow.keyed`; :func:`decode_inputs` undoes it)."""
    system, family, model = wildcards.system, wildcards.family, wildcards.model
    models = model_files(study, system, family, model, base_seed_only=tuple(sets) == ("audit",))
    per_set = {(s, name): path for s in sets for name, path in set_inputs(study, system, family, model, s).items()}
    # the limit table: a new limit or seed rewrites it, and through it reaches this job (the
    # trainings read it as ancient(), so snakemake would not look past them to the new models)
    checked = {"limit_sizes": layout.path(layout.LIMIT_SIZES, system=system)}
    return keyed.encode("model", models) | keyed.encode("set", per_set) | checked


def audit_prediction_inputs(study, wildcards) -> dict[str, str]:
    return prediction_inputs(study, wildcards, ("audit",))


def decode_inputs(named: Mapping[str, str]) -> tuple[dict[tuple[int, int], str], dict[str, dict[str, str]]]:
    """Rule inputs of :func:`prediction_inputs` -> ``({(limit, seed): model}, {set: {name: path}})``."""
    sets: dict[str, dict[str, str]] = {}
    for (set_name, name), path in keyed.decode(named, "set").items():
        sets.setdefault(set_name, {})[name] = path
    return keyed.decode(named, "model", (int, int)), sets


def gpus(wildcards) -> int:
    """An Allegro prediction asks for one GPU, a classical one for none (with allegro.device
    cuda; see :func:`qcrobust.workflow.allegro.gpu_resources`)."""
    return int(wildcards.family == "allegro")


def prediction_targets(study) -> list[str]:
    """Every prediction table of the study: test and inference of every (system, family, model),
    audit where the system has an audit set."""
    return [
        layout.path(layout.PREDICTIONS, system=system, family=family, model=model, set=set_name)
        for system, family, model in study.model_keys()
        for set_name in SCREENING_SETS + (("audit",) if study.has_audit(system) else ())
    ]
