"""Run ``nequip-train`` on the repo's config template, resume it, and package what it made.

The template (``workflow/allegro/train.yaml`` with its ``model/`` group) is a complete nequip
Hydra config; :func:`overrides` turns a :class:`TrainSpec` into its ``key=value`` command-line
overrides, so a run is exactly ``nequip-train -cp workflow/allegro -cn train <overrides>``.

nequip-train runs in the calling process (:func:`run_nequip_train`); its log lines go to the
caller's logging handlers, i.e. the rule's log file.

Resume: the run directory keeps nequip's ``checkpoints/last.ckpt`` (written every epoch) and a
``spec.json`` of the overrides. A rerun with the same spec continues from ``last.ckpt``
(nequip's ``ckpt_path``); a different spec starts afresh. After a successful run the chosen
checkpoint (best validation error, or the last epoch's: :func:`qcrobust.allegro.pipeline.checkpoint_rule`) is packaged (``nequip-package``: a self-contained ``.nequip.zip``, the model file
that predictions and fine-tuning load) and the run directory is removed, so a forced rerun
really retrains.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from qcrobust.resources import folder

log = logging.getLogger(__name__)

TEMPLATE_DIR = folder("allegro")  # workflow/allegro, shipped in the package (qcrobust.resources)
TEMPLATE_NAME = "train"
#: top-level keys of the template that set the model's size (config ``allegro.model``)
MODEL_KEYS = ("cutoff_radius", "l_max", "num_layers", "num_scalar_features", "num_tensor_features", "mlp_width", "model_dtype")
CHECKPOINTS = "checkpoints"  # nequip's checkpoints, under the run directory (train.yaml)
EPOCH_LOG = "epochs.jsonl"
SPEC_FILE = "spec.json"


@dataclass
class TrainSpec:
    """One nequip training run. Paths are made absolute (nequip stores them in checkpoints)."""

    run_dir: Path
    train_file: Path
    val_file: Path
    type_names: list[str]
    epochs: int
    batch_size: int
    lr: float
    seed: int
    lr_schedule: str = "constant"  # constant | cosine (annealed towards lr * lr_min_factor)
    lr_min_factor: float = 0.01
    device: str = "cpu"  # cpu | cuda
    model: dict = field(default_factory=dict)  # MODEL_KEYS -> value; missing keys keep the template's
    init_model: Path | None = None  # fine-tune this .nequip.zip instead of building a fresh model
    finetune_model: str = "finetune"  # the template's model/ config that loads init_model (finetune | finetune_package)

    def __post_init__(self):
        self.run_dir = Path(self.run_dir).resolve()
        self.train_file = Path(self.train_file).resolve()
        self.val_file = Path(self.val_file).resolve()
        self.init_model = None if self.init_model is None else Path(self.init_model).resolve()
        unknown = set(self.model) - set(MODEL_KEYS)
        if unknown:
            raise ValueError(f"unknown model key(s) {sorted(unknown)}; expected some of {MODEL_KEYS}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if not (TEMPLATE_DIR / "model" / f"{self.finetune_model}.yaml").is_file():
            raise ValueError(f"no fine-tuning model config {self.finetune_model!r} in {TEMPLATE_DIR / 'model'}")


@dataclass
class TrainResult:
    best_checkpoint: Path  # lowest validation error
    last_checkpoint: Path  # the last epoch's
    epochs: list[dict]  # per-epoch records from the EpochLog callback
    seconds: float  # wall time of this call's nequip-train process(es)
    resumed: bool


def _quote(value) -> str:
    """A Hydra override value: quoted string for paths and names, plain for numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_quote(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def overrides(spec: TrainSpec) -> list[str]:
    """The Hydra overrides that turn the template into ``spec``'s run (resume not included)."""
    items = [
        f"hydra.run.dir={_quote(spec.run_dir)}",
        f"seed={spec.seed}",
        f"type_names={_quote(list(spec.type_names))}",
        f"train_file={_quote(spec.train_file)}",
        f"val_file={_quote(spec.val_file)}",
        f"max_epochs={int(spec.epochs)}",
        f"batch_size={int(spec.batch_size)}",
        f"lr={float(spec.lr)!r}",
        f"lr_schedule@training_module.lr_scheduler={spec.lr_schedule}",
        f"accelerator={'gpu' if spec.device == 'cuda' else 'cpu'}",
        f"epoch_log={_quote(spec.run_dir / EPOCH_LOG)}",
    ]
    if spec.lr_schedule == "cosine":
        items.append(f"lr_min={float(spec.lr) * float(spec.lr_min_factor)!r}")
    items += [f"{key}={_quote(spec.model[key])}" for key in MODEL_KEYS if key in spec.model]
    if spec.init_model is not None:
        items += [f"model@training_module.model={spec.finetune_model}", f"init_model={_quote(spec.init_model)}"]
    return items


def command(spec: TrainSpec, resume_from: Path | None = None) -> list[str]:
    """The ``nequip-train`` command line equivalent to :func:`train` on ``spec``."""
    cmd = ["nequip-train", "-cp", str(TEMPLATE_DIR), "-cn", TEMPLATE_NAME, *overrides(spec)]
    if resume_from is not None:
        cmd.append(f"++ckpt_path={_quote(resume_from)}")
    return cmd


def _loadable(checkpoint: Path) -> bool:
    """Whether a checkpoint reads back (a job killed while lightning wrote it leaves it truncated)."""
    import torch

    try:
        torch.load(checkpoint, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated zip, pickle error, ...
        log.warning("cannot read %s (%s: %s)", checkpoint, type(exc).__name__, exc)
        return False
    return True


def resume_checkpoint(spec: TrainSpec) -> Path | None:
    """``last.ckpt`` of an interrupted run of the same spec, else ``None`` (and a clean run dir)."""
    wanted = overrides(spec)
    spec_file = spec.run_dir / SPEC_FILE
    last = spec.run_dir / CHECKPOINTS / "last.ckpt"
    if spec_file.is_file() and json.loads(spec_file.read_text()) == wanted and last.is_file() and _loadable(last):
        return last
    if spec.run_dir.exists():
        log.info("discarding the run directory %s (no resumable run of this spec)", spec.run_dir)
        shutil.rmtree(spec.run_dir)
    return None


def run_nequip_train(argv: list[str]) -> None:
    """Run nequip's ``nequip-train`` entry point in this process with command-line ``argv``.

    The same function the console script calls, minus a second interpreter: a job then imports
    torch/nequip once for training, packaging and predicting (a fresh ``nequip-train`` process
    costs ~8 s of imports and set-up per job on these CPUs). Hydra is told not to configure
    logging, so nequip's log lines reach the caller's handlers (the rule's log).
    """
    from hydra.core.global_hydra import GlobalHydra
    from nequip.scripts.train import main
    from omegaconf import OmegaConf

    # nequip registers this resolver on every fresh run; a second run in one process needs it gone
    if OmegaConf.has_resolver("training_data_stats"):
        OmegaConf.clear_resolver("training_data_stats")
    GlobalHydra.instance().clear()
    saved_argv = sys.argv
    sys.argv = ["nequip-train", *argv, "hydra/job_logging=none", "hydra/hydra_logging=none"]
    try:
        main()
    except SystemExit as exc:  # hydra exits on errors it reports itself (e.g. bad overrides)
        if exc.code not in (0, None):
            raise RuntimeError(f"nequip-train failed (exit status {exc.code})") from exc
    finally:
        sys.argv = saved_argv
        GlobalHydra.instance().clear()


def train(spec: TrainSpec, *, threads: int | None = None) -> TrainResult:
    """Run (or resume) nequip-train for ``spec`` (in this process, see :func:`run_nequip_train`)."""
    import torch

    from qcrobust.allegro.callbacks import read_epoch_log

    resume = resume_checkpoint(spec)
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    (spec.run_dir / SPEC_FILE).write_text(json.dumps(overrides(spec), indent=1))
    cmd = command(spec, resume)
    if resume is not None:
        log.info("resuming from %s", resume)
    log.info("nequip-train: %s", " ".join(cmd[1:]))
    if threads:
        torch.set_num_threads(int(threads))
    start = time.perf_counter()
    run_nequip_train(cmd[1:])
    seconds = time.perf_counter() - start
    best, last = spec.run_dir / CHECKPOINTS / "best.ckpt", spec.run_dir / CHECKPOINTS / "last.ckpt"
    for checkpoint in (best, last):
        if not checkpoint.is_file():
            raise RuntimeError(f"nequip-train finished without {checkpoint}")
    return TrainResult(best, last, read_epoch_log(spec.run_dir / EPOCH_LOG), seconds, resume is not None)


def package(checkpoint: str | Path, output: str | Path) -> Path:
    """``nequip-package build`` a checkpoint into a self-contained ``.nequip.zip`` (atomically).

    Runs in this process (nequip is imported anyway for predictions), not as a second command.
    """
    root = logging.getLogger()
    handlers = list(root.handlers)
    # importing nequip.scripts.package adds a stdout handler to the root logger (hydra's
    # configure_log); take it off again so that log lines stay in the rule's log file
    from nequip.scripts.package import main as nequip_package

    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)

    output = Path(output)
    if not output.name.endswith(".nequip.zip"):
        raise ValueError(f"a nequip package must end in .nequip.zip: {output}")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".tmp{os.getpid()}-{output.name}")
    try:
        nequip_package(["build", str(checkpoint), str(tmp)])
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return output


def finish(spec: TrainSpec) -> None:
    """Remove the run directory once its products are safely written elsewhere."""
    shutil.rmtree(spec.run_dir, ignore_errors=True)
