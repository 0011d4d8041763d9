"""The paper's findings against the retraining-noise floor (rule report_noise: ``findings_noise.csv``).

Per system and family, each of the paper's findings reads *holds*, *fails*, *within retraining
noise* or *undetermined* (:func:`finding_verdicts` says when), from the replica tables of
:mod:`qcrobust.replicas` and the exact permutation tests of :mod:`qcrobust.permutation`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qcrobust.permutation import holm, value_test
from qcrobust.replicas import format_number, text_columns

FINDING_COLUMNS = [
    "system",
    "family",
    "model",
    "mode",
    "finding",
    "claim",
    "verdict",
    "numbers",
    "statistic",
    "p_value",
    "min_p",
    "correction",
    "alpha",
    "n_seeds",
]


FINDING_VERDICTS = ("holds", "fails", "within retraining noise", "undetermined")


CLAIMS = {
    "a": "{stability}'s screening is stable across limits",
    "b": "{self_pretrained} Allegro's test errors are below {reference}'s",
    "c": "pretrained Allegro's SimilarityScores are above {reference}'s",
}
NAMES = {"rf": "RandomForest", "self": "self-pretrained"}  # how the claims name the default models


def claim(finding: str, stability_model: str = "rf", self_pretrained: str = "self", reference: str = "scratch") -> str:
    """The paper's claim ``finding`` (a, b, c) about the configured models (config ``verdicts``)."""
    return CLAIMS[finding].format(
        stability=NAMES.get(stability_model, stability_model),
        self_pretrained=NAMES.get(self_pretrained, self_pretrained),
        reference=reference,
    )


def settings_from_config(verdicts: Mapping) -> dict:
    """:func:`finding_verdicts`' keyword arguments from config ``verdicts`` (schema defaults filled):
    every key but ``pairs``, which chooses the compared limit pairs of the noise tables."""
    return {key: value for key, value in verdicts.items() if key != "pairs"}


def _scores_by_seed(scores: pd.DataFrame, limits: Sequence[int]) -> tuple[list[int], np.ndarray]:
    """Seeds and an RMSE matrix (limit x seed) of one model's :func:`replica_scores` rows."""
    table = scores.pivot(index="limit", columns="seed", values="rmse").loc[list(limits)]
    if table.isna().any().any():
        raise ValueError("replica scores: every limit needs the same seeds")
    return [int(s) for s in table.columns], table.to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class _Context:
    alpha: float
    claims: Mapping[str, str]  # finding -> the claim about the configured models
    reference: str  # the Allegro regime the others are compared with


def _finding(
    ctx: _Context,
    system: str,
    family: str,
    model: str,
    mode: str,
    finding: str,
    verdict_: str,
    numbers: str,
    statistic: str,
    p_value: float = math.nan,
    n_seeds: int = 0,
    *,
    min_p: float = math.nan,
    correction: str = "",
) -> dict:
    """One finding's row; ``min_p`` is the smallest p one of its tests can reach with its seeds
    (Holm over k tests multiplies it by k: ``correction`` says which correction decides)."""
    return {
        "system": system,
        "family": family,
        "model": model,
        "mode": mode,
        "finding": finding,
        "claim": ctx.claims[finding],
        "verdict": verdict_,
        "numbers": numbers,
        "statistic": statistic,
        "p_value": p_value,
        "min_p": min_p,
        "correction": correction,
        "alpha": ctx.alpha,
        "n_seeds": n_seeds,
    }


def _finding_a(ctx: _Context, part: pd.DataFrame, system: str, family: str, model: str, mode: str, high: float) -> dict:
    alpha = ctx.alpha
    largest = int(part["limit_j"].max())
    against = part[part["limit_j"] == largest].sort_values("limit_i")
    n, min_p = int(against["n_seeds"].iloc[0]), float(against["min_p"].iloc[0])
    p = against["p_value"].to_numpy(dtype=float)
    p_holm = holm(p)
    raw = int((p <= alpha).sum())
    corrected = int((p_holm <= alpha).sum())  # never with len(p) * min_p > alpha: Holm's p is at least that
    worst = against.loc[against["between"].astype(float).idxmin()]
    lowest = float(worst["between"])
    within = float(against["within_j"].iloc[0])
    numbers = (
        f"Jaccard with limit {largest} (mean over seed pairs) at least {format_number(lowest)} (at limit {int(worst['limit_i'])}; "
        f"'high' means >= {high:g}), between seeds at {largest} {format_number(within)}; beyond noise at {raw} of {len(p)} limits "
        f"by raw p, {corrected} after Holm"
    )
    statistic = (
        f"T = mean within-limit - mean between-limit Jaccard index, exact permutation test over 2 x {n} seeds "
        f"({int(against['n_splits'].iloc[0])} splits, smallest p {format_number(min_p)}), alpha {alpha:g}; "
        f"p against limit {largest}: " + ", ".join(f"{int(x)}: {format_number(q)}" for x, q in zip(against["limit_i"], p))
    )
    nothing_selected = bool((against["n_empty_i"] >= n).all() and (against["n_empty_j"] >= n).all())
    everything_selected = bool((against["n_all_i"] >= n).all() and (against["n_all_j"] >= n).all())
    if nothing_selected:  # every screen empty: "stable" would only say that nothing is selected
        result = "undetermined"
        numbers += "; no seed selects anything at these limits, so there is no screen to be stable"
    elif everything_selected:  # the same for a screen that keeps the whole inference set
        result = "undetermined"
        numbers += "; every seed selects every inference structure at these limits, so the screen selects nothing out"
    elif min_p > alpha:
        result = "undetermined"
        numbers += f"; {n} seed(s) cannot reach p <= {alpha:g}"
    elif corrected:
        result = "fails"
    elif lowest >= high and raw == 0:
        result = "holds"
    else:
        result = "within retraining noise"
    correction = (
        f"holds: no pair beyond noise by raw p; fails: Holm over {len(p)} limit pair(s), floor {format_number(min(1.0, len(p) * min_p))}"
    )
    return _finding(
        ctx, system, family, model, mode, "a", result, numbers, statistic, float(p.min()), n, min_p=min_p, correction=correction
    )


def _finding_b(ctx: _Context, scratch: pd.DataFrame, own: pd.DataFrame, system: str, family: str, model: str) -> dict:
    alpha, reference = ctx.alpha, ctx.reference
    limits = sorted(set(scratch["limit"].astype(int)) & set(own["limit"].astype(int)))
    _, base = _scores_by_seed(scratch, limits)
    _, mine = _scores_by_seed(own, limits)
    if base.shape != mine.shape:
        return _finding(
            ctx,
            system,
            family,
            model,
            "",
            "b",
            "undetermined",
            f"{model} has {mine.shape[1]} seeds, {reference} {base.shape[1]}",
            "the exact test compares equal numbers of seeds",
        )
    n = base.shape[1]
    parts, tests, reused = [], [], []
    for k, limit in enumerate(limits):
        if np.array_equal(base[k], mine[k]):
            reused.append(limit)
            continue
        test = value_test(base[k], mine[k])  # difference = mean(self) - mean(scratch)
        tests.append((limit, test))
        parts.append(
            f"limit {limit}: {model} {format_number(mine[k].mean())} vs {reference} {format_number(base[k].mean())} eV/atom "
            f"(Δ {format_number(test['difference'])}, seed sd {format_number(test['seed_sd'])}, p {format_number(test['p_value'])})"
        )
    if reused:
        parts.append(
            f"not compared at limit(s) {', '.join(map(str, reused))}: {model} is {reference}'s model there (identical RMSE for every seed)"
        )
    statistic = (
        f"T = |mean test RMSE {model} - mean {reference}| per limit, exact permutation test over 2 x {n} seeds, alpha {alpha:g}; "
        "holds needs p <= alpha and a lower mean at every compared limit (intersection-union, no adjustment); "
        "fails: higher with Holm-adjusted p <= alpha at some limit"
    )
    if not tests:
        return _finding(ctx, system, family, model, "", "b", "undetermined", "; ".join(parts) or "no common limit", statistic, n_seeds=n)
    p = np.array([t["p_value"] for _, t in tests])
    p_holm = holm(p)
    min_p = tests[0][1]["min_p"]
    lower = [t["difference"] < 0 and t["p_value"] <= alpha for _, t in tests]
    worse = [t["difference"] > 0 and q <= alpha for (_, t), q in zip(tests, p_holm)]
    if min_p > alpha:
        result = "undetermined"
        parts.append(f"{n} seed(s) cannot reach p <= {alpha:g}")
    elif any(worse):
        result = "fails"
    elif all(lower):
        result = "holds"
    else:
        result = "within retraining noise"
    correction = f"holds: intersection-union over {len(tests)} limit(s), no adjustment; fails: Holm over {len(tests)} limit(s)"
    return _finding(
        ctx, system, family, model, "", "b", result, "; ".join(parts), statistic, float(p.max()), n, min_p=min_p, correction=correction
    )


def _replica_similarity(rmse: np.ndarray, normalizer: float) -> np.ndarray:
    """Per seed (column): the mean off-diagonal SimilarityScore of that seed's models across the limits (rows)."""
    pairs = list(itertools.combinations(range(rmse.shape[0]), 2))
    gaps = np.array([np.abs(rmse[a] - rmse[b]) for a, b in pairs])
    return 1.0 - gaps.mean(axis=0) / normalizer


def _finding_c(ctx: _Context, scratch: pd.DataFrame, own: pd.DataFrame, system: str, family: str, model: str) -> dict:
    alpha, reference = ctx.alpha, ctx.reference
    limits = sorted(set(scratch["limit"].astype(int)) & set(own["limit"].astype(int)))
    kinds = set(scratch["normalizer_kind"].astype(str)) | set(own["normalizer_kind"].astype(str))
    normalizer = float(scratch["normalizer"].iloc[0])
    statistic = (
        f"SimilarityScore of a replica: seed s's models at every limit, mean over the limit pairs; T = |mean {model} - "
        f"mean {reference}| over the replicas, exact permutation test, alpha {alpha:g}"
    )
    if len(limits) < 2 or len(kinds) > 1 or not normalizer > 0:
        why = (
            "fewer than 2 common limits"
            if len(limits) < 2
            else f"normalizers differ: {sorted(kinds)}"
            if len(kinds) > 1
            else "normalizer ȳ = 0: SimilarityScore undefined"
        )
        return _finding(ctx, system, family, model, "", "c", "undetermined", why, statistic)
    _, base = _scores_by_seed(scratch, limits)
    _, mine = _scores_by_seed(own, limits)
    if base.shape != mine.shape:
        return _finding(
            ctx,
            system,
            family,
            model,
            "",
            "c",
            "undetermined",
            f"{model} has {mine.shape[1]} seeds, {reference} {base.shape[1]}",
            statistic,
        )
    n = base.shape[1]
    s_base, s_mine = _replica_similarity(base, normalizer), _replica_similarity(mine, normalizer)
    test = value_test(s_base, s_mine)  # difference = mean(pretrained) - mean(scratch)
    numbers = (
        f"SimilarityScore over limits {', '.join(map(str, limits))} (ȳ = {kinds.pop()} {format_number(normalizer)} eV/atom): "
        f"{model} {format_number(s_mine.mean())} vs {reference} {format_number(s_base.mean())} (Δ {format_number(test['difference'])}, "
        f"seed sd {format_number(test['seed_sd'])}), p {format_number(test['p_value'])}"
    )
    if test["min_p"] > alpha:
        result = "undetermined"
        numbers += f"; {n} seed(s) cannot reach p <= {alpha:g}"
    elif test["p_value"] > alpha:
        result = "within retraining noise"
    else:
        result = "holds" if test["difference"] > 0 else "fails"
    return _finding(
        ctx,
        system,
        family,
        model,
        "",
        "c",
        result,
        numbers,
        statistic + f" ({test['n_splits']} splits)",
        test["p_value"],
        n,
        min_p=test["min_p"],
        correction="none (one test per model)",
    )


def finding_verdicts(
    noise: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    alpha: float,
    jaccard_high: float = 0.8,
    stability_model: str = "rf",
    allegro_family: str = "allegro",
    reference: str = "scratch",
    self_pretrained: str = "self",
    pretrained: Sequence[str] = ("external", "self"),
) -> pd.DataFrame:
    """The paper's findings, per system (and family), against the retraining noise.

    ``noise``: :func:`noise_table` of many models concatenated (with ``system, family, model``
    columns); ``scores``: :func:`replica_scores` of many models likewise. One row per (system,
    finding[, model, mode]), columns ``FINDING_COLUMNS``: ``finding`` (a, b, c), ``claim``,
    ``verdict`` (one of ``FINDING_VERDICTS``), ``numbers`` and ``statistic`` (text with the
    values and the test), ``p_value`` (the deciding one; NaN when none), ``n_seeds``.

    A finding "holds" when the data show what it claims *and* the difference it rests on (or, for
    a claim of stability, the absence of one) survives the retraining noise; it "fails" when the
    data show the opposite beyond the noise; it is "within retraining noise" when the noise is
    as large as the difference, so the seeds cannot tell; "undetermined" when the test cannot
    reach ``alpha`` (too few seeds) or a model is missing. Per finding:

    (a) classical ``stability_model``, per screening mode, on the pairs (i, largest limit): holds when
        the mean Jaccard index with the largest limit is >= ``jaccard_high`` at every smaller
        limit and no pair is beyond noise even by its raw p (the strict reading of "stable");
        fails when some pair is beyond noise after Holm across those pairs (a limit effect that
        survives the correction); otherwise within retraining noise. Undetermined when no seed
        selects anything, or every seed selects everything, at the compared limits (such a screen
        is trivially "stable").
    (b) Allegro ``self_pretrained`` against ``reference``, per limit both trained on (limits where the
        two are the same model, identical RMSE for every seed, are left out and named): holds
        when self's mean test RMSE is lower with p <= alpha at every compared limit (an
        intersection-union test: each must reach alpha, no adjustment needed); fails when it is
        higher at some limit with a Holm-adjusted p <= alpha; otherwise within retraining noise.
    (c) each ``pretrained`` model against ``reference``: the SimilarityScore of a replica (seed s
        at every common limit; the mean over limit pairs of 1 - |RMSE_i - RMSE_j| / ȳ), compared
        over the n replicas of each model by the exact test on the means: holds when pretrained
        is higher with p <= alpha, fails when lower with p <= alpha, otherwise within noise.
    """
    ctx = _Context(
        alpha=alpha,
        claims={f: claim(f, stability_model, self_pretrained, reference) for f in CLAIMS},
        reference=reference,
    )
    noise, rows = text_columns(noise), []
    classical = noise[(noise["model"] == stability_model) & (noise["quantity"] == "jaccard")]
    for (system, family, model, mode), part in classical.groupby(["system", "family", "model", "mode"], sort=False):
        rows.append(_finding_a(ctx, part, system, family, model, mode, jaccard_high))
    allegro = scores[scores["family"] == allegro_family]
    for system, part in allegro.groupby("system", sort=False):
        models = {m: g for m, g in part.groupby("model", sort=False)}
        if reference not in models:
            for finding in ("b", "c"):
                rows.append(_finding(ctx, system, allegro_family, reference, "", finding, "undetermined", f"no {reference} model", ""))
            continue
        if self_pretrained in models:
            rows.append(_finding_b(ctx, models[reference], models[self_pretrained], system, allegro_family, self_pretrained))
        else:
            rows.append(_finding(ctx, system, allegro_family, self_pretrained, "", "b", "undetermined", f"no {self_pretrained} model", ""))
        for model in pretrained:
            if model in models:
                rows.append(_finding_c(ctx, models[reference], models[model], system, allegro_family, model))
            else:
                rows.append(_finding(ctx, system, allegro_family, model, "", "c", "undetermined", f"no {model} model", ""))
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def findings_lines(findings: pd.DataFrame) -> list[str]:
    """:func:`finding_verdicts` rows as short sentences: "system family model [mode]: (a) claim: verdict -- numbers.
    [p, smallest possible p, correction, alpha]" (the bracket where a test ran)."""
    out = []
    for row in text_columns(findings, ("mode", "numbers", "correction")).itertuples():
        mode = f" [{row.mode}]" if row.mode else ""
        test = (
            f" [p {format_number(row.p_value)}, smallest possible p {format_number(row.min_p)}, {row.correction}, alpha {row.alpha:g}]"
            if math.isfinite(float(row.p_value))
            else ""
        )
        out.append(f"{row.system} {row.family} {row.model}{mode}: ({row.finding}) {row.claim}: {row.verdict} -- {row.numbers}.{test}")
    return out
