"""Energy-above-hull statistics and histograms of a system's labeled structures (like the paper's Fig. 2).

Works on the ``targets.csv`` tables the ingest rule writes (columns ``e_above_hull``, ``n_A5_defects``),
so it applies to user data as well as to the default dataset.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd


def hull_summary(targets: pd.DataFrame) -> dict:
    """Counts and quantiles of ``e_above_hull`` (eV/atom); 'below' means strictly below the hull."""
    e = targets["e_above_hull"].to_numpy(dtype=float)
    return {
        "n": int(len(e)),
        "n_below_hull": int((e < 0).sum()),
        "share_below_hull": float((e < 0).mean()) if len(e) else float("nan"),
        "min": float(e.min()),
        "median": float(np.median(e)),
        "max": float(e.max()),
        "n_limit0": int((targets["n_A5_defects"] == 0).sum()),
        "n_limit0_below_hull": int(((targets["n_A5_defects"] == 0) & (e < 0)).sum()),
    }


def plot_hull_histogram(tables: dict[str, pd.DataFrame], system: str, path: str | os.PathLike) -> None:
    """One histogram of E_above_hull (meV/atom) per named table (e.g. dataset, audit), the hull at 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qcrobust.io import atomic_path

    values = {name: 1000 * t["e_above_hull"].to_numpy(dtype=float) for name, t in tables.items() if len(t)}
    everything = np.concatenate(list(values.values()))
    bins = np.linspace(everything.min(), everything.max(), 50)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, e in values.items():
        ax.hist(e, bins=bins, alpha=0.6, label=f"{name} (n={len(e)}, {int((e < 0).sum())} below hull)")
    ax.axvline(0.0, color="k", lw=1, ls="--")
    ax.set_xlabel(r"$E_\mathrm{above\ hull}$ (meV/atom)")
    ax.set_ylabel("structures")
    ax.set_title(f"{system}: energy above the convex hull")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, metadata={"Software": None})
    plt.close(fig)
