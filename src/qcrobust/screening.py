"""Screening modes: which inference structures a model puts forward as candidates.

A mode turns a model's predictions of the target (eV/atom above the hull, by default) into a set
of selected ids, and the same rule applied to true labels gives the "truly selected" structures
that precision and recall on a labeled set are measured against:

- ``threshold``: predicted target below ``value`` (the paper's E_above_hull < 0, "below the hull");
- ``window``: predicted target below ``value``, a metastability window above the hull (e.g.
  0.025 eV/atom: structures a synthesis might still reach). The same rule as ``threshold``,
  kept apart so that reports name what the number means;
- ``top``: the ``k`` lowest predictions, or the lowest ``fraction`` of the set (at least one):
  rank-based, so it selects something on every system and model, as matbench-discovery judges
  its models on their most-stable predictions. Its truth is rank-based too: the same number of
  structures with the lowest true values.

Ties: a ``top`` mode selects every structure whose value is at most the k-th lowest value, so
all structures tied with the k-th are in and the realized size can exceed k (the tables write
both, ``k_nominal`` and the realized count). No selection, truth or cumulative curve depends on
the order of the rows given: equal values are always treated alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qcrobust.errors import InputError

KINDS = ("threshold", "window", "top")


@dataclass(frozen=True)
class ScreeningMode:
    """One screening rule (config ``screening.modes``)."""

    name: str
    kind: str
    value: float | None = None  # threshold / window: eV/atom
    k: int | None = None  # top: how many
    fraction: float | None = None  # top: which share of the set

    def __post_init__(self):
        where = f"key 'screening.modes' ({self.name!r})"
        if self.kind not in KINDS:
            raise InputError("config", where, f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.kind == "top":
            if (self.k is None) == (self.fraction is None):
                raise InputError("config", where, "a 'top' mode needs exactly one of 'k' and 'fraction'")
            if self.k is not None and self.k < 1:
                raise InputError("config", where, f"k must be >= 1, got {self.k}")
            if self.fraction is not None and not 0 < self.fraction <= 1:
                raise InputError("config", where, f"fraction must be in (0, 1], got {self.fraction}")
        elif self.value is None:
            raise InputError("config", where, f"a {self.kind!r} mode needs a 'value' (eV/atom)")

    def count(self, n: int) -> int:
        """How many of ``n`` structures a ``top`` mode selects."""
        if self.k is not None:
            return min(self.k, n)
        return min(n, max(1, math.ceil(self.fraction * n))) if n else 0

    def nominal(self, n: int) -> int | None:
        """The size a ``top`` mode asks for on ``n`` structures (None for threshold and window:
        they have no nominal size); the realized size adds the ties at the cut."""
        return self.count(n) if self.kind == "top" else None

    def mask(self, values: Sequence[float]) -> np.ndarray:
        """Which of ``values`` (predictions, or true labels for the truth) the mode selects.

        A ``top`` mode takes every value at most the k-th lowest: ties at the cut are all in,
        whatever their order in ``values``."""
        values = np.asarray(values, dtype=np.float64)
        if self.kind != "top":
            return values < self.value
        k = self.count(len(values))
        if k == 0:
            return np.zeros(len(values), dtype=bool)
        return values <= np.partition(values, k - 1)[k - 1]

    def select(self, predictions: pd.DataFrame) -> frozenset[str]:
        """The ids of a prediction table (``id, y_pred``) the mode selects."""
        return frozenset(predictions.loc[self.mask(predictions["y_pred"].to_numpy()), "id"].astype(str))

    def describe(self, target: str = "target") -> str:
        if self.kind == "threshold":
            return f"{target} < {self.value:g} eV/atom"
        if self.kind == "window":
            return f"{target} < {self.value:g} eV/atom (metastability window)"
        return f"the {self.k} lowest {target}" if self.k is not None else f"the lowest {100 * self.fraction:g} % of {target}"


def modes_from_config(modes: Iterable[Mapping]) -> list[ScreeningMode]:
    """The configured modes (schema-checked entries); names must be unique."""
    out = [ScreeningMode(**dict(entry)) for entry in modes]
    names = [m.name for m in out]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError("config", "key 'screening.modes'", f"mode names must be unique, {duplicated} repeat")
    if not out:
        raise InputError("config", "key 'screening.modes'", "at least one screening mode is needed")
    return out


def cumulative_precision_recall(y_true: Sequence[float], y_pred: Sequence[float], mode: ScreeningMode) -> pd.DataFrame:
    """Precision and recall of the structures predicted at or below each predicted value, on a
    labeled set (matbench-discovery's cumulative precision/recall): how deep into the ranking a
    screen stays right. Truth: the mode applied to the true values.

    One row per distinct predicted value, ``k`` = how many structures are predicted at or below
    it: structures with equal predictions enter together (a screen cannot tell them apart), so
    no row depends on the order of the input. Without ties this is every k = 1..N. Precision
    and recall carry 95 % Wilson intervals (:func:`qcrobust.metrics.wilson_interval`).
    """
    from qcrobust.metrics import wilson_interval

    truth = mode.mask(y_true)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    order = np.argsort(y_pred, kind="stable")
    hits = np.cumsum(truth[order])
    values = y_pred[order]
    # the last position of every block of equal predictions
    ends = np.flatnonzero(np.append(values[1:] != values[:-1], True)) if len(values) else np.array([], dtype=int)
    k, hits, values = ends + 1, hits[ends], values[ends]
    positives = int(truth.sum())
    table = pd.DataFrame(
        {
            "k": k,
            "y_pred_at_k": values,
            "n_true_selected": hits,
            "precision": hits / k,
            "recall": hits / positives if positives else np.full(len(k), np.nan),
        }
    )
    for name, total in (("precision", k), ("recall", np.full(len(k), positives))):
        low, high = wilson_interval(hits, total)
        table[f"{name}_ci_low"], table[f"{name}_ci_high"] = low, high
    return table
