"""Descriptor tables of the classical family, computed from the structures alone.

One row per structure, keyed by ``id``, float64 columns in a fixed order:

- ``n_atoms`` and ``frac_{El}``: atom count and composition (fractions of the atoms present);
- ``site_{label}_{El|X}``: how many sites of each parent site label hold each species (``X``:
  vacant). With a parent structure the frame is mapped onto it site by site (vacancies are the
  parent sites left empty); without one, the frames' own per-atom ``site`` labels are counted
  (no vacancy columns). Absent when neither exists;
- ``ce_{index}_o{order}``: the cluster-expansion correlation vector (icet ``ClusterSpace``) of
  the decorated sublattices, i.e. the parent sites whose occupant varies between frames, with
  vacancies as ``X``; pairs and triplets within ``cluster_cutoffs``. Only with a parent;
- ``nb_{A}_{B}_s{k}``: unordered A-B pairs per atom at a distance in shell ``k``
  (``[0, shells[0])``, ``[shells[0], shells[1])``, ...), from ASE's neighbour list;
- ``cn_mean``, ``cn_std``, ``cn_{El}``, ``cn_site_{label}``: coordination numbers within
  ``coordination_cutoff`` (mean over all atoms, over each element, over each site label; 0 where
  there is no such atom);
- ``env_{C}_{N}_{stat}_g{k}``: many-body environment statistics (config ``environment``; absent
  when it is null). Every atom gets radial densities of each neighbour element N, Behler and
  Parrinello's G2 functions: sum over its N neighbours of a Gaussian of the distance (width
  ``width``, centre ``k`` of a grid from ``start`` every ``spacing`` up to ``cutoff``) times a
  cosine cut-off. Per centre element C, the ``mean``, ``min`` and ``max`` over its atoms (0 where
  there is none). The mean is a pair sum; minimum and maximum are not, which is what tells apart
  decorations that every pair and triplet correlation of the cluster expansion calls equal
  (bench/descriptor_resolution.py measures how many).

The element list, the site labels and the cluster space (the :class:`FeatureSpace`) are taken
from all structure sets of a system together (dataset, inference, audit), so the tables of its
sets share one column set.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qcrobust.errors import InputError
from qcrobust.io import atomic_path

if TYPE_CHECKING:
    from ase import Atoms

log = logging.getLogger(__name__)

VACANCY = "X"  # icet's vacancy species


@dataclass(frozen=True)
class FeatureSettings:
    """The ``features:`` block of the config (its defaults are the config schema's)."""

    shells: tuple[float, ...]
    coordination_cutoff: float
    cluster_cutoffs: tuple[float, ...]
    site_tolerance: float
    symprec: float
    environment: EnvironmentSettings | None = None

    @classmethod
    def from_config(cls, block: Mapping | None = None) -> FeatureSettings:
        """From a validated ``features`` block; keys it lacks take the schema's defaults."""
        from qcrobust.config import schema_defaults

        block = schema_defaults("features") | dict(block or {})
        for key in ("shells", "cluster_cutoffs"):
            block[key] = tuple(float(x) for x in block[key])
        if block.get("environment") is not None:
            block["environment"] = EnvironmentSettings(**{k: float(v) for k, v in block["environment"].items()})
        return cls(**block)

    def to_json(self) -> dict:
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}
        out["environment"] = None if self.environment is None else dict(self.environment.__dict__)
        return out

    def check(self, source: str = "config.yaml") -> None:
        edges = np.asarray(self.shells)
        if len(edges) == 0 or edges[0] <= 0 or np.any(np.diff(edges) <= 0):
            raise InputError(source, "key 'features.shells'", f"must be positive and strictly increasing, got {list(self.shells)}")
        if self.coordination_cutoff <= 0 or self.site_tolerance <= 0:
            raise InputError(source, "key 'features'", "coordination_cutoff and site_tolerance must be > 0")
        env = self.environment
        if env is not None and not 0 < env.start < env.cutoff:
            raise InputError(
                source, "key 'features.environment'", f"needs 0 < start < cutoff, got start {env.start:g}, cutoff {env.cutoff:g}"
            )


@dataclass(frozen=True)
class EnvironmentSettings:
    """The ``features.environment`` block: the G2 radial grid of the ``env_`` descriptors (Å)."""

    cutoff: float
    start: float
    spacing: float
    width: float

    @property
    def centres(self) -> np.ndarray:
        return np.arange(self.start, self.cutoff + 1e-9, self.spacing)


@dataclass
class Table:
    """The frames of one input file (``name``: dataset, inference or audit) and where they came from."""

    name: str
    path: str
    frames: Sequence[Atoms]


def _record(path, index: int, atoms: Atoms) -> tuple[str, str]:
    return str(path), f"frame {index} (id={str(atoms.info.get('id'))!r})"


def site_labels(atoms: Atoms) -> np.ndarray | None:
    labels = atoms.arrays.get("site")
    return None if labels is None else np.asarray(labels).astype(str)


class ParentLattice:
    """The parent structure's sites; maps a decorated frame onto them (nearest site, periodic)."""

    def __init__(self, parent: Atoms, path: str | os.PathLike, tolerance: float):
        self.atoms = parent
        self.path = str(path)
        self.tolerance = tolerance
        labels = site_labels(parent)
        if labels is None:
            # no labels: symmetry-equivalent sites share a label, so they share allowed species
            import spglib

            cell = (parent.cell[:], parent.get_scaled_positions(), parent.numbers)
            dataset = spglib.get_symmetry_dataset(cell, symprec=1e-3)
            labels = np.array([f"w{i}" for i in dataset.equivalent_atoms])
            log.info("%s: no 'site' labels; using spglib's equivalent atoms (%d labels)", path, len(set(labels)))
        self.labels = labels
        self.species = np.array(parent.get_chemical_symbols(), dtype=object)
        from scipy.spatial import cKDTree

        self._tree = cKDTree(np.mod(parent.get_scaled_positions(wrap=True), 1.0), boxsize=1.0)
        min_distance = _min_pair_distance(parent)
        if tolerance >= min_distance / 2:
            raise InputError(
                path, None, f"features.site_tolerance = {tolerance} A is not below half the closest site distance ({min_distance:.3f} A)"
            )

    def sites(self, atoms: Atoms, path, index: int) -> np.ndarray:
        """The parent site of every atom of the frame."""
        if len(atoms) > len(self.atoms):
            raise InputError(
                *_record(path, index, atoms), f"{len(atoms)} atoms, more than the {len(self.atoms)} sites of the parent {self.path}"
            )
        scaled = np.mod(atoms.cell.scaled_positions(atoms.positions), 1.0)
        # fractional positions of the frame against the parent's; tolerance checked in the parent's cell (A)
        _, site = self._tree.query(scaled)
        delta = scaled - self._tree.data[site]
        delta -= np.round(delta)
        distance = np.linalg.norm(delta @ self.atoms.cell[:], axis=1)
        worst = int(np.argmax(distance)) if len(distance) else 0
        if len(distance) and distance[worst] > self.tolerance:
            raise InputError(
                *_record(path, index, atoms),
                f"atom {worst} is {distance[worst]:.3f} A from the nearest site of the parent {self.path} "
                f"(features.site_tolerance = {self.tolerance} A): the frame does not sit on the parent lattice",
            )
        taken = np.bincount(site, minlength=len(self.atoms))
        if np.any(taken > 1):
            double = int(np.flatnonzero(taken > 1)[0])
            raise InputError(*_record(path, index, atoms), f"two atoms map onto parent site {double}")
        frame_labels = site_labels(atoms)
        if frame_labels is not None and np.any(frame_labels != self.labels[site]):
            bad = int(np.flatnonzero(frame_labels != self.labels[site])[0])
            raise InputError(
                *_record(path, index, atoms),
                f"atom {bad} is labeled site {str(frame_labels[bad])!r} but sits on parent site {int(site[bad])} ({str(self.labels[site[bad]])!r})",
            )
        return site

    def occupation(self, atoms: Atoms, sites: np.ndarray) -> np.ndarray:
        """The species on every parent site (``X`` where the frame has no atom there)."""
        occupation = np.full(len(self.atoms), VACANCY, dtype=object)
        occupation[sites] = atoms.get_chemical_symbols()
        return occupation


def neighbor_list(quantities: str, atoms: Atoms, cutoff: float):
    """ASE's ``neighbor_list`` call and result, from matscipy's compiled version (~40x faster).
    Imported on use: rules that only read descriptor tables skip the import."""
    from matscipy.neighbours import neighbour_list

    return neighbour_list(quantities, atoms, cutoff)


def _min_pair_distance(atoms: Atoms) -> float:
    if len(atoms) < 2:
        return float("inf")
    _, d = neighbor_list("id", atoms, 6.0)
    return float(d.min()) if len(d) else 6.0


def allowed_species(lattice: ParentLattice, occupations: np.ndarray) -> list[list[str]] | None:
    """The species each parent site may hold (the cluster space's), None if no site varies.

    Pooled per site label (symmetry-equivalent sites must allow the same species), from every
    frame's occupation and the parent's own species.
    """
    allowed_by_label: dict[str, set[str]] = {}
    for label in np.unique(lattice.labels):
        on_label = lattice.labels == label
        allowed_by_label[label] = set(occupations[:, on_label].ravel()) | set(lattice.species[on_label])
    allowed = [sorted(allowed_by_label[label]) for label in lattice.labels]
    if all(len(a) == 1 for a in allowed):
        log.info("no site of the parent changes occupant: no cluster-expansion descriptors")
        return None
    return allowed


def cluster_space(lattice: ParentLattice, allowed: list[list[str]], settings: FeatureSettings):
    """icet ``ClusterSpace`` over the parent's sites with the given allowed species."""
    from icet import ClusterSpace

    space = ClusterSpace(lattice.atoms, list(settings.cluster_cutoffs), allowed, symprec=settings.symprec)
    orders = pd.Series([row["order"] for row in space.as_list]).value_counts().sort_index()
    log.info("cluster space: space group %s, %d correlations (by order: %s)", space.space_group, len(space), orders.to_dict())
    return space


def _pairs(atoms: Atoms, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One neighbour list per frame, out to the largest distance any descriptor block needs."""
    cutoff = max(settings.shells[-1], settings.coordination_cutoff, settings.environment.cutoff if settings.environment else 0.0)
    return neighbor_list("ijd", atoms, cutoff)


def _neighbour_block(pairs, n: int, species: np.ndarray, n_elements: int, settings: FeatureSettings, labels, label_index):
    """Pair counts per shell (per atom) and coordination numbers of one frame (``n`` atoms).
    Sums of integers only, so the order of the pairs never changes a bit."""
    edges = np.asarray(settings.shells)
    n_shells = len(edges)
    i, j, d = pairs
    within = d < edges[-1]
    shell = np.searchsorted(edges, d[within], side="right")
    a, b = species[i[within]], species[j[within]]
    low, high = np.minimum(a, b), np.maximum(a, b)
    # the neighbour list holds every pair twice (i->j and j->i)
    counts = np.bincount((low * n_elements + high) * n_shells + shell, minlength=n_elements * n_elements * n_shells) / 2.0
    upper = [(p, q) for p in range(n_elements) for q in range(p, n_elements)]
    pair_counts = counts.reshape(n_elements, n_elements, n_shells)[tuple(np.array(upper).T)].ravel() / n

    cn = np.bincount(i[d < settings.coordination_cutoff], minlength=n).astype(float)
    per_element = np.bincount(species, weights=cn, minlength=n_elements)
    present = np.bincount(species, minlength=n_elements)
    cn_element = np.divide(per_element, present, out=np.zeros(n_elements), where=present > 0)
    block = [pair_counts, [cn.mean(), cn.std()], cn_element]
    if label_index is not None:
        if labels is None:
            block.append(np.zeros(len(label_index)))
        else:
            codes = np.array([label_index[x] for x in labels])
            per_label = np.bincount(codes, weights=cn, minlength=len(label_index))
            count = np.bincount(codes, minlength=len(label_index))
            block.append(np.divide(per_label, count, out=np.zeros(len(label_index)), where=count > 0))
    return np.concatenate([np.asarray(x, dtype=float) for x in block])


ENVIRONMENT_STATS = ("mean", "min", "max")


def _environment_block(pairs, n: int, species: np.ndarray, n_elements: int, env: EnvironmentSettings) -> np.ndarray:
    """The ``env_`` descriptors of one frame (``n`` atoms): per-atom G2 densities of each
    neighbour element, pooled per centre element by mean, minimum and maximum (centre,
    neighbour, stat, grid order). The sums run in the neighbour list's order, which follows the
    atom order; ingest writes every frame's atoms in one canonical order."""
    centres = env.centres
    i, j, d = pairs
    inside = d < env.cutoff
    i, j, d = i[inside], j[inside], d[inside]
    weight = np.exp(-0.5 * ((d[:, None] - centres[None, :]) / env.width) ** 2) * (0.5 * (np.cos(np.pi * d / env.cutoff) + 1.0))[:, None]
    index = i * n_elements + species[j]
    density = np.stack([np.bincount(index, weights=weight[:, k], minlength=n * n_elements) for k in range(len(centres))], axis=1)
    density = density.reshape(n, n_elements, len(centres))
    out = np.zeros((n_elements, n_elements, len(ENVIRONMENT_STATS), len(centres)))
    for centre in range(n_elements):
        own = density[species == centre]
        if len(own):
            out[centre, :, 0], out[centre, :, 1], out[centre, :, 2] = own.mean(axis=0), own.min(axis=0), own.max(axis=0)
    return out.ravel()


@dataclass(frozen=True)
class FeatureSpace:
    """The column set of a system's descriptor tables, fixed from all of its structure sets
    (rule ``feature_space``), so that each set's table (rule ``features``) has the same columns."""

    elements: list[str]
    site_labels: list[str]  # parent site labels (or the frames' own), sorted
    site_columns: list[tuple[str, str]]  # (label, species) pairs that occur anywhere
    allowed: list[list[str]] | None  # the cluster space's allowed species per parent site
    ce_orders: list[int]  # order of each cluster-vector entry
    settings: FeatureSettings

    @property
    def columns(self) -> list[str]:
        elements, shells = self.elements, range(len(self.settings.shells))
        pairs = [(elements[p], elements[q]) for p in range(len(elements)) for q in range(p, len(elements))]
        return (
            ["n_atoms"]
            + [f"frac_{e}" for e in elements]
            + [f"site_{lab}_{sp}" for lab, sp in self.site_columns]
            + [f"ce_{k:03d}_o{order}" for k, order in enumerate(self.ce_orders)]
            + [f"nb_{a}_{b}_s{k}" for a, b in pairs for k in shells]
            + ["cn_mean", "cn_std"]
            + [f"cn_{e}" for e in elements]
            + [f"cn_site_{lab}" for lab in self.site_labels]
            + self._environment_columns()
        )

    def _environment_columns(self) -> list[str]:
        env = self.settings.environment
        if env is None:
            return []
        grid = range(len(env.centres))
        return [f"env_{c}_{n}_{stat}_g{k:02d}" for c in self.elements for n in self.elements for stat in ENVIRONMENT_STATS for k in grid]

    def to_json(self) -> dict:
        return {
            "elements": self.elements,
            "site_labels": self.site_labels,
            "site_columns": [list(c) for c in self.site_columns],
            "allowed": self.allowed,
            "ce_orders": self.ce_orders,
            "settings": self.settings.to_json(),
            "columns": self.columns,
        }

    @classmethod
    def from_json(cls, data: Mapping, source: str | os.PathLike = "space.json") -> FeatureSpace:
        """The space written by :meth:`to_json`; its stored ``columns`` must be the ones it
        describes (a stale or hand-edited file is an error naming ``source``)."""
        space = cls(
            elements=list(data["elements"]),
            site_labels=list(data["site_labels"]),
            site_columns=[tuple(c) for c in data["site_columns"]],
            allowed=data["allowed"],
            ce_orders=list(data["ce_orders"]),
            settings=FeatureSettings.from_config(data["settings"]),
        )
        if "columns" in data and list(data["columns"]) != space.columns:
            raise InputError(source, "key 'columns'", "differs from the columns the space describes (a stale or edited file)")
        return space


def _occupations(lattice: ParentLattice, table: Table) -> tuple[list[np.ndarray], np.ndarray]:
    """Parent site of every atom, and the occupation of every parent site, per frame."""
    sites = [lattice.sites(a, table.path, k) for k, a in enumerate(table.frames)]
    occupation = np.array([lattice.occupation(a, s) for a, s in zip(table.frames, sites)], dtype=object)
    return sites, occupation.reshape(len(table.frames), len(lattice.atoms))


def feature_space(
    tables: Sequence[Table], settings: FeatureSettings, parent: Atoms | None = None, parent_path: str | os.PathLike = "parent"
) -> FeatureSpace:
    """The column set of the system whose structure sets are ``tables``."""
    settings.check()
    elements = sorted({s for t in tables for a in t.frames for s in a.get_chemical_symbols()})
    with warnings.catch_warnings():
        # spglib's deprecation notice about its own error handling, raised on every call icet makes
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="spglib")
        if parent is None:
            labels = sorted({lab for t in tables for a in t.frames if site_labels(a) is not None for lab in site_labels(a)})
            columns = sorted(
                {
                    (lab, sp)
                    for t in tables
                    for a in t.frames
                    if site_labels(a) is not None
                    for lab, sp in zip(site_labels(a), a.get_chemical_symbols())
                }
            )
            return FeatureSpace(elements, labels, columns, None, [], settings)
        lattice = ParentLattice(parent, parent_path, settings.site_tolerance)
        occupation = np.concatenate([_occupations(lattice, t)[1] for t in tables])
        labels = sorted(set(lattice.labels))
        columns = sorted({(lab, sp) for lab in labels for sp in set(occupation[:, lattice.labels == lab].ravel())})
        allowed = allowed_species(lattice, occupation)
        orders = [row["order"] for row in cluster_space(lattice, allowed, settings).as_list] if allowed else []
    return FeatureSpace(elements, labels, columns, allowed, orders, settings)


def feature_table(
    space: FeatureSpace, table: Table, parent: Atoms | None = None, parent_path: str | os.PathLike = "parent"
) -> pd.DataFrame:
    """The descriptor table of one structure set in ``space``'s columns, keyed by ``id``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="spglib")
        return _feature_table(space, table, parent, parent_path)


def _feature_table(space: FeatureSpace, table: Table, parent, parent_path) -> pd.DataFrame:
    settings = space.settings
    element_index = {e: k for k, e in enumerate(space.elements)}
    unknown = sorted({s for a in table.frames for s in a.get_chemical_symbols()} - set(element_index))
    if unknown:
        raise InputError(table.path, None, f"elements {unknown} are not in the system's feature space {space.elements}")
    label_index = {lab: k for k, lab in enumerate(space.site_labels)} if space.site_labels else None
    site_column_index = {key: k for k, key in enumerate(space.site_columns)}
    lattice = ParentLattice(parent, parent_path, settings.site_tolerance) if parent is not None else None
    if lattice is not None:
        atom_sites, occupations = _occupations(lattice, table)
    ce = cluster_space(lattice, space.allowed, settings) if lattice is not None and space.allowed else None
    columns = space.columns
    rows = np.empty((len(table.frames), len(columns)), dtype=np.float64)
    for k, atoms in enumerate(table.frames):
        species = np.array([element_index[s] for s in atoms.get_chemical_symbols()])
        composition = np.bincount(species, minlength=len(space.elements)) / len(atoms)
        sites = np.zeros(len(space.site_columns))
        labels = site_labels(atoms)
        if lattice is not None:
            keys = zip(lattice.labels, occupations[k])
        else:
            keys = zip(labels, atoms.get_chemical_symbols()) if labels is not None else ()
        for key in keys:
            if key not in site_column_index:
                raise InputError(*_record(table.path, k, atoms), f"site occupation {key} is not in the system's feature space")
            sites[site_column_index[key]] += 1
        parts = [[len(atoms)], composition, sites]
        if ce is not None:
            decorated = lattice.atoms.copy()
            decorated.set_chemical_symbols(list(occupations[k]))
            parts.append(ce.get_cluster_vector(decorated))
        frame_labels = lattice.labels[atom_sites[k]] if lattice is not None else labels
        pairs = _pairs(atoms, settings)
        parts.append(_neighbour_block(pairs, len(atoms), species, len(space.elements), settings, frame_labels, label_index))
        if settings.environment is not None:
            parts.append(_environment_block(pairs, len(atoms), species, len(space.elements), settings.environment))
        rows[k] = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])
    out = pd.DataFrame(rows, columns=columns)
    out.insert(0, "id", [str(a.info["id"]) for a in table.frames])
    log.info("%s: %d structures x %d descriptors", table.name, len(out), len(columns))
    return out


def compute_features(
    tables: Sequence[Table],
    settings: FeatureSettings | None = None,
    parent: Atoms | None = None,
    parent_path: str | os.PathLike = "parent",
) -> dict[str, pd.DataFrame]:
    """Descriptor tables of a system's files (one per :class:`Table`, same columns), keyed by ``id``:
    :func:`feature_space` of all, then :func:`feature_table` of each."""
    space = feature_space(tables, settings or FeatureSettings.from_config(), parent, parent_path)
    return {t.name: feature_table(space, t, parent, parent_path) for t in tables}


def write_features(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Check against ``features.schema.yaml``, then write parquet atomically (no pandas index, so
    equal tables give equal bytes)."""
    from qcrobust.tables import check_table

    check_table(table, "features", path)
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False, compression="zstd")


def read_features(path: str | os.PathLike) -> pd.DataFrame:
    """A descriptor table, checked: ``id`` unique strings, every other column finite float."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    table = pd.read_parquet(path)
    if "id" not in table.columns:
        raise InputError(path, None, "no 'id' column")
    table["id"] = table["id"].astype(str)
    duplicated = table["id"].duplicated()
    if duplicated.any():
        raise InputError(path, f"id {table['id'][duplicated].iloc[0]!r}", "duplicate id")
    values = table.drop(columns="id")
    bad = ~np.isfinite(values.to_numpy(dtype=np.float64))
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise InputError(path, f"id {table['id'].iloc[row]!r}", f"column {values.columns[col]!r} is not finite")
    return table


def descriptor_groups(table: pd.DataFrame, decimals: int = 9) -> pd.Series:
    """Per row of a descriptor table, the number of its group: rows whose descriptor vectors are
    equal (after rounding to ``decimals``, so that float round-off between equivalent computations
    does not split a group) share one. Group numbers follow the sorted vectors, not the rows."""
    values = np.round(table.drop(columns="id").to_numpy(dtype=np.float64), decimals) + 0.0  # -0.0 -> 0.0
    _, inverse = np.unique(values, axis=0, return_inverse=True)
    return pd.Series(inverse.ravel(), index=table.index, name="descriptor_group")


def read_parent(path: str | os.PathLike | None) -> Atoms | None:
    """The parent structure (the first frame of its file), or None."""
    from qcrobust.io import read_frames

    if path is None:
        return None
    frames = read_frames(path)
    if len(frames) != 1:
        log.warning("%s holds %d frames; the first is the parent", path, len(frames))
    return frames[0]
