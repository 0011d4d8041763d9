"""A Lightning callback that records each epoch's wall time and metrics (nequip logs no timings).

Used from the nequip config (``workflow/allegro/train.yaml``) as
``_target_: qcrobust.allegro.callbacks.EpochLog``. It appends one JSON line per finished
epoch, so a resumed run keeps the lines of the epochs before the kill;
:func:`read_epoch_log` keeps the last line per epoch.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class EpochLog(Callback):
    """Append ``{"epoch", "seconds", "cpu_seconds", "lr", <validation metrics>}`` per training epoch to a JSON-lines file.

    ``seconds`` is the epoch's wall time, training and validation together; ``cpu_seconds``
    the CPU time of the training process over it (all threads), which a busy machine inflates less.
    """

    def __init__(self, path: str):
        self.path = Path(path)
        self._start = None
        self._cpu_start = None
        self._lr = None

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()
        self._cpu_start = time.process_time()
        # the rate this epoch trains with (an epoch-interval scheduler steps before the epoch-end hooks)
        self._lr = float(trainer.optimizers[0].param_groups[0]["lr"]) if trainer.optimizers else None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        # runs after the epoch's validation (lightning validates inside the training epoch)
        if self._start is None or trainer.sanity_checking:
            return
        record = {
            "epoch": int(trainer.current_epoch),
            "seconds": time.perf_counter() - self._start,
            "cpu_seconds": time.process_time() - self._cpu_start,
        }
        if self._lr is not None:
            record["lr"] = self._lr
        # validation metrics of this epoch (nequip computes the training-epoch metrics after the
        # callbacks' hook, so they would lag one epoch behind: left out)
        for name, value in trainer.callback_metrics.items():
            if name.startswith("val") and "_epoch/" in name:
                number = float(value)
                record[name] = number if math.isfinite(number) else None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        self._start = None


def read_epoch_log(path: str | Path) -> list[dict]:
    """The epoch records of a run, one per epoch (a resumed epoch's last record wins), in order."""
    path = Path(path)
    if not path.is_file():
        return []
    records = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            record = json.loads(line)
            records[record["epoch"]] = record
    return [records[epoch] for epoch in sorted(records)]
