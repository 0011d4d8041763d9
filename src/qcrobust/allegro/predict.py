"""Predictions of a packaged Allegro model, in the study's target (eV/atom).

The model is loaded with nequip's own loader (``load_saved_model``) and fed the same data
transforms nequip's ASE calculator builds for it (type mapping + neighbor list from the
model's metadata), in batches. The model's ``total_energy`` is the target × n_atoms, so the
prediction is ``total_energy / n_atoms``.

:meth:`Predictor.predict_graphs` reads frames whose neighbour lists were computed once
(:mod:`.graphs`, a system's inference file) and applies only the model's type mapping: the
same batches, hence the same predictions bit for bit, without the neighbour-list work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

#: frames per forward pass. Measured (bench/allegro_predict.py, 146-atom cells, 1 thread):
#: 8 / 16 / 32 / 64 within a few % of each other per cell, so the old default stays (and so do
#: the bits: a frame's prediction does not depend on its batch, see tests/test_allegro_graphs.py)
BATCH_SIZE = 16


class Predictor:
    """A loaded model plus its input transforms; call :meth:`predict` on a list of frames."""

    def __init__(self, model_path: str | Path, device: str = "cpu"):
        import torch
        from nequip.data.transforms import NeighborListPruneTransform, NeighborListTransform
        from nequip.integrations.utils import basic_transforms
        from nequip.model.saved_models.load_utils import load_saved_model
        from nequip.nn import graph_model
        from nequip.utils.global_state import set_global_state

        set_global_state(allow_tf32=False)
        self.device = torch.device(device)
        self.model = load_saved_model(str(model_path)).to(self.device)
        self.model.eval()
        metadata = self.model.metadata
        self.type_names = metadata[graph_model.TYPE_NAMES_KEY].split(" ")
        self.r_max = float(metadata[graph_model.R_MAX_KEY])
        self.transforms = basic_transforms(metadata, self.r_max, self.type_names, {t: t for t in self.type_names})
        # for precomputed graphs: the transforms minus the neighbour list itself (plus its
        # per-edge-type pruning, which basic_transforms folds into the neighbour-list transform)
        (self._neighbor_list,) = [t for t in self.transforms if isinstance(t, NeighborListTransform)]
        self.graph_transforms = [t for t in self.transforms if not isinstance(t, NeighborListTransform)]
        if self._neighbor_list.per_edge_type_cutoff is not None:
            self.graph_transforms.append(NeighborListPruneTransform(self.r_max, self._neighbor_list.per_edge_type_cutoff, self.type_names))

    def _forward(self, chunks: Iterable[list]) -> np.ndarray:
        """Total energies of batches (lists of transformed AtomicDataDicts), concatenated."""
        import torch
        from nequip.data import AtomicDataDict

        out = []
        for data in chunks:
            batch = AtomicDataDict.to_(AtomicDataDict.batched_from_list(data), self.device)
            # inference_mode: no_grad minus autograd's version counters, a few % less CPU, same bits
            with torch.inference_mode():
                total = self.model(batch)[AtomicDataDict.TOTAL_ENERGY_KEY]
            out.append(total.detach().cpu().double().reshape(-1).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def predict(self, frames: Sequence[Atoms], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Per-atom target of each frame (eV/atom), in input order."""
        from nequip.data import from_ase

        unknown = {s for a in frames for s in a.get_chemical_symbols()} - set(self.type_names)
        if unknown:
            raise ValueError(f"species {sorted(unknown)} unknown to the model (type names {self.type_names})")

        def chunks():
            for start in range(0, len(frames), batch_size):
                data = []
                for atoms in frames[start : start + batch_size]:
                    item = from_ase(atoms)
                    for transform in self.transforms:
                        item = transform(item)
                    data.append(item)
                yield data

        totals = self._forward(chunks())
        return totals / np.array([len(a) for a in frames], dtype=float)

    def predict_graphs(self, graphs, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Per-atom target of each frame of a graph file (:class:`.graphs.GraphFile` or its
        path, written by :func:`.graphs.write_graphs`), in file order (``graphs.info.ids``).

        Equal bit for bit to :meth:`predict` on the frames the file was written from.
        """
        from qcrobust.allegro.graphs import GraphFile

        graphs = graphs if isinstance(graphs, GraphFile) else GraphFile(graphs)
        graphs.check(self.r_max, self._neighbor_list.backend, self.type_names)
        n = len(graphs)
        chunks = (list(graphs.frames(self.graph_transforms, s, s + batch_size)) for s in range(0, n, batch_size))
        return self._forward(chunks) / graphs.n_atoms.astype(float)
