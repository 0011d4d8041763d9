"""The external regime from each of its sources, through the workflow's rules on the synthetic
fixture study: a corpus fetched from AFLOW's AFLUX API (replayed from tests/data/sources/ by a
server on 127.0.0.1, no network) and a published nequip package (built here: a tiny model
trained for one epoch, then `nequip-package build`). Dry runs check the DAG of each source."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from conftest import make_self_contained_study, run_workflow
from replay_server import ReplayServer

from qcrobust import layout
from qcrobust.allegro.data import model_frame, species, target_of
from qcrobust.allegro.training import CHECKPOINTS, TrainSpec, train
from qcrobust.synthetic import make_system

pytestmark = pytest.mark.workflow

NEQUIP_PACKAGE = str(Path(sys.executable).with_name("nequip-package"))
#: the study: the Allegro external regime alone at the largest limit, a tiny model, no classical family
ALLEGRO = {
    "models": ["external"],
    "limits": [8],
    "epochs": 2,
    "min_steps": 0,
    "model": {"cutoff_radius": 4.0, "num_scalar_features": 8, "num_tensor_features": 2, "mlp_width": 8},
}
STUDY = {"limits": [0, 4, 8], "classical": {"models": []}}
PACKAGE_CUTOFF = 3.5  # not the study's 4.0: the fine-tuning must take the package's


def study(folder: Path, **pretrain) -> Path:
    return make_self_contained_study(folder, **STUDY, allegro=ALLEGRO | {"pretrain": {"epochs": 2} | pretrain})


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory) -> Path:
    """A nequip package of a tiny Allegro trained one epoch on Cu-Pd, Cu-Pt and Cu-Au cells
    (type names Cu, Pd, Pt, Au: more than the study's), at a cutoff of 3.5 A."""
    root = tmp_path_factory.mktemp("package")
    frames = []
    for seed, dopant in enumerate(("Pd", "Pt", "Au")):
        spec = make_system(f"Cu{dopant}", dopant, root / "data", seed=seed)
        for atoms in ase.io.read(spec["dataset"], ":12"):
            energy = atoms.info.get("energy", atoms.calc.results["energy"] if atoms.calc else None)
            frames.append(model_frame(atoms, energy))
    ase.io.write(root / "train.extxyz", frames[:30])
    ase.io.write(root / "val.extxyz", frames[30:])
    run = TrainSpec(
        root / "run",
        root / "train.extxyz",
        root / "val.extxyz",
        species(frames),
        epochs=1,
        batch_size=8,
        lr=0.005,
        seed=0,
        model={"cutoff_radius": PACKAGE_CUTOFF, "num_scalar_features": 8, "num_tensor_features": 2, "mlp_width": 8},
    )
    train(run, threads=1)
    package = root / "tiny.nequip.zip"
    subprocess.run(
        [NEQUIP_PACKAGE, "build", str(root / "run" / CHECKPOINTS / "last.ckpt"), str(package)], check=True, capture_output=True, text=True
    )
    return package


# --- the DAG of each source (dry runs: seconds) ---


def test_each_source_schedules_its_own_jobs(tmp_path):
    fetched = run_workflow(study(tmp_path / "fetched", source={"api": "aflux"}), tmp_path / "fetched", "--dry-run")
    counts = job_counts(fetched.stdout)
    assert counts["allegro_fetch"] == counts["allegro_fetched_corpus"] == counts["allegro_pretrain"] == 1
    assert "allegro_corpus" not in counts  # the built-in corpus is not built
    assert f"input: {layout.PRETRAIN_FETCHED_CORPUS}" in fetched.stdout  # rule allegro_pretrain reads the fetched corpus

    package = tmp_path / "m.nequip.zip"
    package.write_bytes(b"")  # the dry run reads nothing of it
    packaged = run_workflow(study(tmp_path / "package", package=str(package)), tmp_path / "package", "--dry-run")
    counts = job_counts(packaged.stdout)
    assert not {"allegro_fetch", "allegro_corpus", "allegro_pretrain"} & set(counts)  # no pretraining here
    assert counts["allegro_train"] == 2
    # its inference predictions read the structures (the graph file has the study's cutoff, not the package's)
    inference = [b for b in packaged.stdout.split("\n\n") if "predictions_inference.csv" in b and "rule predict:" in b]
    assert inference and all("inference.extxyz" in b and "graphs.npz" not in b for b in inference)


# --- end to end (trains tiny models) ---


@pytest.mark.slow
def test_external_regime_trains_from_a_fetched_aflow_corpus(tmp_path):
    folder = tmp_path / "work"
    with ReplayServer() as server:
        source = {"api": "aflux", "url": f"{server.base}/API/aflux/", "page_size": 2, "retries": 1, "backoff": 0.01, "timeout": 20}
        config = study(folder, source=source)
        run_workflow(config, folder)
        queried = len(server.requests)
        # a rerun queries nothing: the responses are the fetch rule's output
        again = run_workflow(config, folder)
        assert len(server.requests) == queried == 7
    assert "Nothing to be done" in again.stdout + again.stderr

    frames = ase.io.read(folder / layout.PRETRAIN_FETCHED_CORPUS, ":")
    provenance = json.loads((folder / layout.PRETRAIN_PROVENANCE).read_text())
    assert [a.info["formula"] for a in frames] == ["Cu3Pt", "CuPt", "CuPt3", "CuPd", "Cu", "Pt"]
    assert provenance["elements"] == ["Cu", "Pd", "Pt"] and provenance["n_skipped"] == 1
    assert (provenance["label_min"], provenance["label_max"]) == pytest.approx((-0.1261, 0.0))
    responses = json.loads((folder / layout.PRETRAIN_RESPONSES).read_text())
    assert responses["pairs"] == [["Cu", "Pt"], ["Cu", "Pd"]] and len(responses["queries"]) == 5

    pretrain = json.loads((folder / layout.PRETRAIN_DIR / layout.METRICS_FILE).read_text())
    assert (pretrain["n_train"], pretrain["n_val"]) == (5, 1) and pretrain["type_names"] == ["Cu", "Pd", "Pt"]
    print("pretraining on the fetched corpus:", pretrain["steps"], "steps, val RMSE", pretrain["selected_val_rmse"])
    for system in ("CuPt", "CuPd"):
        key = {"system": system, "family": "allegro", "model": "external", "limit": 8, "seed": 0}
        metrics = json.loads((folder / layout.path(layout.METRICS, **key)).read_text())
        assert metrics["pretrain"]["stage"] == "pretrain" and metrics["pretrain"]["n_train"] == 5
        assert metrics["type_names"] == ["Cu", "Pd", "Pt"] and np.isfinite(metrics["selected_val_rmse"])
        predictions = (folder / layout.path(layout.PREDICTIONS, **key, set="inference")).read_text().splitlines()  # limit 8, seed 0
        assert len(predictions) > 1
        print(system, "external from AFLOW:", metrics["steps"], "steps, val RMSE", metrics["selected_val_rmse"])
    findings = (folder / layout.FINDINGS).read_text()
    assert "pretrained on a corpus fetched from aflow (AFLUX" in findings and "provenance.json" in findings


@pytest.mark.slow
def test_external_regime_fine_tunes_a_published_package(tmp_path, tiny_package):
    folder = tmp_path / "work"
    run_workflow(study(folder, package=str(tiny_package)), folder)
    assert not (folder / layout.PRETRAIN_DIR).exists()  # no corpus, no pretraining run
    for system in ("CuPt", "CuPd"):
        key = {"system": system, "family": "allegro", "model": "external", "limit": 8, "seed": 0}
        metrics = json.loads((folder / layout.path(layout.METRICS, **key)).read_text())
        # type names and cutoff are the package's
        assert metrics["type_names"] == ["Cu", "Pd", "Pt", "Au"] and metrics["cutoff_radius"] == PACKAGE_CUTOFF
        assert metrics["pretrain"] == {
            "stage": "package",
            "package": str(tiny_package),
            "type_names": ["Cu", "Pd", "Pt", "Au"],
            "r_max": PACKAGE_CUTOFF,
        }
        model = folder / layout.model_file("allegro", **{k: v for k, v in key.items() if k != "family"})
        scales, shifts = scale_shift(model)
        # per-type scales reset to the training data's per-atom target spread (fixed), shifts to its mean (trained)
        train = ase.io.read(folder / layout.path(layout.ALLEGRO_PART, system=system, limit=8, part="train"), ":")
        target = target_of(train)
        assert np.allclose(scales, scales[0]) and scales[0] == pytest.approx(target.std(), rel=0.05)
        assert abs(np.mean(shifts) - target.mean()) < 0.5 * target.std() + 0.05
        inference = ase.io.read(folder / layout.path(layout.STRUCTURES, system=system, set="inference"), ":")
        rows = (folder / layout.path(layout.PREDICTIONS, **key, set="inference")).read_text().splitlines()
        assert len(rows) == 1 + len(inference)
        print(system, "external from the package:", metrics["steps"], "steps, val RMSE", metrics["selected_val_rmse"])
    assert "fine-tuned from the published package" in (folder / layout.FINDINGS).read_text()


def scale_shift(model_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-type energy scales and shifts of a packaged model."""
    from nequip.model.saved_models.load_utils import load_saved_model

    model = load_saved_model(str(model_path))
    (module,) = [m for m in model.modules() if type(m).__name__ == "PerTypeScaleShift"]
    return module.scales.detach().double().reshape(-1).numpy(), module.shifts.detach().double().reshape(-1).numpy()


@pytest.mark.slow
def test_a_package_without_the_studys_species_is_refused_before_training(tmp_path, tiny_package):
    from qcrobust.allegro.pipeline import run_model
    from qcrobust.errors import InputError

    species_file = tmp_path / "species.json"
    species_file.write_text(json.dumps({"species": ["Ag", "Cu"], "host": "Cu"}))
    inputs = {"train": tmp_path / "t.extxyz", "val": tmp_path / "v.extxyz", "species": species_file, "init_package": tiny_package}
    with pytest.raises(InputError) as err:
        run_model(
            settings={"model": {}},
            model="external",
            system="CuAg",
            limit=8,
            target="e_above_hull",
            inputs=inputs,
            outputs={},
            run_dir=tmp_path / "run",
        )
    assert str(err.value) == (
        f"{tiny_package}: key 'allegro.pretrain.package': the package knows ['Cu', 'Pd', 'Pt', 'Au'], "
        f"not the species ['Ag'] of system CuAg ({species_file})"
    )
    assert not (tmp_path / "run").exists()
