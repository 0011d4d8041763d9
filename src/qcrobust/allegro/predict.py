"""Predictions of a packaged Allegro model, in the study's target (eV/atom).

The model is loaded with nequip's own loader (``load_saved_model``) and fed the same data
transforms nequip's ASE calculator builds for it (type mapping + neighbor list from the
model's metadata), in batches. The model's ``total_energy`` is the target × n_atoms, so the
prediction is ``total_energy / n_atoms``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms

PREDICTION_COLUMNS = ["id", "y_pred"]


class Predictor:
    """A loaded model plus its input transforms; call :meth:`predict` on a list of frames."""

    def __init__(self, model_path: str | Path, device: str = "cpu"):
        import torch
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
        r_max = float(metadata[graph_model.R_MAX_KEY])
        self.transforms = basic_transforms(metadata, r_max, self.type_names, {t: t for t in self.type_names})

    def predict(self, frames: Sequence[Atoms], batch_size: int = 16) -> np.ndarray:
        """Per-atom target of each frame (eV/atom), in input order."""
        import torch
        from nequip.data import AtomicDataDict, from_ase

        unknown = {s for a in frames for s in a.get_chemical_symbols()} - set(self.type_names)
        if unknown:
            raise ValueError(f"species {sorted(unknown)} unknown to the model (type names {self.type_names})")
        out = []
        for start in range(0, len(frames), batch_size):
            chunk = frames[start : start + batch_size]
            data = []
            for atoms in chunk:
                item = from_ase(atoms)
                for transform in self.transforms:
                    item = transform(item)
                data.append(item)
            batch = AtomicDataDict.to_(AtomicDataDict.batched_from_list(data), self.device)
            with torch.no_grad():
                total = self.model(batch)[AtomicDataDict.TOTAL_ENERGY_KEY]
            out.append(total.detach().cpu().double().reshape(-1).numpy())
        totals = np.concatenate(out) if out else np.zeros(0)
        return totals / np.array([len(a) for a in frames], dtype=float)


def prediction_table(frames: Sequence[Atoms], y_pred: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"id": [str(a.info["id"]) for a in frames], "y_pred": np.asarray(y_pred, dtype=float)})
