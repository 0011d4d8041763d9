"""Inputs, params and targets of ``rules/report.smk``: the report's tables, the candidates and the findings page."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pandas as pd

from qcrobust import layout
from qcrobust.candidates import ScreenKey
from qcrobust.errors import InputError
from qcrobust.io import read_csv
from qcrobust.report import KEY
from qcrobust.report.datasets import SETS
from qcrobust.report.findings_page import NOISE_REPORT_TABLES
from qcrobust.workflow import keyed


def dataset_inputs(study) -> dict[str, list[str]]:
    """Per-system tables the dataset table is made of, by kind (lists in the config's order)."""
    systems = study.systems
    inputs = {
        "targets": [layout.path(layout.TARGETS, system=s, set="dataset") for s in systems],
        "splits": [layout.path(layout.SPLITS, system=s) for s in systems],
        "inference": [layout.path(layout.STRUCTURES, system=s, set="inference") for s in systems],
    }
    audit = [s for s in systems if study.has_audit(s)]
    if audit:
        inputs["audit_targets"] = [layout.path(layout.TARGETS, system=s, set="audit") for s in audit]
    for name in SETS:
        owners = audit if name == "audit" else systems
        if owners:
            inputs[f"equivalents_{name}"] = [layout.path(layout.EQUIVALENTS, system=s, set=name) for s in owners]
            if study.family_limits("classical"):  # descriptor tables exist where the classical family trains
                inputs[f"features_{name}"] = [layout.path(layout.FEATURES, system=s, set=name) for s in owners]
    return inputs


def findings_inputs(study) -> dict[str, str | list[str]]:
    """The cross-family tables of rule ``report_tables`` and every model's similarity and
    overlap tables."""
    keys = [dict(zip(KEY, key)) for key in study.model_keys()]
    inputs = {
        "rmse": layout.path(layout.REPORT_TABLE, name="rmse_all"),
        "screening": layout.path(layout.REPORT_TABLE, name="screening_all"),
        "similarity": [layout.path(layout.SUMMARY_TABLE, **k, table="similarity") for k in keys],
        "overlaps": [layout.path(layout.SUMMARY_TABLE, **k, table="overlaps") for k in keys],
        "limit_sizes": [layout.path(layout.LIMIT_SIZES, system=s) for s in study.systems],
    }
    if noise_report_inputs(study)["noise"]:  # with replicas: the findings against the noise
        inputs["noise_findings"] = layout.path(layout.REPORT_TABLE, name="findings_noise")
    return inputs


DEFAULT_DATA_PREFIX = layout.DEFAULT_DATA_PREFIX


STAND_IN_NOTE = "CHGNet stand-in labels (capped relaxations), not DFT"


def data_notes(config: Mapping) -> dict[str, str]:
    """system -> the caveat said next to every finding on it: the default data's labels are a
    stand-in (systems whose dataset is published by the default-data rules)."""
    return {s: STAND_IN_NOTE for s, spec in config["systems"].items() if str(spec["dataset"]).startswith(DEFAULT_DATA_PREFIX)}


def data_note(config: Mapping, wildcards) -> str:
    """The caveat of the {system}'s data ("" for a user's data): a rule param for captions."""
    return data_notes(config).get(wildcards.system, "")


def external_corpus_note(config: Mapping) -> str:
    """Where the external regime starts from (the built-in corpus, the user's, a fetched one or a
    published package), said next to its results."""
    allegro = config["allegro"]
    if "external" not in allegro["models"]:
        return ""
    pretrain = allegro["pretrain"]
    corpus, package, fetched = pretrain["corpus"], pretrain.get("package"), (pretrain.get("source") or {}).get("api")
    if corpus:
        return f"Allegro external: pretrained on the user corpus {corpus} (label {pretrain['target']})."
    if package:
        return (
            f"Allegro external: fine-tuned from the published package {package}, with no pretraining here (its type "
            "names and cutoff; per-type energy scales and shifts reset to each training set)."
        )
    if fetched:
        from qcrobust.allegro.sources import Source

        source = Source.from_config(pretrain["source"])
        return (
            f"Allegro external: pretrained on a corpus fetched from {source.describe()}: {source.meaning}, the "
            f"relaxed structures of the host-dopant binaries{' and elements' if source.unaries else ''}; the entries, "
            f"queries and retrieval date are in {layout.PRETRAIN_PROVENANCE}."
        )
    same = (
        " -- the same model that labels the default data, so fine-tuning from it is partly distillation from the labeler, not transfer from independent data"
        if data_notes(config)
        else ""
    )
    return (
        "Allegro external: pretrained on the built-in corpus of host-dopant prototype cells labelled by CHGNet"
        f"{same}. Set allegro.pretrain.source to fetch a corpus from AFLOW or an OPTIMADE provider, allegro.pretrain.package "
        "to fine-tune a published model, or allegro.pretrain.corpus to an extxyz corpus of yours."
    )


def budget_inputs(study) -> dict[str, list[str] | str]:
    """Every Allegro model's metrics.json (of the base seed, the model the summaries evaluate)
    and the test RMSEs (rule report_budgets)."""
    return {
        "metrics": [
            layout.path(layout.METRICS, **key)
            for key in study.trained()
            if key["family"] == "allegro" and key["seed"] == study.base_seed("allegro")
        ],
        "rmse": layout.path(layout.REPORT_TABLE, name="rmse_all"),
    }


def summary_key(path: str | os.PathLike) -> tuple[str, str, str]:
    """(system, family, model) of a summary table's path (:data:`qcrobust.layout.SUMMARY_TABLE`)."""
    found = layout.matches(layout.SUMMARY_TABLE, str(path))
    if found is None:
        raise InputError(path, None, f"not a summary table path {layout.SUMMARY_TABLE}")
    return found["system"], found["family"], found["model"]


def read_summaries(paths: Sequence[str], **kwargs) -> dict[tuple, pd.DataFrame]:
    """Per-model summary tables by (system, family, model), from their paths."""
    return {summary_key(path): read_csv(path, **kwargs) for path in paths}


def noise_report_inputs(study) -> dict[str, list[str]]:
    """Inputs of rule ``report_noise``: every noise table and replica score table."""
    from qcrobust.workflow.evaluate import noise_keys

    keys = noise_keys(study)
    return {
        "noise": [layout.path(layout.SUMMARY_TABLE, **k, table="noise") for k in keys],
        "scores": [layout.path(layout.SUMMARY_TABLE, **k, table="replica_scores") for k in keys],
    }


def targets(study) -> list[str]:
    """Final outputs of the report stage (the findings only once some model is configured)."""
    paths = [layout.path(layout.REPORT_TABLE, name="datasets")]
    if study.grids:
        paths += [layout.path(layout.REPORT_TABLE, name="stability"), layout.FINDINGS]
    if study.models("allegro"):
        paths.append(layout.path(layout.REPORT_TABLE, name="allegro_budgets"))
    if noise_report_inputs(study)["noise"]:
        paths += [layout.path(layout.REPORT_TABLE, name=name) for name in NOISE_REPORT_TABLES]
    return paths


def candidate_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rules ``candidates`` and ``consensus``: the inference predictions of every
    (family, model) of the system (``pred__{family}__{model}``, :mod:`qcrobust.workflow.keyed`: every
    trained (limit, seed) is a screen), what became of each inference structure at ingest, the
    labels and split of the dataset (for the structures it already holds) and the audit targets,
    if any."""

    system = wildcards.system
    inputs = keyed.encode(
        "pred",
        {
            (family, model): layout.path(layout.PREDICTIONS, system=system, family=family, model=model, set="inference")
            for _, family, model in study.model_keys(system)
        },
    )
    inputs |= {
        "equivalents": layout.path(layout.EQUIVALENTS, system=system, set="inference"),
        "targets": layout.path(layout.TARGETS, system=system, set="dataset"),
        "splits": layout.path(layout.SPLITS, system=system),
    }
    if study.has_audit(system):
        inputs["audit_targets"] = layout.path(layout.TARGETS, system=system, set="audit")
    return inputs


def screen_predictions(named: Mapping[str, str]) -> dict[ScreenKey, pd.DataFrame]:
    """Rule inputs of :func:`candidate_inputs` -> every screen's inference predictions:
    ``{(family, model, limit, seed): id/y_pred}``."""
    from qcrobust.predict import read_predictions

    return {
        (family, model, limit, seed): block.table
        for (family, model), path in keyed.decode(named, "pred").items()
        for (limit, seed), block in read_predictions(path).items()
    }


def candidate_targets(study) -> list[str]:

    if not study.grids:
        return []
    paths = []
    for system in study.systems:
        paths += [layout.path(layout.CANDIDATES, system=system), layout.path(layout.CANDIDATES_FIGURE, system=system)]
        if study.has_audit(system):
            paths.append(layout.path(layout.CONSENSUS, system=system))
    return paths
