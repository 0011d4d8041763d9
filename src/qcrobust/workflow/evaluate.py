"""Inputs and targets of ``rules/evaluate.smk``: the summaries, audit tables and noise tables of one (system, family, model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qcrobust import layout
from qcrobust.evaluate import AUDIT_FIGURES, AUDIT_TABLES, MODE_FIGURES, NOISE_TABLES, REPORT_TABLES, SUMMARY_FIGURES, SUMMARY_TABLES


def prediction_paths(system: str, family: str, model: str, sets: Sequence[str]) -> dict[str, str]:
    """``{set: prediction table}`` of one (system, family, model) (rules predict, predict_audit)."""
    return {name: layout.path(layout.PREDICTIONS, system=system, family=family, model=model, set=name) for name in sets}


def summary_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``evaluate``: the test and inference predictions, splits and targets."""
    system = wildcards.system
    inputs = prediction_paths(system, wildcards.family, wildcards.model, ("test", "inference"))
    return inputs | {
        "splits": layout.path(layout.SPLITS, system=system),
        "targets": layout.path(layout.TARGETS, system=system, set="dataset"),
    }


def audit_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``evaluate_audit``: the audit predictions and the audit labels."""
    system = wildcards.system
    inputs = prediction_paths(system, wildcards.family, wildcards.model, ("audit",))
    return inputs | {"audit_targets": layout.path(layout.TARGETS, system=system, set="audit")}


def noise_keys(study) -> list[dict[str, str]]:
    """(system, family, model) of the models whose replicas make a noise floor: seeds at two limits or more."""
    return [
        {"system": system, "family": family, "model": model}
        for system, family, model in study.model_keys()
        if len(study.replica_limits(family, model)) >= 2
    ]


def noise_inputs(study, wildcards) -> dict[str, str]:
    """Inputs of rule ``noise``: the test and inference predictions (their replica limits' seeds
    are read, :func:`replica_predictions`), splits and targets."""
    return summary_inputs(study, wildcards)


def noise_figures(study) -> list[str]:
    """The noise figures of one model: ``noise_rmse``, ``noise_similarity``, ``noise_jaccard_{mode}``."""
    return ["noise_rmse", "noise_similarity"] + [f"noise_jaccard_{mode}" for mode in study.mode_names]


def summary_table(key: Mapping[str, str], name: str) -> str:
    return layout.path(layout.SUMMARY_TABLE, **key, table=name)


def report_inputs(study) -> dict[str, list[str]]:
    """Inputs of rule ``report_tables``: every model's summary tables, by cross-family table."""
    keys = [dict(zip(("system", "family", "model"), k)) for k in study.model_keys()]
    return {name: [summary_table(k, table) for k in keys] for name, table in REPORT_TABLES.items()}


def figure_names(study, kinds: Sequence[str]) -> list[str]:
    """``{kind}_{mode}`` for every figure kind and configured screening mode."""
    return [f"{kind}_{mode}" for kind in kinds for mode in study.mode_names]


def targets(study) -> list[str]:
    """Final outputs of the evaluation stage: every summary table and figure, and the report tables."""
    paths = []
    for system, family, model in study.model_keys():
        key = {"system": system, "family": family, "model": model}
        audit = study.has_audit(system)
        paths += [summary_table(key, name) for name in SUMMARY_TABLES + (AUDIT_TABLES if audit else ())]
        figures = [*SUMMARY_FIGURES, *figure_names(study, MODE_FIGURES)] + (figure_names(study, AUDIT_FIGURES) if audit else [])
        paths += [layout.path(layout.SUMMARY_FIGURE, **key, figure=name) for name in figures]
    for key in noise_keys(study):
        paths += [summary_table(key, name) for name in NOISE_TABLES]
        paths += [layout.path(layout.SUMMARY_FIGURE, **key, figure=name) for name in noise_figures(study)]
    if study.grids:
        paths += [layout.path(layout.REPORT_TABLE, name=name) for name in REPORT_TABLES]
        paths.append(layout.path(layout.REPORT_FIGURE, name="rmse_boxplot"))
    return paths


def summary_figures(study, kinds: Sequence[str], per_mode: bool) -> dict:
    """report() items of the figures of one (system, family, model): one per kind, or per kind
    and screening mode (rules evaluate_figures, audit_figures)."""
    from snakemake.io import report

    named = (
        [(f"{kind}_{mode}", kind, f"{kind} ({mode})") for kind in kinds for mode in study.mode_names]
        if per_mode
        else [(kind, kind, kind) for kind in kinds]
    )
    return {
        name: report(
            layout.path(layout.SUMMARY_FIGURE, figure=name),
            caption=f"../workflow/report/{kind}.rst",
            category="{family}",
            subcategory="{system}",
            labels={"model": "{model}", "figure": label},
        )
        for name, kind, label in named
    }
