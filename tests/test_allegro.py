"""The Allegro family on a tiny synthetic system: data files, training, resume, fine-tuning, and
the predictions of the saved models (rule predict).

Trainings use a ~1k-parameter Allegro for 2-3 epochs on ~80 cells of <= 32 atoms, in this
process (as the rules do), so each takes a few seconds on a busy CPU.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import ase.io
import numpy as np
import pytest

from qcrobust import layout
from qcrobust.allegro.corpus import corpus_structures, label_corpus, pairs_from
from qcrobust.allegro.data import PARTS, TARGET_TOTAL_KEY, limit_parts, read_splits, species, write_limit_data, write_species
from qcrobust.allegro.pipeline import (
    allegro_limits,
    checkpoint_rule,
    effective_epochs,
    epochs_for,
    pretrain_external,
    pretrain_self,
    reuse_model,
    run_model,
)
from qcrobust.allegro.predict import Predictor
from qcrobust.allegro.training import CHECKPOINTS, EPOCH_LOG, TEMPLATE_DIR, TrainSpec, overrides, train
from qcrobust.dataset import ingest_set
from qcrobust.errors import InputError
from qcrobust.io import read_csv, write_csv
from qcrobust.metrics import regression_scores
from qcrobust.predict import predict_set, prediction_table, write_predictions
from qcrobust.splits import make_splits
from qcrobust.splits import test_ids as split_test_ids
from qcrobust.synthetic import make_system

#: prediction tolerance for "same seed, same predictions" on CPU (eV/atom); measured: identical
SAME_SEED_TOLERANCE = 1e-6

TINY = {
    "seed": 0,
    "epochs": 2,
    "finetune_epochs": 2,
    "select_min_val": 20,
    "min_steps": 0,
    "batch_size": 8,
    "lr": 0.005,
    "finetune_lr": 0.002,
    "lr_schedule": "cosine",
    "lr_min_factor": 0.01,
    "device": "cpu",
    "model": {"cutoff_radius": 4.0, "num_scalar_features": 8, "num_tensor_features": 2, "mlp_width": 8},
}


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """One ingested and split synthetic system (CuPt) with its limit-8 and limit-0 training files,
    at their workflow paths under a study folder."""
    root = tmp_path_factory.mktemp("allegro_system")
    spec = make_system("CuPt", "Pt", root / "data", seed=0)

    def at(pattern, **values):
        return root / layout.path(pattern, system="CuPt", **values)

    paths = {name: at(layout.STRUCTURES, set=name) for name in ("dataset", "inference", "audit")}
    paths |= {"targets": at(layout.TARGETS, set="dataset"), "audit_targets": at(layout.TARGETS, set="audit")}
    for name in ("dataset", "inference", "audit"):
        targets = paths["targets"] if name == "dataset" else paths["audit_targets"] if name == "audit" else None
        ingest_set(
            "CuPt",
            spec,
            name,
            defect_step=2,
            structures=paths[name],
            targets=targets,
            equivalents=at(layout.EQUIVALENTS, set=name),
            labeled_structures=None if name == "dataset" else paths["dataset"],
        )
    paths["splits"] = at(layout.SPLITS)
    splits = make_splits(read_csv(paths["targets"], dtype={"id": str}), test_size=6, val_fraction=0.2, seed=1)
    write_csv(splits, paths["splits"])
    paths["species"] = at(layout.ALLEGRO_SPECIES)
    write_species(paths["dataset"], paths["species"])
    for limit in (0, 8):
        parts = {p: at(layout.ALLEGRO_PART, limit=limit, part=p) for p in ("train", "val")}
        if limit:
            parts |= {p: at(layout.ALLEGRO_PART, limit=limit, part=p) for p in ("pretrain_train", "pretrain_val")}
        write_limit_data(paths["dataset"], paths["splits"], limit=limit, target="e_above_hull", outputs=parts)
        paths |= {f"{name}_{limit}": path for name, path in parts.items()}
    return paths


def model_io(system, out: Path, limit: int = 8):
    """Inputs and outputs of rule allegro_train: training data in, the model and its metrics out."""
    inputs = {part: system[f"{part}_{limit}"] for part in ("train", "val")} | {"species": system["species"]}
    outputs = layout.trained_files(str(out))
    return inputs, {name: Path(path) for name, path in outputs.items()}


def predict(system, model, set_name: str):
    """Rule predict's table of one set (the test set: the dataset's test split)."""
    inputs = {"model": str(model), "structures": str(system["dataset" if set_name == "test" else set_name])}
    if set_name == "test":
        inputs["splits"] = str(system["splits"])
    return predict_set("allegro", set_name, inputs)


# --- data --------------------------------------------------------------------------------


def test_limit_files_hold_the_limit_subset_with_target_times_atoms(system):
    splits = read_splits(system["splits"])
    targets = read_csv(system["targets"], dtype={"id": str}).set_index("id")
    for part, split in (("train", "train"), ("val", "val")):
        frames = ase.io.read(system[f"{part}_8"], ":")
        expected = splits[(splits.split == split) & (splits.n_A5_defects <= 8)].id.tolist()
        assert [a.info["id"] for a in frames] == expected
        for atoms in frames:
            y = targets.loc[atoms.info["id"], "e_above_hull"]
            assert atoms.info[TARGET_TOTAL_KEY] == pytest.approx(y * len(atoms), rel=1e-12)
            assert set(atoms.info) == {"id", TARGET_TOTAL_KEY}  # no 'energy' that nequip would pick up
    # no training file holds a test structure (rule predict reads the test set from the dataset)
    test = set(split_test_ids(splits))
    assert len(test) == 6
    for name in ("train_8", "val_8", "pretrain_train_8", "pretrain_val_8", "train_0", "val_0"):
        assert not test & {a.info["id"] for a in ase.io.read(system[name], ":")}, name
    assert set(PARTS) == {"train", "val", "pretrain_train", "pretrain_val"}
    assert all(set(parts) <= set(PARTS) for parts in (limit_parts(splits, 0), limit_parts(splits, 8)))
    pretrain = ase.io.read(system["pretrain_train_8"], ":")
    assert pretrain and all(targets.loc[a.info["id"], "n_A5_defects"] > 0 for a in pretrain)
    limit0 = {a.info["id"] for a in ase.io.read(system["train_0"], ":")}
    assert limit0 and all(targets.loc[i, "n_A5_defects"] == 0 for i in limit0)
    assert not limit0 & {a.info["id"] for a in pretrain}


def test_limit_zero_has_no_self_pretraining_part(system, tmp_path):
    assert limit_parts(read_splits(system["splits"]), 0)["pretrain_train"] == []
    with pytest.raises(InputError, match="limit 0: no structures for the Allegro part 'pretrain_train'"):
        write_limit_data(
            system["dataset"], system["splits"], limit=0, target="e_above_hull", outputs={"pretrain_train": tmp_path / "p.extxyz"}
        )


def test_missing_target_names_the_frame(system, tmp_path):
    with pytest.raises(InputError, match=r"dataset.extxyz: frame 2 \(id='CuPt-0002'\): no finite 'e_nonsense'"):
        write_limit_data(system["dataset"], system["splits"], limit=8, target="e_nonsense", outputs={"train": tmp_path / "t.extxyz"})


def test_species_are_ordered_by_atomic_number_and_the_host_is_the_most_frequent(system):
    assert species(ase.io.read(system["dataset"], ":")) == ["Cu", "Pt"]
    assert json.loads(system["species"].read_text()) == {"species": ["Cu", "Pt"], "host": "Cu"}


def test_corpus_pairs_come_from_the_systems_or_the_config():
    systems = [{"species": ["Sc", "Pt"], "host": "Sc"}, {"species": ["Sc", "Pd"], "host": "Sc"}]
    assert pairs_from(None, systems) == [("Sc", "Pt"), ("Sc", "Pd")]
    assert pairs_from(["Sc", "Ir", "Rh"], systems) == [("Sc", "Ir"), ("Sc", "Rh")]
    with pytest.raises(ValueError, match="no system has two species"):
        pairs_from(None, [{"species": ["Cu"], "host": "Cu"}])


def test_corpus_cells_are_deterministic_and_sane():
    first = corpus_structures([("Sc", "Pt")], seed=3, rattles=1)
    again = corpus_structures([("Sc", "Pt")], seed=3, rattles=1)
    # 3 Sc + 3 Pt elemental cells, 6 ordered binaries, 16 random alloys; 3 strains each
    assert len(first) == (3 + 3 + 6 + 16) * 3
    assert all(np.array_equal(a.positions, b.positions) and a.info == b.info for a, b in zip(first, again))
    assert {s for a in first for s in a.get_chemical_symbols()} == {"Sc", "Pt"}
    closest = min(a.get_all_distances(mic=True)[np.triu_indices(len(a), 1)].min() for a in first if len(a) > 1)
    assert closest > 2.0
    assert len({a.info["id"] for a in first}) == len(first)


def test_corpus_labels_are_formation_energies():
    from ase.calculators.emt import EMT

    frames = corpus_structures([("Cu", "Pt")], seed=0, rattles=1)[:12]
    references = {"Cu": -0.1, "Pt": 0.2}
    label_corpus(frames, references, EMT())
    for atoms in frames:
        reference = sum(references[s] for s in atoms.get_chemical_symbols())
        assert atoms.info["e_form"] == pytest.approx((atoms.info["energy"] - reference) / len(atoms))
        assert atoms.calc is None


# --- config ------------------------------------------------------------------------------


def test_allegro_limits_subset_must_hold_the_largest_limit():
    config = {"limits": [0, 2, 4, 6, 8], "allegro": {"limits": None}}
    assert allegro_limits(config) == [0, 2, 4, 6, 8]
    config["allegro"]["limits"] = [8, 0, 4]
    assert allegro_limits(config) == [0, 4, 8]
    config["allegro"]["limits"] = [0, 4]
    with pytest.raises(InputError, match="must hold the largest limit 8"):
        allegro_limits(config)
    config["allegro"]["limits"] = [0, 5, 8]
    with pytest.raises(InputError, match=r"\[5\] not in 'limits'"):
        allegro_limits(config)


def test_small_sets_get_at_least_min_steps():
    assert effective_epochs(6, n_train=2000, batch_size=8, min_steps=100) == 6
    assert effective_epochs(6, n_train=25, batch_size=8, min_steps=100) == 25  # 4 steps per epoch
    assert effective_epochs(6, n_train=25, batch_size=8, min_steps=0) == 6


def test_regimes_get_matched_budgets_unless_told_otherwise():
    settings = {"epochs": 20, "finetune_epochs": None, "pretrain": {"epochs": 30}}
    assert [epochs_for(settings, stage) for stage in ("scratch", "external", "self", "self_pretrain", "pretrain")] == [20, 20, 20, 20, 30]
    assert epochs_for(settings | {"finetune_epochs": 10}, "self") == 10


def test_a_three_structure_validation_set_picks_no_epoch():
    """Issue 12, point 6: limit 0 of the default data validates on 3 structures; choosing the
    best of 125 epochs by them selects on noise, so the last epoch is the model there."""
    assert checkpoint_rule(n_val=3, min_val=20) == "last"
    assert checkpoint_rule(n_val=19, min_val=20) == "last"
    assert checkpoint_rule(n_val=20, min_val=20) == "best" and checkpoint_rule(n_val=102, min_val=20) == "best"


def test_template_composes_for_scratch_and_finetune(tmp_path):
    """The overrides fill every ??? of the template; the finetune group swaps in ModelFromPackage."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    spec = TrainSpec(
        tmp_path / "run",
        tmp_path / "t.extxyz",
        tmp_path / "v.extxyz",
        ["Sc", "Pt"],
        epochs=3,
        batch_size=4,
        lr=0.01,
        seed=7,
        model={"num_layers": 2},
        init_model=tmp_path / "m.nequip.zip",
    )
    items = [o for o in overrides(spec) if not o.startswith("hydra.")]
    with initialize_config_dir(config_dir=str(TEMPLATE_DIR), version_base=None):
        scratch = compose("train", overrides=[o for o in items if "init_model" not in o and "model@" not in o])
        finetune = compose("train", overrides=items)
    assert "???" not in json.dumps(OmegaConf.to_container(scratch, resolve=False))  # every required key filled
    assert scratch.training_module.model._target_ == "allegro.model.AllegroModel"
    assert scratch.training_module.model.do_derivatives is False
    assert scratch.trainer.max_epochs == 3 and scratch.num_layers == 2 and list(scratch.type_names) == ["Sc", "Pt"]
    for part in ("train_dataset", "val_dataset"):  # our CachedASEDataset: nequip's ASEDataset, graphs kept
        assert scratch.data[part].key_mapping == {TARGET_TOTAL_KEY: "total_energy"}
        assert scratch.data[part]._target_ == "qcrobust.allegro.graphs.CachedASEDataset"
    assert finetune.training_module.model.model._target_ == "nequip.model.ModelFromPackage"
    assert finetune.training_module.model.model.package_path == str(tmp_path / "m.nequip.zip")
    assert scratch.training_module.lr_scheduler.scheduler._target_ == "torch.optim.lr_scheduler.ConstantLR"


def test_cosine_schedule_anneals_over_the_runs_epochs(tmp_path):
    from hydra import compose, initialize_config_dir

    spec = TrainSpec(
        tmp_path / "run",
        tmp_path / "t.extxyz",
        tmp_path / "v.extxyz",
        ["Sc", "Pt"],
        epochs=7,
        batch_size=4,
        lr=0.01,
        seed=7,
        lr_schedule="cosine",
        lr_min_factor=0.05,
    )
    items = [o for o in overrides(spec) if not o.startswith("hydra.")]
    with initialize_config_dir(config_dir=str(TEMPLATE_DIR), version_base=None):
        cfg = compose("train", overrides=items)
    scheduler = cfg.training_module.lr_scheduler.scheduler
    assert scheduler._target_ == "torch.optim.lr_scheduler.CosineAnnealingLR"
    assert scheduler.T_max == 7 and scheduler.eta_min == pytest.approx(0.0005)
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainSpec(
            tmp_path / "run",
            tmp_path / "t.extxyz",
            tmp_path / "v.extxyz",
            ["Sc"],
            epochs=1,
            batch_size=1,
            lr=0.01,
            seed=0,
            lr_schedule="linear",
        )


# --- training ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch_run(system, tmp_path_factory):
    out = tmp_path_factory.mktemp("scratch")
    inputs, outputs = model_io(system, out)
    metrics = run_model(
        settings=TINY,
        model="scratch",
        system="CuPt",
        limit=8,
        target="e_above_hull",
        inputs=inputs,
        outputs=outputs,
        run_dir=out / "run",
        threads=1,
    )
    return out, metrics


@pytest.mark.slow  # trains nequip models
def test_scratch_model_writes_model_and_metrics_and_predicts_every_set(system, scratch_run, tmp_path):
    out, metrics = scratch_run
    # training writes the model and its training facts only: no predictions, no test score
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.nequip.zip"]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert not {"rmse", "mae", "r2", "n_test", "predict_seconds"} & set(saved)
    assert {"n_train", "n_val", "fit_seconds", "epochs", "epoch_seconds", "selected_val_rmse"} <= set(saved)
    assert saved["n_train"] == len(ase.io.read(system["train_8"], ":")) and saved["epochs"] == 2
    assert len(saved["epoch_seconds"]) == 2 and saved["model"] == "scratch" and saved["family"] == "allegro"
    assert not (out / "run").exists()  # the run directory goes once its products are written

    # rule predict: every set from the saved model
    splits = read_splits(system["splits"])
    tables = {name: predict(system, out / "model.nequip.zip", name) for name in ("test", "inference", "audit")}
    for name, table in tables.items():
        assert list(table.columns) == ["id", "y_pred"] and np.isfinite(table.y_pred).all()
        block = prediction_table(table["id"], table["y_pred"], limit=8, seed=0)
        write_predictions(block, tmp_path / f"predictions_{name}.csv")  # passes the schema and its checks
    assert tables["test"].id.tolist() == split_test_ids(splits) == splits[splits.split == "test"].id.tolist()
    assert tables["inference"].id.tolist() == [a.info["id"] for a in ase.io.read(system["inference"], ":")]
    assert tables["audit"].id.tolist() == [a.info["id"] for a in ase.io.read(system["audit"], ":")]
    # the test predictions are the model's on exactly those frames; their RMSE is the evaluation's
    dataset = {a.info["id"]: a for a in ase.io.read(system["dataset"], ":")}
    direct = Predictor(out / "model.nequip.zip").predict([dataset[i] for i in tables["test"].id])
    np.testing.assert_allclose(tables["test"].y_pred, direct, rtol=0, atol=SAME_SEED_TOLERANCE)
    truth = read_csv(system["targets"], dtype={"id": str}).set_index("id").loc[tables["test"].id, "e_above_hull"]
    rmse = float(np.sqrt(np.mean((tables["test"].y_pred.to_numpy() - truth.to_numpy()) ** 2)))
    assert regression_scores(truth, tables["test"].y_pred)["rmse"] == pytest.approx(rmse) and np.isfinite(rmse)
    # predicting again gives the same predictions
    again = predict(system, out / "model.nequip.zip", "test")
    assert np.max(np.abs(again.y_pred.to_numpy() - tables["test"].y_pred.to_numpy())) <= SAME_SEED_TOLERANCE


@pytest.mark.slow  # trains nequip models
def test_predictions_are_the_target_per_atom(system, scratch_run):
    """Our predictor on the val set reproduces nequip's own per-atom validation RMSE of the kept
    epoch: the model's total_energy / n_atoms is the target in eV/atom."""
    out, metrics = scratch_run
    val = ase.io.read(system["val_8"], ":")
    y = np.array([a.info[TARGET_TOTAL_KEY] / len(a) for a in val])
    pred = Predictor(out / "model.nequip.zip").predict(val)
    assert regression_scores(y, pred)["rmse"] == pytest.approx(metrics["selected_val_rmse"], rel=1e-4)
    # the fixture's val set is smaller than select_min_val: the packaged model is the last epoch's
    assert len(val) < TINY["select_min_val"] and metrics["checkpoint"] == "last"
    assert metrics["selected_epoch"] == metrics["epochs"] - 1
    assert metrics["selected_val_rmse"] == metrics["val_rmse_per_epoch"][-1]


@pytest.mark.slow  # trains nequip models
def test_same_seed_same_predictions(system, scratch_run, tmp_path):
    out, _ = scratch_run
    inputs, outputs = model_io(system, tmp_path / "again")
    run_model(
        settings=TINY,
        model="scratch",
        system="CuPt",
        limit=8,
        target="e_above_hull",
        inputs=inputs,
        outputs=outputs,
        run_dir=tmp_path / "again" / "run",
        threads=1,
    )
    first = predict(system, out / "model.nequip.zip", "inference")
    again = predict(system, outputs["model"], "inference")
    assert again.id.tolist() == first.id.tolist()
    assert np.max(np.abs(first.y_pred - again.y_pred)) <= SAME_SEED_TOLERANCE
    inputs, outputs = model_io(system, tmp_path / "other")
    run_model(
        settings=TINY | {"seed": 1},
        model="scratch",
        system="CuPt",
        limit=8,
        target="e_above_hull",
        inputs=inputs,
        outputs=outputs,
        run_dir=tmp_path / "other" / "run",
        threads=1,
    )
    assert np.max(np.abs(first.y_pred - predict(system, outputs["model"], "inference").y_pred)) > 1e-4


KILLED_RUN = textwrap.dedent(
    """
    import json, sys
    from qcrobust.allegro.training import TrainSpec, train
    spec = TrainSpec(**json.loads(sys.argv[1]))
    train(spec, threads=1)
    """
)


@pytest.mark.slow  # trains nequip models
def test_killed_training_resumes_from_its_last_checkpoint(system, tmp_path):
    spec_args = {
        "run_dir": str(tmp_path / "run"),
        "train_file": str(system["train_8"]),
        "val_file": str(system["val_8"]),
        "type_names": ["Cu", "Pt"],
        "epochs": 12,
        "batch_size": 8,
        "lr": 0.005,
        "seed": 0,
        "model": TINY["model"],
        "lr_schedule": "cosine",
        "lr_min_factor": 0.01,
    }
    epoch_log = tmp_path / "run" / EPOCH_LOG
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, json.dumps(spec_args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if epoch_log.is_file() and len(epoch_log.read_text().splitlines()) >= 3:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "training ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {json.loads(line)["epoch"] for line in epoch_log.read_text().splitlines()}
    assert 3 <= len(done_before) < 12 and (tmp_path / "run" / CHECKPOINTS / "last.ckpt").is_file()

    result = train(TrainSpec(**spec_args), threads=1)
    assert result.resumed
    assert [e["epoch"] for e in result.epochs] == list(range(12))
    # the resumed run continued: it did not redo the epochs finished before the kill
    assert sum(1 for _ in epoch_log.read_text().splitlines()) < 12 + len(done_before)
    assert result.best_checkpoint.is_file()
    # the learning-rate schedule resumed too: every epoch trained at its cosine rate
    lr, lr_min = 0.005, 0.005 * 0.01
    expected = [lr_min + (lr - lr_min) * (1 + math.cos(math.pi * e / 12)) / 2 for e in range(12)]
    assert [e["lr"] for e in result.epochs] == pytest.approx(expected, rel=1e-6)


@pytest.mark.slow  # trains nequip models
def test_changed_spec_does_not_resume(system, tmp_path):
    spec = TrainSpec(
        tmp_path / "run", system["train_8"], system["val_8"], ["Cu", "Pt"], epochs=1, batch_size=8, lr=0.005, seed=0, model=TINY["model"]
    )
    first = train(spec, threads=1)
    assert not first.resumed
    spec.epochs = 2
    second = train(spec, threads=1)
    assert not second.resumed and len(second.epochs) == 2


# --- fine-tuning -------------------------------------------------------------------------


@pytest.mark.slow  # trains nequip models
def test_external_pretraining_then_finetuning(system, tmp_path):
    """A user corpus (here: the synthetic dataset's own frames with their e_form) is pretrained
    once; fine-tuning keeps the package's type names and records the pretraining."""
    settings = TINY | {"pretrain": {"target": "e_form", "val_fraction": 0.2, "seed": 0, "epochs": 2}}
    pre = tmp_path / "pretrain"
    outputs = {"train": pre / "train.extxyz", "val": pre / "val.extxyz", "model": pre / "model.nequip.zip", "metrics": pre / "metrics.json"}
    facts = pretrain_external(settings=settings, corpus=system["dataset"], outputs=outputs, run_dir=pre / "run", threads=1)
    assert facts["type_names"] == ["Cu", "Pt"] and facts["n_val"] == round(0.2 * (facts["n_train"] + facts["n_val"]))

    inputs, outs = model_io(system, tmp_path / "external")
    inputs |= {"init_model": outputs["model"], "init_metrics": outputs["metrics"]}
    metrics = run_model(
        settings=settings,
        model="external",
        system="CuPt",
        limit=8,
        target="e_above_hull",
        inputs=inputs,
        outputs=outs,
        run_dir=tmp_path / "external" / "run",
        threads=1,
    )
    assert metrics["pretrain"]["stage"] == "pretrain" and metrics["type_names"] == ["Cu", "Pt"]
    test = predict(system, outs["model"], "test")
    assert len(test) == 6 and np.isfinite(test.y_pred).all()

    # a system with a species the corpus lacks cannot be fine-tuned from it
    corpus = tmp_path / "cu_only.extxyz"
    ase.io.write(corpus, [a for a in ase.io.read(system["dataset"], ":") if set(a.get_chemical_symbols()) == {"Cu"}])
    only_cu = {k: tmp_path / "cu" / v.name for k, v in outputs.items()}
    pretrain_external(settings=settings, corpus=corpus, outputs=only_cu, run_dir=tmp_path / "cu" / "run", threads=1)
    inputs["init_model"] = only_cu["model"]
    with pytest.raises(InputError, match=r"species \['Pt'\] are not in the pretrained model"):
        run_model(
            settings=settings,
            model="external",
            system="CuPt",
            limit=8,
            target="e_above_hull",
            inputs=inputs,
            outputs=outs,
            run_dir=tmp_path / "external" / "run2",
            threads=1,
        )


@pytest.mark.slow  # trains nequip models
def test_self_pretraining_then_limit0_finetuning_and_limit0_reuse(system, scratch_run, tmp_path):
    pre = tmp_path / "self_pretrain"
    facts = pretrain_self(
        settings=TINY,
        inputs={"train": system["pretrain_train_8"], "val": system["pretrain_val_8"], "species": system["species"]},
        outputs={"model": pre / "model.nequip.zip", "metrics": pre / "metrics.json"},
        run_dir=pre / "run",
        threads=1,
    )
    assert facts["n_train"] == len(ase.io.read(system["pretrain_train_8"], ":"))
    inputs, outputs = model_io(system, tmp_path / "self", limit=0)
    inputs |= {"init_model": pre / "model.nequip.zip", "init_metrics": pre / "metrics.json"}
    metrics = run_model(
        settings=TINY,
        model="self",
        system="CuPt",
        limit=8,
        target="e_above_hull",
        inputs=inputs,
        outputs=outputs,
        run_dir=tmp_path / "self" / "run",
        threads=1,
    )
    assert metrics["n_train"] == len(ase.io.read(system["train_0"], ":"))  # fine-tuned on limit 0
    assert metrics["pretrain"]["n_train"] == facts["n_train"]

    # limit 0: the self model is the scratch model, copied (rule predict then predicts with it)
    scratch, _ = scratch_run
    files = layout.trained_files(str(scratch))
    reused_files = {name: Path(path) for name, path in layout.trained_files(str(tmp_path / "self0")).items()}
    reused = reuse_model(inputs={f"reuse_{k}": path for k, path in files.items()}, outputs=reused_files, model="self", limit=0)
    assert reused["reused_from"] == "scratch" and reused["model"] == "self" and reused["limit"] == 0
    assert reused["fit_seconds"] == 0.0 and "predict_seconds" not in reused
    assert json.loads(reused_files["metrics"].read_text()) == json.loads(json.dumps(reused))
    assert sorted(p.name for p in (tmp_path / "self0").iterdir()) == ["metrics.json", "model.nequip.zip"]
    assert reused_files["model"].read_bytes() == (scratch / "model.nequip.zip").read_bytes()
