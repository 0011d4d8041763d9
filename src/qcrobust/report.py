"""The study's HTML report: the dataset table, the cross-family stability table and a short
generated "findings" section (rules in rules/report.smk; the report itself is snakemake's own,
``snakemake --report results/report/report.html``).

Families compare like with like: every cross-family number is computed on the limits every
configured family trained on (``shared_limits``; the default study: Allegro's 0, 12, 24 of the
classical family's 13), and every aggregate says how many (system, model, limit) cells it rests on
and how many were undefined (nothing selected). Stability of one model (system, family, model)
over those limits, from its summary tables:
- against the largest limit's screening set S_ref, over the smaller limits: recall (lowest, mean),
  precision (a flood of selections has recall 1 and precision near 0), Jaccard, and the range of
  the selected share of the inference set; ``n_compared`` limits, ``n_*_undefined`` of them
  without a value;
- SimilarityScore: the lowest and the mean off-diagonal entry of its matrix on those limits;
- flips: screening calls (selected / not selected by the screening mode) that change between neighbouring
  limits, |S_i Δ S_j| = n_i + n_j - 2 |S_i ∩ S_j|: in total, per limit step, and for the worst pair;
- converged_from: the smallest limit from which every larger limit screens exactly S_ref.
A family's row is the mean over its models and systems of the defined values, with the counts.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from qcrobust.errors import InputError
from qcrobust.io import count_frames, read_csv

KEY = ["system", "family", "model"]
# ratios against the largest limit's screening set, summarised over the smaller limits
AGREEMENT = ("recall", "precision", "jaccard")
STABILITY_COLUMNS = KEY + [
    "mode",
    "limits",
    "n_limits",
    "largest_limit",
    "rmse_largest_limit",
    "rmse_min",
    "rmse_max",
    "n_compared",
    *[f"{m}_{stat}" for m in AGREEMENT for stat in ("min", "mean")],
    *[f"n_{m}_undefined" for m in AGREEMENT],
    "share_selected_min",
    "share_selected_max",
    "similarity_min",
    "similarity_mean",
    "normalizer_kind",
    "n_inference",
    "flips_total",
    "flips_per_step",
    "flips_max",
    "flips_max_between",
    "converged_from",
]
DATASET_COLUMNS = [
    "system",
    "n_labeled",
    "n_limit0",
    "n_train",
    "n_val",
    "n_test",
    "n_inference",
    "n_audit",
    "max_A5_defects",
    "target_mean",
    "target_std",
    "target_min",
    "target_max",
    "share_negative",
    *[f"n_{name}_duplicates" for name in ("dataset", "inference", "audit")],
    "n_inference_labeled",
    "n_audit_labeled",
    *[f"n_{name}_shared_descriptor" for name in ("dataset", "inference", "audit")],
    "n_test_shared_descriptor",
]
SETS = ("dataset", "inference", "audit")


def mode_descriptions(config: Mapping) -> dict[str, str]:
    """Screening mode name -> what it selects, for the findings."""
    from qcrobust.screening import modes_from_config

    return {mode.name: mode.describe(config["target"]) for mode in modes_from_config(config["screening"]["modes"])}


BUDGET_COLUMNS = [
    "system",
    "model",
    "limit",
    "rmse",
    "n_train",
    "n_val",
    "epochs",
    "steps",
    "checkpoint",
    "selected_epoch",
    "fit_seconds",
    "pretrain_stage",
    "pretrain_steps",
    "pretrain_seconds",
    "total_seconds",
    "reused_from",
]


def budget_table(paths: Sequence[str | os.PathLike], rmse: pd.DataFrame) -> pd.DataFrame:
    """What each Allegro model cost, beside its test error: optimizer steps and seconds on the
    target data, and of its pretraining stage (external: the corpus run shared by all systems;
    self: the run on the limit's defected structures). A model reused from another regime (self
    at limit 0 is scratch's) costs nothing of its own (fit_seconds 0) and names it in ``reused_from``.
    ``rmse``: the cross-family test RMSE table (``rmse_all.csv``; training never reads the test set)."""
    import json

    rows = []
    for path in paths:
        metrics = json.loads(Path(path).read_text())
        pre = metrics.get("pretrain") or {}
        fit_seconds = float(metrics.get("fit_seconds") or 0.0)
        rows.append(
            {
                "system": metrics["system"],
                "model": metrics["model"],
                "limit": int(metrics["limit"]),
                "n_train": metrics.get("n_train"),
                "n_val": metrics.get("n_val"),
                "epochs": metrics.get("epochs"),
                "steps": metrics.get("steps"),
                "checkpoint": metrics.get("checkpoint", ""),
                "selected_epoch": metrics.get("selected_epoch"),
                "fit_seconds": fit_seconds,
                "pretrain_stage": pre.get("stage", ""),
                "pretrain_steps": pre.get("steps"),
                "pretrain_seconds": pre.get("fit_seconds"),
                "total_seconds": fit_seconds + float(pre.get("fit_seconds") or 0.0),
                "reused_from": metrics.get("reused_from") or "",
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in BUDGET_COLUMNS if c != "rmse"])
    allegro = rmse.loc[rmse["family"] == "allegro", ["system", "model", "limit", "rmse"]]
    table = table.merge(allegro, on=["system", "model", "limit"], how="left", validate="one_to_one")
    missing = table["rmse"].isna()
    if missing.any():
        row = table[missing].iloc[0]
        raise InputError("rmse_all.csv", f"{row['system']}/{row['model']} limit {row['limit']}", "no test RMSE for this Allegro model")
    return table[BUDGET_COLUMNS]


# --- the dataset table ---


def dataset_row(
    system: str,
    targets: pd.DataFrame,
    splits: pd.DataFrame,
    n_inference: int,
    n_audit: int,
    target: str,
    equivalents: Mapping[str, pd.DataFrame] | None = None,
    descriptors: Mapping[str, pd.DataFrame] | None = None,
) -> dict:
    """One system's row of the dataset table. ``equivalents``: each set's equivalents table (what
    became of its frames at ingest); ``descriptors``: each set's descriptor table (absent without
    the classical family: its counts are then empty)."""
    from qcrobust.features import descriptor_groups

    y = targets[target].astype(float)
    counts = splits["split"].value_counts()
    row = {
        "system": system,
        "n_labeled": len(targets),
        "n_limit0": int((targets["n_A5_defects"] == 0).sum()),
        "n_train": int(counts.get("train", 0)),
        "n_val": int(counts.get("val", 0)),
        "n_test": int(counts.get("test", 0)),
        "n_inference": n_inference,
        "n_audit": n_audit,
        "max_A5_defects": int(targets["n_A5_defects"].max()),
        "target_mean": float(y.mean()),
        "target_std": float(y.std(ddof=0)),
        "target_min": float(y.min()),
        "target_max": float(y.max()),
        "share_negative": float((y < 0).mean()),
    }
    for name, table in (equivalents or {}).items():
        relation = table["relation"].value_counts()
        row[f"n_{name}_duplicates"] = int(relation.get("duplicate", 0))
        if name != "dataset":
            row[f"n_{name}_labeled"] = int(relation.get("labeled", 0))
    for name, table in (descriptors or {}).items():
        groups = descriptor_groups(table)
        row[f"n_{name}_shared_descriptor"] = int(groups.duplicated(keep=False).sum())
    if descriptors and "dataset" in descriptors:
        groups = descriptor_groups(descriptors["dataset"]).set_axis(descriptors["dataset"]["id"].astype(str))
        split = splits.set_index(splits["id"].astype(str))["split"]
        seen = set(groups[split.reindex(groups.index).isin(["train", "val"]).to_numpy()])
        test = groups[(split.reindex(groups.index) == "test").to_numpy()]
        row["n_test_shared_descriptor"] = int(test.isin(seen).sum())
    return row


def dataset_table(systems: Sequence[str], inputs: Mapping[str, Sequence[str]], audit_systems: Iterable[str], target: str) -> pd.DataFrame:
    """The dataset table from :func:`dataset_inputs`' files (``audit_systems``: those with an audit set)."""
    from qcrobust.features import read_features

    audit_systems = list(audit_systems)
    owners = {name: audit_systems if name == "audit" else list(systems) for name in SETS}
    per_system = {
        kind: dict(zip(owners[kind.split("_", 1)[1]], inputs.get(kind, [])))
        for kind in [f"{what}_{name}" for what in ("equivalents", "features") for name in SETS]
        if kind in inputs
    }
    audit_paths = dict(zip(audit_systems, inputs.get("audit_targets", []), strict=True))
    rows = []
    for system, targets_path, splits_path, inference in zip(systems, inputs["targets"], inputs["splits"], inputs["inference"], strict=True):
        targets = read_csv(targets_path, required=["id", "n_A5_defects", target], dtype={"id": str})
        splits = read_csv(splits_path, required=["id", "split"], dtype={"id": str})
        n_audit = len(read_csv(audit_paths[system])) if system in audit_paths else 0
        equivalents = {
            name: read_csv(per_system[f"equivalents_{name}"][system], required=["id", "relation"], dtype={"id": str})
            for name in SETS
            if system in per_system.get(f"equivalents_{name}", {})
        }
        descriptors = {
            name: read_features(per_system[f"features_{name}"][system]) for name in SETS if system in per_system.get(f"features_{name}", {})
        }
        rows.append(dataset_row(system, targets, splits, count_frames(inference), n_audit, target, equivalents, descriptors))
    table = pd.DataFrame(rows, columns=DATASET_COLUMNS)
    integer = [c for c in DATASET_COLUMNS if c.startswith("n_")]
    return table.astype({c: "Int64" for c in integer})


# --- stability of each model across the limit grid ---


def similarity_stats(matrix: pd.DataFrame, limits: Sequence[int] | None = None) -> tuple[float, float]:
    """(min, mean) of the off-diagonal SimilarityScores, over ``limits`` only when given (NaN
    with a single limit). ``matrix``: index = limits, columns = the same limits (any type)."""
    matrix = matrix.copy()
    matrix.index = [int(x) for x in matrix.index]
    matrix.columns = [int(x) for x in matrix.columns]
    if limits is not None:
        matrix = matrix.loc[list(limits), list(limits)]
    values = matrix.to_numpy(dtype=float)
    off = values[~np.eye(len(values), dtype=bool)]
    off = off[np.isfinite(off)]
    return (float(off.min()), float(off.mean())) if off.size else (math.nan, math.nan)


def flip_stats(overlaps: pd.DataFrame, limits: Sequence[int] | None = None) -> dict:
    """Screening calls that change between neighbouring ``limits`` (default: every limit of the
    table), and where S_x stops changing."""
    pairs = {(int(r.limit_i), int(r.limit_j)): r for r in overlaps.itertuples()}
    limits = sorted(limits) if limits is not None else sorted({i for i, _ in pairs} | {j for _, j in pairs})
    flips = {}
    for low, high in zip(limits, limits[1:]):
        row = pairs.get((low, high))
        if row is None:
            raise InputError("overlaps", None, f"no row for limits ({low}, {high})")
        flips[(low, high)] = int(row.n_i + row.n_j - 2 * row.n_common)
    largest = limits[-1]
    converged = largest
    for limit in reversed(limits):
        row = pairs[(limit, largest)]
        if row.n_i == row.n_j == row.n_common:
            converged = limit
        else:
            break
    worst = max(flips, key=flips.get) if flips and max(flips.values()) > 0 else None
    return {
        "flips_total": sum(flips.values()),
        "flips_per_step": sum(flips.values()) / len(flips) if flips else math.nan,
        "flips_max": flips[worst] if worst else 0,
        "flips_max_between": f"{worst[0]}-{worst[1]}" if worst else "",
        "converged_from": converged,
    }


def _summary(values: pd.Series) -> tuple[float, float, int]:
    """(min, mean, number undefined) of a column of ratios."""
    defined = values.astype(float).dropna()
    undefined = len(values) - len(defined)
    return (float(defined.min()), float(defined.mean()), undefined) if len(defined) else (math.nan, math.nan, undefined)


def stability_table(
    rmse: pd.DataFrame,
    screening: pd.DataFrame,
    similarity: Mapping[tuple, pd.DataFrame],
    overlaps: Mapping[tuple, pd.DataFrame],
    limits: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per (system, family, model) of ``rmse`` and screening mode with the stability
    columns (module docstring), computed on ``limits`` (the limits every family shares; default:
    each model's own). ``screening`` is the cross-family ``screening_all`` table; ``similarity``
    and ``overlaps`` each model's summary table by (system, family, model). Screening tables
    without a ``mode`` column count as one mode named ""."""
    modes = list(dict.fromkeys(screening["mode"])) if "mode" in screening else [""]
    tables = []
    for mode in modes:
        own = screening[screening["mode"] == mode] if mode else screening
        pairs = {key: (table[table["mode"] == mode] if mode else table) for key, table in overlaps.items()}
        tables.append(_stability_of_mode(rmse, own, similarity, pairs, limits).assign(mode=mode))
    return pd.concat(tables, ignore_index=True)[STABILITY_COLUMNS]


def _stability_of_mode(
    rmse: pd.DataFrame,
    screening: pd.DataFrame,
    similarity: Mapping[tuple, pd.DataFrame],
    overlaps: Mapping[tuple, pd.DataFrame],
    limits: Sequence[int] | None,
) -> pd.DataFrame:
    own_screening = {tuple(k): g for k, g in screening.groupby(KEY, sort=False)}
    rows = []
    for key, group in rmse.groupby(KEY, sort=False):
        key = tuple(key)
        if key not in similarity or key not in overlaps:
            raise InputError("summary tables", None, f"no similarity/overlaps table for {'/'.join(key)}")
        grid = sorted(int(x) for x in group["limit"]) if limits is None else sorted(limits)
        missing = sorted(set(grid) - set(int(x) for x in group["limit"]))
        if missing:
            raise InputError("summary tables", "/".join(key), f"no model at limit(s) {missing} of the compared grid {grid}")
        group = group[group["limit"].isin(grid)].sort_values("limit")
        largest = grid[-1]
        own = own_screening.get(key, screening.iloc[:0])
        own = own[own["limit"].isin(grid)]
        if len(own) and int(own["reference_limit"].iloc[0]) != largest:
            raise InputError(
                "screening table",
                "/".join(key),
                f"reference limit {int(own['reference_limit'].iloc[0])} is not the compared grid's largest {largest}",
            )
        smaller = own[own["limit"] < largest]
        agreement = {}
        for metric in AGREEMENT:
            low, mean, undefined = _summary(smaller[metric]) if metric in smaller else (math.nan, math.nan, 0)
            agreement |= {f"{metric}_min": low, f"{metric}_mean": mean, f"n_{metric}_undefined": undefined}
        share = own["share_selected"].astype(float) if len(own) else pd.Series(dtype=float)
        sim_min, sim_mean = similarity_stats(similarity[key], grid)
        rows.append(
            dict(zip(KEY, key))
            | {
                "limits": " ".join(map(str, grid)),
                "n_limits": len(grid),
                "largest_limit": largest,
                "rmse_largest_limit": float(group["rmse"].iloc[-1]),
                "rmse_min": float(group["rmse"].min()),
                "rmse_max": float(group["rmse"].max()),
                "n_compared": len(smaller),
                **agreement,
                "share_selected_min": float(share.min()) if len(share) else math.nan,
                "share_selected_max": float(share.max()) if len(share) else math.nan,
                "similarity_min": sim_min,
                "similarity_mean": sim_mean,
                "normalizer_kind": str(group["normalizer_kind"].iloc[0]) if "normalizer_kind" in group else "",
                "n_inference": int(own["n_screened"].max()) if len(own) else 0,
            }
            | flip_stats(overlaps[key], grid)
        )
    return pd.DataFrame(rows, columns=[c for c in STABILITY_COLUMNS if c != "mode"])


def family_table(stability: pd.DataFrame) -> pd.DataFrame:
    """Per family: the mean of each stability measure over the (system, model) rows where it is
    defined, and the counts behind it: ``n_models`` rows, ``{m}_cells`` defined (system, model,
    limit) comparisons of recall / precision / Jaccard and ``{m}_undefined`` cells without a value."""
    table = stability.assign(flip_share_per_step=stability["flips_per_step"] / stability["n_inference"].replace(0, np.nan))
    out = []
    for (mode, family), rows in table.groupby(["mode", "family"], sort=False):
        record = {"mode": mode, "family": family, "n_models": len(rows), "limits": " | ".join(dict.fromkeys(rows["limits"]))}
        for metric in AGREEMENT:
            defined = rows[f"{metric}_min"].notna()
            record[f"{metric}_min"] = float(rows.loc[defined, f"{metric}_min"].mean()) if defined.any() else math.nan
            record[f"{metric}_mean"] = float(rows.loc[defined, f"{metric}_mean"].mean()) if defined.any() else math.nan
            record[f"{metric}_models"] = int(defined.sum())
            record[f"{metric}_undefined"] = int(rows[f"n_{metric}_undefined"].sum())
            record[f"{metric}_cells"] = int(rows["n_compared"].sum()) - record[f"{metric}_undefined"]
        for column in ("similarity_min", "similarity_mean", "rmse_largest_limit", "flip_share_per_step"):
            record[column] = float(rows[column].mean())
        out.append(record)
    return pd.DataFrame(out)


# --- the findings section ---


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _best(table: pd.DataFrame, column: str, label) -> str | None:
    """``label(row)`` of the row with the highest finite ``column`` (ties: all of them)."""
    finite = table[np.isfinite(table[column].astype(float))]
    if finite.empty:
        return None
    top = finite[finite[column] == finite[column].max()]
    return " and ".join(label(row) for _, row in top.iterrows())


def _coverage(rows: pd.DataFrame, metric: str) -> str:
    """ "over 4 of 16 (system, model) pairs, 12 of 48 limit cells; undefined: ..." for a family."""
    defined = rows[f"{metric}_min"].notna()
    cells = int(rows["n_compared"].sum())
    undefined = int(rows[f"n_{metric}_undefined"].sum())
    text = f"{int(defined.sum())} of {len(rows)} (system, model) pairs, {cells - undefined} of {cells} limit cells"
    if undefined:
        by_system = rows.groupby("system", sort=False)[f"n_{metric}_undefined"].sum()
        text += " (undefined, an empty screening set: " + ", ".join(f"{s} {n}" for s, n in by_system.items() if n) + ")"
    return text


def findings(
    stability: pd.DataFrame, target: str, notes: Mapping[str, str] | None = None, modes: Mapping[str, str] | None = None
) -> list[str]:
    """The findings as short plain sentences (HTML-escaped by :func:`findings_html`).

    ``notes``: system -> a caveat said next to every finding on that system (e.g. that its
    labels are a stand-in); a finding over several systems carries the caveats of all of them.
    ``modes``: screening mode name -> what it selects (said with each mode's findings).
    """
    if stability.empty:
        return ["No model was trained, so there is nothing to compare."]
    notes, modes = dict(notes or {}), dict(modes or {})

    def caveat(systems) -> str:
        said = list(dict.fromkeys(notes[s] for s in systems if notes.get(s)))
        return f" [{'; '.join(said)}]" if said else ""

    grid = ", ".join(dict.fromkeys(stability["limits"]))
    out = [f"Compared on the limits every family trained on: {grid} (cross-family numbers use no other limit)."]
    first_mode = True
    for mode, part in stability.groupby("mode", sort=False):
        label = f"[{mode}: {modes[mode]}] " if mode in modes else (f"[{mode}] " if mode else "")
        out += [label + sentence for sentence in _mode_findings(part, target, caveat, with_similarity=first_mode)]
        first_mode = False
    single = stability[stability["n_limits"] < 2].drop_duplicates(KEY)
    if len(single):
        names = ", ".join(f"{r.system} {r.family} {r.model}" for r in single.itertuples())
        out.append(f"Trained at one limit only, so without stability measures: {names}.")
    return out


def _mode_findings(stability: pd.DataFrame, target: str, caveat, with_similarity: bool) -> list[str]:
    """The findings of one screening mode."""
    out = []
    families = family_table(stability)
    for metric, what in (
        ("recall", "recall against the largest limit (lowest over the smaller limits)"),
        ("precision", "precision against the largest limit (lowest over the smaller limits)"),
        ("jaccard", "Jaccard overlap with the largest limit (lowest over the smaller limits)"),
    ):
        column = f"{metric}_min"
        per_family = "; ".join(
            f"{r.family} {_fmt(getattr(r, column))} over {_coverage(stability[stability['family'] == r.family], metric)}"
            for r in families.itertuples()
        )
        best = _best(families, column, lambda r: r["family"])
        defined = int(np.isfinite(families[column].astype(float)).sum())
        if best is None:
            out.append(f"No family has a defined {what}: {per_family}.{caveat(stability['system'])}")
        elif defined < 2:
            out.append(f"Only {best} has a defined {what} ({per_family}).{caveat(stability['system'])}")
        else:
            out.append(f"Highest {what}: {best} ({per_family}; means over the defined pairs).{caveat(stability['system'])}")
    if with_similarity:  # RMSE and SimilarityScore do not depend on the screening mode
        best = _best(families, "similarity_mean", lambda r: r["family"])
        if best:
            kinds = ", ".join(dict.fromkeys(stability["normalizer_kind"]))
            values = ", ".join(f"{r.family} {_fmt(r.similarity_mean)}" for r in families.itertuples())
            out.append(f"Highest SimilarityScore (mean over limit pairs, ȳ = {kinds}): {best} ({values}).{caveat(stability['system'])}")
    flips = ", ".join(f"{r.family} {_fmt(100 * r.flip_share_per_step, 2)} %" for r in families.itertuples())
    out.append(
        f"Screening calls that change per limit step, as a share of the inference set (mean over systems and models): {flips}.{caveat(stability['system'])}"
    )
    undefined = stability[stability["recall_min"].isna() & (stability["n_limits"] > 1)]
    if len(undefined):
        names = ", ".join(f"{r.system} {r.family} {r.model}" for r in undefined.itertuples())
        out.append(f"Recall is undefined where the mode selects no {target} prediction at the largest limit: {names}.")
    flood = stability[(stability["recall_min"] >= 0.99) & (stability["precision_min"] < 0.5)]
    for row in flood.itertuples():
        out.append(
            f"{row.system} {row.family} {row.model}: recall {_fmt(row.recall_min)} against limit {row.largest_limit} "
            f"hides false positives: precision down to {_fmt(row.precision_min)}, up to "
            f"{_fmt(100 * row.share_selected_max, 1)} % of the inference set selected.{caveat([row.system])}"
        )
    ranked = stability.sort_values(["flips_max", "family", "model"], ascending=[False, True, True], kind="stable")
    for system, rows in ranked.groupby("system", sort=False):
        row = rows.iloc[0]
        if row["flips_max"] == 0:
            out.append(f"{system}: no screening call changes with the limit, for any model.{caveat([system])}")
            continue
        low, high = row["flips_max_between"].split("-")
        out.append(
            f"{system}: the limit matters most for {row['family']} {row['model']}, whose screening calls "
            f"change for {row['flips_max']} of {row['n_inference']} inference structures between limits "
            f"{low} and {high}; its selection is final from limit {row['converged_from']} on.{caveat([system])}"
        )
    return out


def noise_lines(noise_findings: pd.DataFrame | None, notes: Mapping[str, str] | None = None) -> list[str]:
    """The paper's findings against the retraining noise (:func:`qcrobust.replicas.finding_verdicts`
    rows) as sentences, each with its system's caveat (``notes``)."""
    from qcrobust.replicas import findings_lines

    if noise_findings is None or noise_findings.empty:
        return []
    notes = dict(notes or {})
    lines = findings_lines(noise_findings)
    return [f"{line} [{notes[s]}]" if notes.get(s) else line for line, s in zip(lines, noise_findings["system"])]


def result_warnings(
    screening: pd.DataFrame, limit_sizes: Mapping[str, pd.DataFrame], allegro_limits: Sequence[int], select_min_val: int
) -> list[str]:
    """Results that are legal but not meaningful, one sentence each: a (system, mode) whose
    screen is empty on every model at some limits, and Allegro limits whose validation split is
    too small to choose a checkpoint on (``limit_sizes``: system -> its limit_sizes.csv)."""
    out = []
    for (system, mode), part in screening.groupby(["system", "mode"], sort=False):
        selected = part.groupby("limit")["n_selected"].max()
        empty = [int(x) for x in selected.index[selected == 0]]
        if empty:
            where = "at every limit" if len(empty) == len(selected) else f"at limits {', '.join(map(str, empty))}"
            out.append(
                f"{system}, mode {mode}: no model selects any inference structure {where}; "
                "its screening comparisons there are undefined or trivially equal."
            )
    for system, sizes in limit_sizes.items():
        few = sizes[sizes["limit"].isin(list(allegro_limits)) & (sizes["n_val"] < select_min_val)]
        if len(few):
            detail = ", ".join(f"limit {int(r.limit)}: {int(r.n_val)}" for r in few.itertuples())
            out.append(
                f"{system}: Allegro's validation split is smaller than allegro.select_min_val = {select_min_val} "
                f"({detail}); those models are their last epoch's, not chosen on validation data."
            )
    return out


def findings_html(
    stability: pd.DataFrame,
    target: str,
    notes: Mapping[str, str] | None = None,
    modes: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    noise_findings: pd.DataFrame | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """A small standalone HTML page: the warnings (results legal but not meaningful), the
    findings (plus ``extra`` sentences), the findings against the retraining noise (holds /
    fails / within retraining noise, when the study has replicas), then the per-family and
    per-model tables."""
    sentences = findings(stability, target, notes, modes) + list(extra)
    items = "\n".join(f"<li>{html.escape(sentence)}</li>" for sentence in sentences)
    if warnings:
        items = "<li><b>Warnings</b><ul>\n" + "\n".join(f"<li>{html.escape(w)}</li>" for w in warnings) + "\n</ul></li>\n" + items
    against_noise = noise_lines(noise_findings, notes)
    if against_noise:
        items += (
            "\n</ul>\n<h2>Against the retraining noise</h2>\n<p>Replicas (config replicas): each finding "
            "holds, fails, is within retraining noise or undetermined (too few seeds); exact permutation "
            "tests over seeds, alpha 0.1. Tables: noise_all.csv, findings_noise.csv.</p>\n<ul>\n"
            + "\n".join(f"<li>{html.escape(line)}</li>" for line in against_noise)
        )
    tables = ""
    if not stability.empty:
        tables = (
            "<h2>Per family</h2>\n"
            + family_table(stability).to_html(index=False, float_format="%.3f", border=0)
            + "\n<h2>Per model</h2>\n"
            + stability.to_html(index=False, float_format="%.3f", border=0)
        )
    style = (
        "body{font-family:sans-serif;margin:1.5em;max-width:70em} li{margin:.4em 0} "
        "table{border-collapse:collapse;font-size:.85em} td,th{padding:.2em .6em;border-bottom:1px solid #ddd}"
    )
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Findings</title><style>{style}</style></head>\n"
        f"<body>\n<h1>Findings</h1>\n<p>Screening modes: {html.escape('; '.join(f'{k}: {v}' for k, v in (modes or {}).items()) or target)}. "
        "Stability measures are explained in the caption.</p>\n"
        f"<ul>\n{items}\n</ul>\n{tables}\n</body></html>\n"
    )


NOISE_REPORT_TABLES = ("noise_all", "noise_summary", "findings_noise")
