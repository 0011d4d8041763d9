"""The findings section (a few generated sentences per screening mode, with the caveats that
apply) and the findings page, the HTML that opens the report (rule report_findings)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from qcrobust.report import KEY
from qcrobust.report.stability import family_table


def mode_descriptions(config: Mapping) -> dict[str, str]:
    """Screening mode name -> what it selects, for the findings."""
    from qcrobust.screening import modes_from_config

    return {mode.name: mode.describe(config["target"]) for mode in modes_from_config(config["screening"]["modes"])}


# --- the dataset table ---


# --- stability of each model across the limit grid ---


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


def findings_sentences(
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
    """The paper's findings against the retraining noise (:func:`qcrobust.findings_vs_noise.finding_verdicts`
    rows) as sentences, each with its system's caveat (``notes``)."""
    from qcrobust.findings_vs_noise import findings_lines

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
    sentences = findings_sentences(stability, target, notes, modes) + list(extra)
    items = "\n".join(f"<li>{html.escape(sentence)}</li>" for sentence in sentences)
    if warnings:
        items = "<li><b>Warnings</b><ul>\n" + "\n".join(f"<li>{html.escape(w)}</li>" for w in warnings) + "\n</ul></li>\n" + items
    against_noise = noise_lines(noise_findings, notes)
    if against_noise:
        alpha = ", ".join(f"{a:g}" for a in sorted(set(noise_findings["alpha"].astype(float))))
        items += (
            "\n</ul>\n<h2>Against the retraining noise</h2>\n<p>Replicas (config replicas): each finding "
            "holds, fails, is within retraining noise or undetermined (too few seeds to reach alpha, or a "
            f"model missing); exact permutation tests over seeds, alpha {alpha} (config verdicts.alpha). "
            "Tables: noise_all.csv, findings_noise.csv.</p>\n<ul>\n" + "\n".join(f"<li>{html.escape(line)}</li>" for line in against_noise)
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
