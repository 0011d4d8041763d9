"""Figures of the evaluation (matplotlib, headless): one function per figure, tables in, PNG out.

- :func:`rmse_vs_limit` (paper Figs. 3, 5), :func:`similarity_heatmap` (Figs. 6, 8–10),
  :func:`screening_vs_limit` (Fig. 11, with precision, Jaccard and the selected share beside the
  recall), :func:`overlap_heatmap` (Figs. 12–15), :func:`rmse_boxplots` (Figs. 4, 7: RMSE over
  the limits every family shares, per model and system, one panel per family).
PNG files carry no timestamp or version, so equal tables give equal bytes.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from qcrobust.io import atomic_path  # noqa: E402

DPI = 120


def _save(fig, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def _title(table: pd.DataFrame) -> str:
    row = table.iloc[0]
    mode = f" [{row['mode']}]" if "mode" in table.columns else ""
    return f"{row['system']} - {row['family']} / {row['model']}{mode}"


def rmse_vs_limit(rmse: pd.DataFrame, path: str | os.PathLike) -> None:
    """Test RMSE and MAE against the limit (table ``rmse_by_limit``)."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(rmse["limit"], rmse["rmse"], "o-", label="RMSE")
    ax.plot(rmse["limit"], rmse["mae"], "s--", alpha=0.7, label="MAE")
    ax.set_xlabel("limit (max. defects on A5 in training)")
    ax.set_ylabel("test error (eV/atom)")
    ax.set_xticks(rmse["limit"])
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(_title(rmse))
    _save(fig, path)


def _heatmap(ax, matrix: np.ndarray, labels, annotations, cmap: str, vmin=None, vmax=None, colorbar_label: str = ""):
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    size = 7 if len(labels) <= 8 else 5
    for (i, j), text in np.ndenumerate(annotations):
        # light text on the dark end of the colour map
        dark = np.isfinite(matrix[i, j]) and image.norm(matrix[i, j]) < 0.5
        ax.text(j, i, text, ha="center", va="center", fontsize=size, color="white" if dark else "black")
    plt.colorbar(image, ax=ax, label=colorbar_label, shrink=0.85)


def similarity_heatmap(similarity: pd.DataFrame, path: str | os.PathLike, title: str, normalizer: str = "") -> None:
    """SimilarityScore matrix (table ``similarity``: column ``limit`` then one column per limit);
    ``normalizer`` names the ȳ it was computed with (shown under the title)."""
    labels = similarity["limit"].astype(int).tolist()
    matrix = similarity.drop(columns="limit").to_numpy(dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    finite = matrix[np.isfinite(matrix)]
    low = min(float(finite.min()), 0.0) if finite.size else 0.0
    annotations = np.vectorize(lambda v: "" if not np.isfinite(v) else f"{v:.2f}")(matrix)
    _heatmap(ax, matrix, labels, annotations, "viridis", vmin=low, vmax=1.0, colorbar_label="SimilarityScore")
    ax.set_xlabel("limit j")
    ax.set_ylabel("limit i")
    ax.set_title(title + (f"\n1 − |RMSE_i − RMSE_j| / ȳ, ȳ = {normalizer}" if normalizer else ""), fontsize=9)
    _save(fig, path)


def normalizer_text(rmse: pd.DataFrame) -> str:
    """ "σ(y_test) = 0.0064 eV/atom" from a ``rmse_by_limit`` table (its normalizer columns)."""
    from qcrobust.metrics import NORMALIZER_LABELS

    kind = str(rmse["normalizer_kind"].iloc[0])
    return f"{NORMALIZER_LABELS.get(kind, kind)} = {float(rmse['normalizer'].iloc[0]):.4f} eV/atom"


SCREENING_CURVES = (
    ("recall", "recall", "o-"),
    ("precision", "precision", "s--"),
    ("jaccard", "Jaccard", "^-."),
    ("share_selected", "selected share", "x:"),
)


def screening_vs_limit(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Each limit's screening set against the largest limit's (table ``screening_vs_max_limit``):
    recall, precision, Jaccard and the share of the inference set selected. Undefined points
    (an empty set) are left out, and the legend says at how many limits."""
    fig, ax = plt.subplots(figsize=(5.4, 3.4))
    reference = int(table["reference_limit"].iloc[0])
    for column, label, style in SCREENING_CURVES:
        values = table[column].astype(float)
        undefined = int(values.isna().sum())
        suffix = f" (undefined at {undefined} of {len(values)})" if undefined else ""
        ax.plot(table["limit"], values, style, label=label + suffix)
    if table["n_reference"].iloc[0] == 0:
        ax.text(
            0.5,
            0.5,
            f"nothing selected at limit {reference}:\nrecall and Jaccard vs it undefined",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=8,
        )
    ax.set_xticks(table["limit"])
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("limit")
    ax.set_ylabel(f"vs limit {reference}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(_title(table))
    _save(fig, path)


def overlap_heatmap(overlaps: pd.DataFrame, path: str | os.PathLike) -> None:
    """|S_i ∩ S_j| as a share of |S_i| (colour) and as a count (text), every pair of limits."""
    share = overlaps.pivot(index="limit_i", columns="limit_j", values="share_of_i")
    count = overlaps.pivot(index="limit_i", columns="limit_j", values="n_common")
    labels = share.index.astype(int).tolist()
    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    annotations = count.to_numpy().astype(int).astype(str)
    _heatmap(ax, share.to_numpy(dtype=np.float64), labels, annotations, "magma", vmin=0.0, vmax=1.0, colorbar_label="|S_i ∩ S_j| / |S_i|")
    ax.set_xlabel("limit j")
    ax.set_ylabel("limit i")
    ax.set_title(_title(overlaps) + " (blank row: S_i empty)", fontsize=9)
    _save(fig, path)


def audit_cumulative(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Precision (solid) and recall (dashed) of the first k audit structures by prediction, one
    colour per limit (table ``audit_cumulative`` of one mode; matbench-discovery's figure)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharex=True)
    limits = sorted(int(x) for x in table["limit"].unique())
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(limits)))
    for colour, limit in zip(colours, limits):
        part = table[table["limit"] == limit]
        axes[0].plot(part["k"], part["precision"], color=colour, label=f"limit {limit}")
        axes[1].plot(part["k"], part["recall"], "--", color=colour)
    for ax, label in zip(axes, ("precision of the first k", "recall of the first k")):
        ax.set_xlabel("k (audit structures screened, lowest prediction first)")
        ax.set_ylabel(label)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    if table["recall"].isna().all():
        axes[1].text(
            0.5,
            0.5,
            "undefined: nothing truly selected\nin the audit set",
            ha="center",
            va="center",
            transform=axes[1].transAxes,
            fontsize=8,
        )
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle(_title(table), fontsize=9)
    _save(fig, path)


def candidate_shares(table: pd.DataFrame, path: str | os.PathLike, target: str = "target", title: str = "") -> None:
    """Per screening mode: each inference structure's share of screens that select it against its
    mean predicted target; audited structures marked by whether the mode truly selects them."""
    modes = list(dict.fromkeys(table["mode"]))
    fig, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 3.4), squeeze=False, sharey=True)
    for ax, mode in zip(axes[0], modes):
        part = table[table["mode"] == mode]
        ax.scatter(part["y_pred_mean"], part["share_selected"], s=4, alpha=0.3, color="grey", label="inference")
        if "truly_selected" in part:
            for value, colour in (("yes", "tab:green"), ("no", "tab:red")):
                audited = part[part["truly_selected"].astype(str) == value]
                if len(audited):
                    ax.scatter(
                        audited["y_pred_mean"],
                        audited["share_selected"],
                        s=10,
                        color=colour,
                        label=f"audit, truly selected: {value} ({len(audited)})",
                    )
        ax.set_title(f"{mode} ({int(part['n_screens'].iloc[0])} screens)", fontsize=9)
        ax.set_xlabel(f"mean predicted {target} (eV/atom)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("share of screens selecting it")
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def rmse_boxplots(rmse_all: pd.DataFrame, path: str | os.PathLike, limits: list[int] | None = None) -> None:
    """Box plots of the test RMSE over ``limits`` (default: all), per model and system; one
    panel per family. Give the limits every family shares, so that boxes compare like with like."""
    if limits is not None:
        rmse_all = rmse_all[rmse_all["limit"].isin(limits)]
    families = list(dict.fromkeys(rmse_all["family"]))
    systems = list(dict.fromkeys(rmse_all["system"]))
    fig, axes = plt.subplots(1, len(families), figsize=(5 * len(families), 3.6), squeeze=False, sharey=True)
    for ax, family in zip(axes[0], families):
        part = rmse_all[rmse_all["family"] == family]
        models = list(dict.fromkeys(part["model"]))
        width = 0.8 / len(models)
        for k, model in enumerate(models):
            data = [part.loc[(part["model"] == model) & (part["system"] == s), "rmse"].to_numpy() for s in systems]
            positions = np.arange(len(systems)) + (k - (len(models) - 1) / 2) * width
            boxes = ax.boxplot(data, positions=positions, widths=width * 0.9, patch_artist=True, manage_ticks=False)
            colour = plt.cm.tab10(k)
            for patch in boxes["boxes"]:
                patch.set_facecolor(colour)
            ax.plot([], [], "s", color=colour, label=model)
        ax.set_xticks(range(len(systems)), systems)
        ax.set_title(family)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    shown = sorted(int(x) for x in rmse_all["limit"].unique())
    axes[0][0].set_ylabel("test RMSE over limits (eV/atom)")
    fig.suptitle(f"limits {', '.join(map(str, shown))}" + (" (shared by every family)" if limits is not None else ""), fontsize=9)
    _save(fig, path)


NOISE_LABELS = {"rmse": "|Δ mean test RMSE| (eV/atom)", "similarity": "SimilarityScore", "jaccard": "Jaccard index"}


def noise_cells(noise: pd.DataFrame, quantity: str, mode: str = "") -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """The limit x limit cells of :func:`noise_heatmap` from a ``noise_table`` of one model:
    (limits, colour values, annotations, marks). Off the diagonal: the between-limit value
    (``rmse``: colour |mean_col - mean_row|, text the signed difference); on it: the mean
    between-seed value at that limit (``rmse``: mean |ΔRMSE| between seeds). Marks: 0 within noise
    or too few seeds, 1 beyond noise by the pair's p, 2 also after Holm."""
    rows = noise[(noise["quantity"] == quantity) & (noise["mode"].fillna("").astype(str) == mode)]
    if rows.empty:
        raise ValueError(f"no {quantity!r} rows{f' for mode {mode!r}' if mode else ''} in the noise table")
    limits = sorted(set(rows["limit_i"].astype(int)) | set(rows["limit_j"].astype(int)))
    where = {x: k for k, x in enumerate(limits)}
    size = len(limits)
    values, text, marks = np.full((size, size), np.nan), np.full((size, size), "n/a", dtype=object), np.zeros((size, size), dtype=int)
    for row in rows.itertuples():
        i, j = where[int(row.limit_i)], where[int(row.limit_j)]
        for k, within in ((i, row.within_i), (j, row.within_j)):
            values[k, k] = within
            text[k, k] = "n/a" if not np.isfinite(within) else f"{within:.2g}" if quantity == "rmse" else f"{within:.2f}"
        mark = 2 if row.verdict_holm == "beyond noise" else 1 if row.verdict == "beyond noise" else 0
        star = "*" * mark
        if quantity == "rmse":
            values[i, j] = values[j, i] = abs(row.between)
            text[i, j], text[j, i] = f"{row.between:+.2g}{star}", f"{-row.between:+.2g}{star}"
        else:
            values[i, j] = values[j, i] = row.between
            text[i, j] = text[j, i] = ("n/a" if not np.isfinite(row.between) else f"{row.between:.2f}") + star
        marks[i, j] = marks[j, i] = mark
    return limits, values, text.astype(str), marks


def noise_heatmap(
    noise: pd.DataFrame, spread: pd.DataFrame, path: str | os.PathLike, quantity: str, mode: str = "", title: str = ""
) -> None:
    """One model's ``quantity`` (rmse, similarity or jaccard of screening ``mode``) against the
    retraining noise: left, the limit x limit heatmap (:func:`noise_cells`; diagonal: between
    seeds of one limit, framed dashed; cells beyond noise framed and starred, ** also after
    Holm); right, the seed spread per limit from the ``seed_spread`` table (rmse: mean ± sd over
    seeds; similarity, Jaccard: mean between-seed value, bars from its min to its max)."""
    from matplotlib.patches import Rectangle

    limits, values, text, marks = noise_cells(noise, quantity, mode)
    rows = noise[(noise["quantity"] == quantity) & (noise["mode"].fillna("").astype(str) == mode)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4), gridspec_kw={"width_ratios": [1.25, 1], "wspace": 0.5})
    finite = values[np.isfinite(values)]
    if quantity == "rmse":
        cmap, low, high = "magma", 0.0, (float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    else:
        cmap, low, high = "viridis", (min(float(finite.min()), 0.0) if finite.size else 0.0), 1.0
    _heatmap(left, values, limits, text, cmap, vmin=low, vmax=high, colorbar_label=NOISE_LABELS.get(quantity, quantity))
    for k in range(len(limits)):
        left.add_patch(Rectangle((k - 0.5, k - 0.5), 1, 1, fill=False, linestyle="--", linewidth=1.0, edgecolor="grey"))
    for (i, j), mark in np.ndenumerate(marks):
        if mark:
            # inset, so that a frame does not run along its neighbours' edges
            left.add_patch(Rectangle((j - 0.44, i - 0.44), 0.88, 0.88, fill=False, linewidth=1.0 + mark, edgecolor="red"))
    left.set_xlabel("limit j")
    left.set_ylabel("limit i")
    n, min_p, alpha = int(rows["n_seeds"].iloc[0]), float(rows["min_p"].iloc[0]), float(rows["alpha"].iloc[0])
    left.set_title(
        f"between limits; diagonal: between seeds\n* beyond noise (p ≤ {alpha:g}), ** also after Holm; {n} seeds, smallest p {min_p:.3g}",
        fontsize=8,
    )
    own = spread[(spread["quantity"] == quantity) & (spread["mode"].fillna("").astype(str) == mode)].sort_values("limit")
    x = np.arange(len(own))
    mean = own["mean"].to_numpy(dtype=float)
    if quantity == "rmse":
        error = np.nan_to_num(own["std"].to_numpy(dtype=float))
        right.bar(x, mean, yerr=error, capsize=3, color="tab:blue", alpha=0.7)
        right.set_ylabel("test RMSE over seeds (eV/atom): mean ± sd")
    else:
        # clipped: the mean of equal values can land an ulp outside them ((0.1 + 0.1 + 0.1) / 3 > 0.1)
        lower = np.clip(np.nan_to_num(mean - own["min"].to_numpy(dtype=float)), 0.0, None)
        upper = np.clip(np.nan_to_num(own["max"].to_numpy(dtype=float) - mean), 0.0, None)
        right.bar(x, np.nan_to_num(mean), yerr=[lower, upper], capsize=3, color="tab:green", alpha=0.7)
        right.set_ylabel(f"{NOISE_LABELS.get(quantity, quantity)} between seeds: mean, min-max")
        right.set_ylim(min(0.0, float(np.nanmin(mean)) if np.isfinite(mean).any() else 0.0), 1.05)
    for k, row in enumerate(own.itertuples()):
        if not np.isfinite(row.mean):
            right.text(k, 0.02, "n/a", ha="center", fontsize=7, transform=right.get_xaxis_transform())
        elif quantity == "jaccard" and row.n_empty:
            right.text(k, 0.02, f"{row.n_empty} empty", ha="center", fontsize=6, transform=right.get_xaxis_transform())
    right.set_xticks(x, own["limit"].astype(int).tolist())
    right.set_xlabel("limit")
    right.grid(alpha=0.3, axis="y")
    right.set_title(f"seed spread ({n} seeds per limit)", fontsize=8)
    fig.suptitle(title or f"{quantity}" + (f" [{mode}]" if mode else ""), fontsize=9)
    _save(fig, path)
