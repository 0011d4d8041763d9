"""Neighbour lists computed once per file, not once per epoch or once per model.

nequip applies a dataset's transforms (type mapping, ``NeighborListTransform``) every time a
frame is read, so a training recomputes every neighbour list every epoch (~1.1 CPU-ms per
146-atom cell with matscipy, ~20 % of an epoch), and every model that predicts a system's
inference file recomputes the same 3,942 lists. Two remedies, both on nequip's own classes:

- :class:`CachedASEDataset` (training, in one process): nequip's ``ASEDataset`` whose
  transforms run once per frame, on the frame's first read, and whose result is kept; every
  later epoch reads the kept graph. The train template (``workflow/allegro/train.yaml``) uses
  it for the train and validation files. nequip ships no such in-memory cache: its
  ``ASEDataset`` keeps the raw frames and transforms on every read, its ``NequIPLMDBDataset``
  needs a file written first.
- :func:`write_graphs` / :class:`GraphFile` (predictions, across processes): a system's
  inference frames as nequip's ``AtomicDataDict`` s with their neighbour lists
  (``from_ase`` + ``NeighborListTransform``, exactly what the predictor computes), written once
  per system; each model's prediction job reads them back and applies only its own type
  mapping. The file also records the cutoff, the neighbour-list backend, the frames' ids and
  species, so that a prediction needs neither the extxyz nor a neighbour list, and refuses a
  file of another cutoff or backend.

  The file is one uncompressed ``.npz``: each field of the frames concatenated along its
  node / edge / graph axis (nequip's field registry says which), with per-frame atom and edge
  counts, and the integer-valued fields stored narrow (edge indices int16, cell shifts int8,
  atomic numbers int8; widened back exactly on reading). Not nequip's LMDB dataset
  (``NequIPLMDBDataset.save_from_iterator``), which was tried first: it pickles torch tensors,
  85-120 kB per 146-atom cell (~0.3-0.5 GB per system's 3,942 inference cells, and a 50 GB
  sparse map file unless copied compact), and unpickling them costs ~0.3 CPU-ms per cell, a fifth of a
  prediction; its writer needs torch tensors (``.size(0)``), so it cannot store narrow numpy
  entries. The npz is ~22 kB per cell and reads in ~0.05 ms.

Both give the same tensors as computing the transforms afresh (same matscipy call, same
input), so training and predictions are bit-identical (tests/test_allegro_graphs.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from nequip.data.dataset import ASEDataset  # this module is imported only where nequip is used

log = logging.getLogger(__name__)


class CachedASEDataset(ASEDataset):
    """nequip's ``ASEDataset`` that transforms each frame once and keeps the result.

    Same arguments and same items as ``nequip.data.dataset.ASEDataset``; only the transforms
    must be deterministic functions of the frame (type mapping, neighbour list: true of nequip's
    own). Items are shallow copies of the kept dicts, as nequip's own ``_transform`` returns,
    so a consumer that adds keys does not change the cache. Memory: the kept graphs, ~110 kB per
    146-atom cell at a 5 A cutoff (int64 edge indices, float64 cell shifts: nequip's default
    dtype), on top of the frames ASEDataset holds.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._transformed = [False] * len(self.data_list)

    def __getitems__(self, indices):
        if isinstance(indices, slice):
            indices = range(len(self))[indices]
        out = []
        for index in indices:
            index = int(index)
            if not self._transformed[index]:
                # ASEDataset._transform copies the raw dict, then applies every transform
                self.data_list[index] = self._transform(self.data_list[index])
                self._transformed[index] = True
            out.append(self.data_list[index].copy())
        return out


#: bump when the layout of a graph file changes (a file of another format is refused)
GRAPHS_FORMAT = 1

#: Hydra overrides that turn the training template back into nequip's own data path (its
#: ASEDataModule, neighbour lists every epoch, per-step training metrics): the reference the
#: cached dataset is measured (bench/allegro_epoch.py --uncached) and checked (tests) against.
UNCACHED_OVERRIDES = (
    "data._target_=nequip.data.datamodule.ASEDataModule",
    "~data.train_dataset",
    "~data.val_dataset",
    "+data.train_file_path=${train_file}",
    "+data.val_file_path=${val_file}",
    "+data.ase_args=${data_ase_args}",
    "+data.key_mapping=${data_key_mapping}",
    "+data.transforms=${data_transforms}",
    "training_module.train_metrics=${training_module.val_metrics}",
)


@dataclass
class GraphInfo:
    """What a graph file says about itself."""

    r_max: float
    backend: str
    ids: list[str]
    species: list[str]
    source: str
    format: int = GRAPHS_FORMAT


def _narrow(key: str, values: np.ndarray) -> np.ndarray:
    """``values`` in the smallest integer type that holds them exactly (integer-valued fields
    only: edge indices, cell shifts, atomic numbers), else unchanged."""
    if key not in _NARROW_KEYS or values.size == 0:
        return values
    if values.dtype.kind == "f" and not np.array_equal(values, np.round(values)):
        return values
    low, high = values.min(), values.max()
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype)
    return values


def _fields():
    from nequip.data import AtomicDataDict
    from nequip.data._key_registry import get_field_type

    return AtomicDataDict, get_field_type


_NARROW_KEYS = ("edge_index", "edge_cell_shift", "atomic_numbers")


def _axis(key: str, get_field_type) -> tuple[str, int]:
    """(which count a field follows: nodes / edges / frames, axis of concatenation)."""
    if key == "edge_index":
        return "edges", 1
    kind = get_field_type(key)
    return {"node": "nodes", "edge": "edges", "graph": "frames"}[kind], 0


def write_graphs(frames_path: str | Path, output: str | Path, *, r_max: float, backend: str | None = None) -> GraphInfo:
    """Write the frames of ``frames_path`` (extxyz) with their neighbour lists to ``output`` (.npz).

    Each frame is what :meth:`qcrobust.allegro.predict.Predictor.predict` computes for it before
    its type mapping: ``nequip.data.from_ase(model_frame(atoms))`` then
    ``NeighborListTransform(r_max, backend)``. Written atomically; returns the file's record.
    """
    from ase.data import atomic_numbers
    from nequip.data import from_ase
    from nequip.data._nl import DEFAULT_NEIGHBORLIST_BACKEND
    from nequip.data.transforms import NeighborListTransform
    from nequip.utils.global_state import set_global_state

    from qcrobust.allegro.data import model_frame
    from qcrobust.io import atomic_path, read_frames

    # nequip's global state, as the predictor sets it: its default dtype (float64) is the dtype
    # from_ase gives positions and cells, hence the precision of the neighbour-list inputs
    set_global_state(allow_tf32=False)
    AtomicDataDict, get_field_type = _fields()
    backend = backend or DEFAULT_NEIGHBORLIST_BACKEND
    frames = [model_frame(a) for a in read_frames(frames_path)]
    if not frames:
        raise ValueError(f"{frames_path}: no frames")
    transform = NeighborListTransform(r_max=float(r_max), backend=backend)
    graphs = [transform(from_ase(atoms)) for atoms in frames]
    keys = list(graphs[0])
    for index, graph in enumerate(graphs):
        if list(graph) != keys:
            raise ValueError(f"{frames_path}: frame {index} has fields {sorted(graph)}, frame 0 {sorted(keys)}")
    symbols = {s for a in frames for s in a.get_chemical_symbols()}
    info = GraphInfo(
        r_max=float(r_max),
        backend=backend,
        ids=[str(a.info["id"]) for a in frames],
        species=sorted(symbols, key=lambda s: atomic_numbers[s]),
        source=str(frames_path),
    )
    arrays = {
        "n_nodes": np.array([AtomicDataDict.num_nodes(g) for g in graphs], dtype=np.int64),
        "n_edges": np.array([AtomicDataDict.num_edges(g) for g in graphs], dtype=np.int64),
    }
    dtypes = {}
    for key in keys:
        _, axis = _axis(key, get_field_type)
        values = np.concatenate([g[key].numpy() for g in graphs], axis=axis)
        dtypes[key] = str(graphs[0][key].dtype).removeprefix("torch.")
        arrays[f"field/{key}"] = _narrow(key, values)
    record = info.__dict__ | {"keys": keys, "dtypes": dtypes}
    arrays["info"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    with atomic_path(output) as tmp:
        with open(tmp, "wb") as handle:  # a file object: np.savez would append .npz to a path
            np.savez(handle, **arrays)
    size = Path(output).stat().st_size
    log.info(
        "%s: %d frames with %s neighbour lists within %g A -> %s (%.1f MB, %.0f kB per frame)",
        frames_path,
        len(frames),
        backend,
        r_max,
        output,
        size / 1e6,
        size / 1e3 / len(frames),
    )
    return info


class GraphFile:
    """A graph file of :func:`write_graphs`: its record, and its frames as nequip ``AtomicDataDict`` s."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with np.load(self.path, allow_pickle=False) as npz:
            if "info" not in npz.files:
                raise ValueError(f"{self.path}: not a qcrobust graph file (no 'info' record)")
            record = json.loads(npz["info"].tobytes())
            if record.get("format") != GRAPHS_FORMAT:
                raise ValueError(f"{self.path}: graph file format {record.get('format')}, expected {GRAPHS_FORMAT}")
            self._keys = record.pop("keys")
            self._dtypes = record.pop("dtypes")
            self.info = GraphInfo(**record)
            self._arrays = {key: npz[f"field/{key}"] for key in self._keys}
            counts = {"nodes": npz["n_nodes"], "edges": npz["n_edges"]}
        counts["frames"] = np.ones(len(counts["nodes"]), dtype=np.int64)
        if len(counts["nodes"]) != len(self.info.ids):
            raise ValueError(f"{self.path}: {len(counts['nodes'])} frames but {len(self.info.ids)} ids")
        self.n_atoms = counts["nodes"]
        self._offsets = {name: np.concatenate([[0], np.cumsum(c)]) for name, c in counts.items()}

    def __len__(self) -> int:
        return len(self.info.ids)

    def check(self, r_max: float, backend: str, type_names: Sequence[str]) -> None:
        """Raise unless these graphs are the ones a model of cutoff ``r_max`` would compute
        (in this process's default dtype, which nequip's ``from_ase`` gives positions)."""
        import torch

        wanted = str(torch.get_default_dtype()).removeprefix("torch.")
        if self._dtypes.get("pos") != wanted:
            raise ValueError(f"{self.path}: positions in {self._dtypes.get('pos')}, this process reads frames in {wanted}")
        if float(r_max) != self.info.r_max or backend != self.info.backend:
            raise ValueError(
                f"{self.path}: neighbour lists within {self.info.r_max} A ({self.info.backend}); "
                f"the model needs {float(r_max)} A ({backend})"
            )
        unknown = set(self.info.species) - set(type_names)
        if unknown:
            raise ValueError(f"species {sorted(unknown)} unknown to the model (type names {list(type_names)})")

    def frame(self, index: int) -> dict:
        """Frame ``index`` as the ``AtomicDataDict`` it was written from (same keys, dtypes, values)."""
        import torch

        _, get_field_type = _fields()
        out = {}
        for key in self._keys:
            count, axis = _axis(key, get_field_type)
            start, stop = self._offsets[count][index], self._offsets[count][index + 1]
            values = self._arrays[key][:, start:stop] if axis == 1 else self._arrays[key][start:stop]
            dtype = getattr(torch, self._dtypes[key])
            tensor = torch.from_numpy(np.ascontiguousarray(values))
            # a copy either way: the frame must not share memory with the file's arrays
            out[key] = tensor.to(dtype) if tensor.dtype != dtype else tensor.clone()
        return out

    def frames(self, transforms: Sequence = (), start: int = 0, stop: int | None = None) -> Iterator[dict]:
        """Frames ``start:stop``, each passed through ``transforms`` (e.g. a model's type mapping)."""
        for index in range(start, len(self) if stop is None else min(stop, len(self))):
            item = self.frame(index)
            for transform in transforms:
                item = transform(item)
            yield item
