"""Compositions, decorations and the symmetry of the disordered sites (A4 then A5).

A *decoration* is a 36-character string, one character per disordered site in the parent's
site order (12 A4 sites, then 24 A5 sites): ``S`` Sc, ``M`` dopant, ``X`` vacancy.
Two decorations are equivalent when a symmetry operation of the parent maps one onto the other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ase import Atoms

from qcrobust.default_data.parent import disordered_indices

SC, DOPANT, VACANCY = "S", "M", "X"
N_A4, N_A5 = 12, 24
STEP = 2  # vacancies and dopants come in pairs on each site
# Minimum Sc fraction (Sc / atoms) of a kept composition, per dopant (paper section 3).
MIN_SC_FRACTION = {"Pt": 0.667, "Pd": 0.667, "Ir": 0.733, "Rh": 0.733}
N_EXTRA_LIMIT0 = 63
PARENT_SC, PARENT_M = 120, 26  # the parent, with all glue sites Sc
COLUMNS = ["id", "kind", "decoration", "n_A4_vac", "n_A4_M", "n_A5_vac", "n_A5_M", "n_A5_defects", "audit", "shard"]


@dataclass(frozen=True, order=True)
class Composition:
    n_A4_vac: int
    n_A4_M: int
    n_A5_vac: int
    n_A5_M: int

    @property
    def n_A5_defects(self) -> int:
        return self.n_A5_vac + self.n_A5_M

    def sc_fraction(self) -> float:
        n_vac = self.n_A4_vac + self.n_A5_vac
        n_sc = PARENT_SC - n_vac - self.n_A4_M - self.n_A5_M
        return n_sc / (PARENT_SC + PARENT_M - n_vac)


def compositions(dopant: str) -> list[Composition]:
    """Every composition on the (A4, A5) grid in steps of 2 that passes the Sc-fraction filter."""
    threshold = MIN_SC_FRACTION[dopant]
    kept = []
    for a4_vac in range(0, N_A4 + 1, STEP):
        for a4_m in range(0, N_A4 - a4_vac + 1, STEP):
            for a5_vac in range(0, N_A5 + 1, STEP):
                for a5_m in range(0, N_A5 - a5_vac + 1, STEP):
                    comp = Composition(a4_vac, a4_m, a5_vac, a5_m)
                    if comp.sc_fraction() >= threshold:
                        kept.append(comp)
    return kept


def composition_of(decoration: str) -> Composition:
    a4, a5 = decoration[:N_A4], decoration[N_A4:]
    return Composition(a4.count(VACANCY), a4.count(DOPANT), a5.count(VACANCY), a5.count(DOPANT))


def random_decoration(comp: Composition, rng: np.random.Generator) -> str:
    """A uniformly random decoration of ``comp``: random sites get the vacancies, then the dopants."""
    parts = []
    for n_sites, n_vac, n_m in ((N_A4, comp.n_A4_vac, comp.n_A4_M), (N_A5, comp.n_A5_vac, comp.n_A5_M)):
        chars = np.full(n_sites, SC)
        order = rng.permutation(n_sites)
        chars[order[:n_vac]] = VACANCY
        chars[order[n_vac : n_vac + n_m]] = DOPANT
        parts.append("".join(chars))
    return "".join(parts)


def site_permutations(parent: Atoms, symprec: float = 0.01) -> np.ndarray:
    """The parent's symmetry operations as permutations of the 36 disordered sites.

    Row ``g`` maps site ``i`` to site ``perm[g, i]``: spglib's operations of the parent cell
    (centring translations included, :func:`qcrobust.equivalence.site_permutations`) restricted
    to the glue sites, which they map onto themselves, A4 onto A4 and A5 onto A5.
    """
    from qcrobust.equivalence import site_permutations as all_sites

    index = disordered_indices(parent)
    position = np.full(len(parent), -1)
    position[index] = np.arange(len(index))
    perms = position[all_sites(parent, symprec)[:, index]]
    if np.any(perms < 0):
        raise ValueError("a symmetry operation of the parent does not permute its glue sites")
    return np.unique(perms, axis=0)


def apply_permutation(decoration: str, perm: np.ndarray) -> str:
    """The decoration after the operation: the species on site i moves to site perm[i]."""
    out = [""] * len(decoration)
    for i, target in enumerate(perm):
        out[target] = decoration[i]
    return "".join(out)


def canonical(decoration: str, perms: np.ndarray) -> str:
    """The lexicographically smallest equivalent decoration: equal iff symmetry-equivalent."""
    return min(apply_permutation(decoration, p) for p in perms)


# --- the inference set: every symmetry-distinct decoration of A4 (A5 all Sc) ---

_DIGITS = np.array([DOPANT, SC, VACANCY])  # digit order = character order, so min code == min string


def _codes(digits: np.ndarray) -> np.ndarray:
    """Base-3 integer of each row of digits (first site most significant)."""
    weights = 3 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    return digits.astype(np.int64) @ weights


def a4_orbit_representatives(perms: np.ndarray, keep) -> np.ndarray:
    """Canonical (smallest) A4 decorations, one per orbit, as digit rows, for compositions ``keep(n_vac, n_m)``.

    Vectorised over all 3^12 decorations: each orbit's representative is the minimum code over
    the operations restricted to A4.
    """
    a4_perms = perms[:, :N_A4]
    if np.any(a4_perms >= N_A4):
        raise ValueError("symmetry permutations do not keep A4 onto itself")
    digits = np.array(list(itertools.product(range(3), repeat=N_A4)), dtype=np.int8)
    n_vac = (digits == 2).sum(axis=1)
    n_m = (digits == 0).sum(axis=1)
    digits = digits[np.array([keep(int(v), int(m)) for v, m in zip(n_vac, n_m)])]
    best = np.full(len(digits), np.iinfo(np.int64).max)
    for perm in a4_perms:
        moved = np.empty_like(digits)
        moved[:, perm] = digits
        best = np.minimum(best, _codes(moved))
    is_rep = best == _codes(digits)
    return digits[is_rep]


def inference_decorations(dopant: str, perms: np.ndarray) -> list[str]:
    """Every symmetry-distinct A4 decoration (A5 all Sc) whose composition passes the filter,
    ordered by (n_A4_vac, n_A4_M, decoration)."""
    allowed = {(c.n_A4_vac, c.n_A4_M) for c in compositions(dopant) if c.n_A5_defects == 0}
    reps = a4_orbit_representatives(perms, lambda v, m: (v, m) in allowed)
    decos = ["".join(_DIGITS[row]) + SC * N_A5 for row in reps]
    return sorted(decos, key=lambda d: (d.count(VACANCY), d.count(DOPANT), d))


# --- the decorations table of one system ---


def system_rng(seed: int, system: str, purpose: str) -> np.random.Generator:
    """A generator seeded by (seed, system, purpose): independent streams, stable across runs."""
    return np.random.default_rng([seed, *system.encode(), 0, *purpose.encode()])


def build_decorations(system: str, dopant: str, parent: Atoms, seed: int, audit_size: int, shard_size: int) -> pd.DataFrame:
    """The decorations table of a system (columns ``COLUMNS``), deterministic in ``seed``.

    kinds: ``labeled`` (one random decoration per composition), ``extra_limit0`` (63 more
    limit-0 decorations, symmetry-distinct from all others), ``inference`` (every symmetry-distinct
    A4 decoration; ``audit`` = 1 marks the seeded sample labeled for auditing).
    ``shard`` numbers the labeling chunks (-1: not labeled), in priority order: limit-0 first,
    then by growing A5 defect count, the audit sample last.
    """
    perms = site_permutations(parent)
    comps = compositions(dopant)
    rng = system_rng(seed, system, "decorations")
    labeled = [random_decoration(c, rng) for c in comps]

    seen = {canonical(d, perms) for d in labeled}
    limit0 = [c for c in comps if c.n_A5_defects == 0]
    rng = system_rng(seed, system, "extra_limit0")
    extra: list[str] = []
    attempts = 0
    while len(extra) < N_EXTRA_LIMIT0:
        attempts += 1
        if attempts > 100_000:
            raise RuntimeError(f"{system}: cannot find {N_EXTRA_LIMIT0} distinct extra limit-0 decorations")
        deco = random_decoration(limit0[rng.integers(len(limit0))], rng)
        key = canonical(deco, perms)
        if key not in seen:
            seen.add(key)
            extra.append(deco)

    inference = inference_decorations(dopant, perms)
    rng = system_rng(seed, system, "audit")
    if audit_size > len(inference):
        raise ValueError(f"{system}: audit_size {audit_size} exceeds the {len(inference)} inference structures")
    audit = np.zeros(len(inference), dtype=int)
    audit[rng.choice(len(inference), size=audit_size, replace=False)] = 1

    rows = [(f"{system}-{i:06d}", "labeled", d, 0) for i, d in enumerate(labeled)]
    rows += [(f"{system}-{len(labeled) + i:06d}", "extra_limit0", d, 0) for i, d in enumerate(extra)]
    rows += [(f"{system}-inf-{i:05d}", "inference", d, int(a)) for i, (d, a) in enumerate(zip(inference, audit))]
    table = pd.DataFrame(rows, columns=["id", "kind", "decoration", "audit"])
    comp = [composition_of(d) for d in table["decoration"]]
    for key in ("n_A4_vac", "n_A4_M", "n_A5_vac", "n_A5_M", "n_A5_defects"):
        table[key] = [getattr(c, key) for c in comp]
    table["shard"] = assign_shards(table, shard_size)
    return table[COLUMNS]


def assign_shards(table: pd.DataFrame, shard_size: int) -> np.ndarray:
    """Shard number per row (-1 for unlabeled rows), most valuable labels in the first shards."""
    to_label = table["kind"].isin(["labeled", "extra_limit0"]) | (table["audit"] == 1)
    priority = (
        table.loc[to_label]
        .assign(is_audit=table["audit"], position=np.arange(len(table))[to_label.to_numpy()])
        .sort_values(["is_audit", "n_A5_defects", "position"], kind="stable")
    )
    shards = np.full(len(table), -1)
    shards[priority["position"].to_numpy()] = np.arange(len(priority)) // shard_size
    return shards
