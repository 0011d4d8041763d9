"""Which frames are the same structure, so that no result depends on a structure being given twice
or on a structure the models were trained on being screened again.

Two frames are *equivalent* when they are the same crystal written differently (another atom
order, origin or symmetry-related setting):

- with a parent structure (config ``parent``), when a symmetry operation of the parent maps the
  occupation of one onto the other's: every frame is mapped onto the parent's sites
  (:class:`qcrobust.features.ParentLattice`), its occupation (element or vacancy per site) is put
  in canonical form, the smallest image under spglib's operations of the parent (site labels
  kept apart, so an operation never moves an A4 site onto an A5 site), and equal forms are
  equivalent. Exact and fast (a vectorised pass over the operations);
- without one, when pymatgen's ``StructureMatcher`` matches them (its default tolerances,
  ``scale=False``: a strained copy is another structure). Frames are compared only within a
  bucket of equal composition and equal sorted interatomic distances (to 10^-3 A), which every
  pair of truly equal structures shares, so the matcher runs on few pairs.

:func:`canonical_atom_order` gives every frame one atom order (the parent's site order, or
element then fractional position), so that the models see the same input however the atoms of a
frame were listed.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ase import Atoms

    from qcrobust.features import ParentLattice

log = logging.getLogger(__name__)

VACANCY_CODE = 0  # atomic numbers code the elements; 0 is an empty site
DISTANCE_DECIMALS = 3  # buckets of the matcher: sorted distances rounded to 10^-3 A
BUCKET_CUTOFF = 6.0  # A: the distances that make up a bucket's key


def site_permutations(parent: Atoms, symprec: float = 1e-3) -> np.ndarray:
    """The parent's symmetry operations as permutations of its sites (row ``g`` maps site ``i``
    onto site ``perm[g, i]``), from spglib with the site labels (``arrays['site']``, else the
    elements) as atom types, centring translations included. Unique rows, sorted."""
    import spglib

    labels = parent.arrays.get("site")
    types = np.unique(np.asarray(labels).astype(str), return_inverse=True)[1].ravel() if labels is not None else parent.numbers
    frac = parent.get_scaled_positions()
    with warnings.catch_warnings():  # spglib's notice about its own error handling
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="spglib")
        dataset = spglib.get_symmetry_dataset((parent.cell[:], frac, types), symprec=symprec)
    if dataset is None:
        raise ValueError("spglib finds no symmetry for the parent")
    from scipy.spatial import cKDTree

    tree = cKDTree(np.mod(frac, 1.0), boxsize=1.0)
    perms = []
    for rotation, translation in zip(dataset.rotations, dataset.translations):
        distance, target = tree.query(np.mod(frac @ rotation.T + translation, 1.0))
        if np.max(distance * np.max(parent.cell.lengths())) > 10 * symprec + 0.05 or len(set(target)) != len(frac):
            raise ValueError("a symmetry operation of the parent does not permute its sites")
        if np.any(types[target] != types):
            raise ValueError("a symmetry operation of the parent moves a site onto one of another label")
        perms.append(target)
    return np.unique(np.array(perms), axis=0)


def canonical_codes(codes: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """Row-wise the lexicographically smallest image of ``codes`` (frames x sites) under the site
    permutations ``perms``: equal rows out iff the occupations are symmetry-equivalent."""
    best = codes.copy()
    rows = np.arange(len(codes))
    for perm in perms:
        image = np.empty_like(codes)
        image[:, perm] = codes
        differs = image != best
        first = np.argmax(differs, axis=1)
        smaller = differs.any(axis=1) & (image[rows, first] < best[rows, first])
        best[smaller] = image[smaller]
    return best


@dataclass
class ParentMatcher:
    """Symmetry classes of frames on a parent lattice."""

    lattice: ParentLattice
    perms: np.ndarray

    @classmethod
    def from_parent(cls, parent: Atoms, path: str | os.PathLike, tolerance: float) -> ParentMatcher:
        from qcrobust.features import ParentLattice

        return cls(ParentLattice(parent, path, tolerance), site_permutations(parent))

    def occupation_codes(self, frames: Sequence[Atoms], path) -> tuple[np.ndarray, list[np.ndarray]]:
        """Occupation of every parent site per frame (atomic number, 0 = vacant), and the parent
        site of every atom of each frame (errors name the frame in ``path``)."""
        codes = np.full((len(frames), len(self.lattice.atoms)), VACANCY_CODE, dtype=np.int16)
        sites = []
        for index, atoms in enumerate(frames):
            site = self.lattice.sites(atoms, path, index)
            codes[index, site] = atoms.numbers
            sites.append(site)
        return codes, sites

    def keys(self, frames: Sequence[Atoms], path) -> list[bytes]:
        codes, _ = self.occupation_codes(frames, path)
        return [row.tobytes() for row in canonical_codes(codes, self.perms)]


def _bucket_key(atoms: Atoms) -> tuple:
    from qcrobust.features import neighbor_list

    i, j, d = neighbor_list("ijd", atoms, BUCKET_CUTOFF)
    z = atoms.numbers
    pairs = np.round(d[i < j], DISTANCE_DECIMALS)
    kinds = np.minimum(z[i], z[j])[i < j] * 1000 + np.maximum(z[i], z[j])[i < j]
    order = np.lexsort((pairs, kinds))
    composition = tuple(sorted(zip(*np.unique(z, return_counts=True))))
    return (len(atoms), composition, round(float(atoms.cell.volume), 2), kinds[order].tobytes(), pairs[order].tobytes())


def matcher_keys(frames: Sequence[Atoms]) -> list[int]:
    """Class numbers of frames without a parent: pymatgen's StructureMatcher within buckets of
    equal composition, volume and sorted distances; each frame joins the first class (in the
    order given) whose representative matches it. Callers sort the frames first (by id), so the
    classes do not depend on the input's order."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    matcher = StructureMatcher(scale=False)
    buckets: dict[tuple, list[tuple[int, object]]] = {}
    classes: list[int] = []
    n_classes = 0
    for atoms in frames:
        bucket = buckets.setdefault(_bucket_key(atoms), [])
        structure = AseAtomsAdaptor.get_structure(atoms) if bucket else None
        number = next((number for number, representative in bucket if matcher.fit(representative, structure)), None)
        if number is None:
            number, n_classes = n_classes, n_classes + 1
            bucket.append((number, structure if structure is not None else AseAtomsAdaptor.get_structure(atoms)))
        classes.append(number)
    return classes


def canonical_atom_order(atoms: Atoms, sites: np.ndarray | None = None) -> np.ndarray:
    """The order in which a frame's atoms are written: by parent site where ``sites`` (each atom's
    parent site) is given, else by element, then wrapped fractional position."""
    if sites is not None:
        return np.argsort(sites, kind="stable")
    frac = np.mod(atoms.get_scaled_positions(wrap=True), 1.0)
    return np.lexsort((frac[:, 2], frac[:, 1], frac[:, 0], atoms.numbers))


# --- classes across a system's structure sets ---

RELATIONS = ("kept", "duplicate", "labeled")
EQUIVALENT_COLUMNS = ["id", "relation", "equivalent_id", "equivalent_set"]


def classify(
    sets: Mapping[str, Sequence[Atoms]],
    *,
    parent: Atoms | None = None,
    parent_path: str | os.PathLike = "parent",
    paths: Mapping[str, str | os.PathLike] | None = None,
    tolerance: float = 0.5,
) -> tuple[pd.DataFrame, dict[str, list | None]]:
    """``set, id, class`` for every frame of ``sets`` (name -> frames with ``info['id']``):
    frames of one class are equivalent (see the module docstring); class numbers follow the
    canonical forms (with a parent) or the sorted (set, id), never the order of the frames.
    Also, per set, the parent site of every atom of each frame (None without a parent)."""
    table = pd.DataFrame(
        [(name, str(atoms.info["id"]), k) for name in sets for k, atoms in enumerate(sets[name])], columns=["set", "id", "position"]
    )
    if parent is not None:
        matcher = ParentMatcher.from_parent(parent, parent_path, tolerance)
        keys, sites = [], {}
        for name, frames in sets.items():
            codes, sites[name] = matcher.occupation_codes(frames, (paths or {}).get(name, name))
            keys += [row.tobytes() for row in canonical_codes(codes, matcher.perms)]
        table["class"] = pd.factorize(pd.Series(keys), sort=True)[0]
        return table.drop(columns="position"), sites
    order = table.sort_values(["set", "id"], kind="stable").index
    classes = matcher_keys([sets[table.at[k, "set"]][table.at[k, "position"]] for k in order])
    table.loc[order, "class"] = classes
    return table.astype({"class": int}).drop(columns="position"), {name: None for name in sets}


def equivalents(own: pd.DataFrame, labeled: pd.DataFrame | None, set_name: str) -> pd.DataFrame:
    """The fate of every frame of one set (``own``: its rows of :func:`class_table`): ``kept``
    (the smallest id of its class within the set), ``duplicate`` of the kept frame of its class,
    or ``labeled`` (equivalent to the labeled dataset's frame ``equivalent_id``; only for the sets
    to predict: a model must not be scored, nor a structure screened, where a label exists).
    Rows in ``own``'s order."""
    out = pd.DataFrame({"id": own["id"].to_numpy(), "relation": "kept", "equivalent_id": own["id"].to_numpy(), "equivalent_set": set_name})
    kept = own.sort_values("id", kind="stable").drop_duplicates("class").set_index("class")["id"]
    representative = own["class"].map(kept).to_numpy()
    duplicate = representative != out["id"].to_numpy()
    out.loc[duplicate, "relation"] = "duplicate"
    out.loc[duplicate, "equivalent_id"] = representative[duplicate]
    if labeled is not None:
        known = labeled.sort_values("id", kind="stable").drop_duplicates("class").set_index("class")["id"]
        match = own["class"].map(known).to_numpy()
        found = pd.notna(match)
        out.loc[found, "relation"] = "labeled"
        out.loc[found, "equivalent_id"] = match[found]
        out.loc[found, "equivalent_set"] = "dataset"
    return out[EQUIVALENT_COLUMNS]
