"""Neighbour lists computed once (qcrobust.allegro.graphs) give the same graphs, the same
trained models and the same predictions, bit for bit, as computing them on every read."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from ase import Atoms

from qcrobust.allegro.data import TARGET_TOTAL_KEY, model_frame
from qcrobust.allegro.graphs import UNCACHED_OVERRIDES
from qcrobust.io import write_frames

R_MAX = 4.0
TINY_MODEL = {"cutoff_radius": R_MAX, "num_scalar_features": 8, "num_tensor_features": 2, "mlp_width": 8}


def random_frames(n: int, seed: int, species=("Cu", "Pt"), start: int = 0) -> list[Atoms]:
    """Small periodic cells (14-22 atoms, 7-8 A) with a synthetic per-atom label and an id."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        n_atoms = int(rng.integers(14, 23))
        length = float(rng.uniform(7.0, 8.0))
        grid = (np.arange(3) + 0.5) * length / 3
        sites = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)
        positions = sites[rng.choice(27, n_atoms, replace=False)] + rng.normal(0, 0.2, (n_atoms, 3))
        symbols = [species[int(k)] for k in rng.integers(0, len(species), n_atoms)]
        atoms = Atoms(symbols=symbols, positions=positions, cell=[length] * 3, pbc=True)
        atoms.info["id"] = f"f{start + i:04d}"
        atoms.info[TARGET_TOTAL_KEY] = float(rng.normal(0.1, 0.02)) * n_atoms
        frames.append(atoms)
    return frames


def assert_same_graph(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].shape == b[key].shape, key
        assert torch.equal(a[key], b[key]), key


def transforms(type_names=("Cu", "Pt")):
    from nequip.data.transforms import ChemicalSpeciesToAtomTypeMapper, NeighborListTransform

    names = list(type_names)
    return [
        ChemicalSpeciesToAtomTypeMapper(model_type_names=names, chemical_species_to_atom_type_map={t: t for t in names}),
        NeighborListTransform(r_max=R_MAX),
    ]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("graphs")
    paths = {"train": root / "train.extxyz", "val": root / "val.extxyz", "inference": root / "inference.extxyz"}
    write_frames(random_frames(33, seed=0), paths["train"])  # 33 = 4 batches of 8 + a batch of one
    write_frames(random_frames(9, seed=1, start=100), paths["val"])
    inference = random_frames(21, seed=2, start=200)
    for atoms in inference:
        del atoms.info[TARGET_TOTAL_KEY]
    write_frames(inference, paths["inference"])
    return paths


# --- the in-memory cache of a training process --------------------------------------------


def test_cached_dataset_returns_the_uncached_graphs(files):
    from nequip.data.dataset import ASEDataset

    from qcrobust.allegro.graphs import CachedASEDataset

    args = dict(file_path=str(files["train"]), ase_args={"format": "extxyz"}, key_mapping={TARGET_TOTAL_KEY: "total_energy"})
    plain = ASEDataset(transforms=transforms(), **args)
    cached = CachedASEDataset(transforms=transforms(), **args)
    assert len(cached) == len(plain) == 33
    order = [5, 0, 32, 5, 17]  # repeated and out of order, as a shuffled loader reads
    for first, again in zip(plain.__getitems__(order), cached.__getitems__(order)):
        assert_same_graph(first, again)
        assert "edge_index" in again and "atom_types" in again
    # every later read (the next epochs) gives the same graphs again, from the cache
    calls = []
    cached.transforms = [lambda x: calls.append(1) or x] + cached.transforms
    for index in range(len(cached)):
        assert_same_graph(plain[index], cached[index])
    assert len(calls) == len(cached) - len(set(order))  # only the frames never read before were transformed
    # items are copies: a consumer adding or replacing keys leaves the cache alone
    item = cached[3]
    item["extra"] = torch.zeros(1)
    item["pos"] = item["pos"] + 1.0
    assert "extra" not in cached[3] and torch.equal(cached[3]["pos"], plain[3]["pos"])
    assert cached.num_atoms([0, 1]) == plain.num_atoms([0, 1])
    assert [int(d["pos"].shape[0]) for d in cached[2:4]] == [int(d["pos"].shape[0]) for d in plain[2:4]]


# --- the graph file of a system's inference frames ----------------------------------------


def test_graph_file_frames_equal_freshly_computed_graphs(files, tmp_path):
    from nequip.data import from_ase
    from nequip.data.transforms import NeighborListTransform

    from qcrobust.allegro.graphs import GraphFile, write_graphs
    from qcrobust.io import read_frames

    output = tmp_path / "inference.graphs.npz"
    info = write_graphs(files["inference"], output, r_max=R_MAX)
    frames = read_frames(files["inference"])
    assert info.ids == [a.info["id"] for a in frames] and info.species == ["Cu", "Pt"] and info.r_max == R_MAX
    graphs = GraphFile(output)
    assert len(graphs) == len(frames) and graphs.info == info
    assert graphs.n_atoms.tolist() == [len(a) for a in frames]
    nl = NeighborListTransform(r_max=R_MAX)
    for index, atoms in enumerate(frames):
        assert_same_graph(graphs.frame(index), nl(from_ase(model_frame(atoms))))
    # frames are copies: changing one in place leaves the file's arrays alone
    item = graphs.frame(0)
    item["pos"].add_(1.0)
    item["edge_index"].add_(1)
    assert_same_graph(graphs.frame(0), nl(from_ase(model_frame(frames[0]))))
    # the narrow storage is exact and small: int8 shifts, atomic numbers and (<= 22 atoms) edge indices
    with np.load(output) as npz:
        assert npz["field/edge_cell_shift"].dtype == np.int8 and npz["field/edge_index"].dtype == np.int8
        assert npz["field/atomic_numbers"].dtype == np.int8
    tail = list(graphs.frames(transforms()[:1], start=19, stop=99))
    assert len(tail) == 2 and all("atom_types" in item for item in tail)
    assert_same_graph({k: v for k, v in tail[1].items() if k != "atom_types"}, graphs.frame(20))
    # leftovers of the atomic write: none
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inference.graphs.npz"]


def test_graph_file_refuses_another_cutoff_or_unknown_species(files, tmp_path):
    from qcrobust.allegro.graphs import GraphFile, write_graphs

    write_graphs(files["inference"], tmp_path / "g.npz", r_max=R_MAX)
    graphs = GraphFile(tmp_path / "g.npz")
    graphs.check(R_MAX, "matscipy", ["Cu", "Pt", "Au"])
    with pytest.raises(ValueError, match="neighbour lists within 4.0 A"):
        graphs.check(5.0, "matscipy", ["Cu", "Pt"])
    with pytest.raises(ValueError, match="matscipy"):
        graphs.check(R_MAX, "ase", ["Cu", "Pt"])
    with pytest.raises(ValueError, match=r"species \['Pt'\] unknown"):
        graphs.check(R_MAX, "matscipy", ["Cu"])
    # positions are read in nequip's default dtype (float64 once its global state is set)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32 if default == torch.float64 else torch.float64)
    try:
        with pytest.raises(ValueError, match="positions in"):
            graphs.check(R_MAX, "matscipy", ["Cu", "Pt"])
    finally:
        torch.set_default_dtype(default)
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a qcrobust graph file"):
        GraphFile(tmp_path / "other.npz")


def test_the_rule_function_writes_graphs_at_the_configured_cutoff(files, tmp_path):
    from qcrobust.allegro.graphs import GraphFile
    from qcrobust.allegro.pipeline import write_inference_graphs

    facts = write_inference_graphs(r_max=R_MAX, frames=files["inference"], output=tmp_path / "sys" / "inference.graphs.npz")
    assert facts["frames"] == 21 and facts["r_max"] == R_MAX and facts["backend"] == "matscipy"
    assert GraphFile(tmp_path / "sys" / "inference.graphs.npz").info.r_max == R_MAX


def test_narrowing_keeps_values_that_do_not_fit():
    from qcrobust.allegro.graphs import _narrow

    assert _narrow("edge_cell_shift", np.array([[0.0, -1.0, 2.0]], dtype=np.float32)).dtype == np.int8
    assert _narrow("edge_cell_shift", np.array([[0.5]], dtype=np.float32)).dtype == np.float32
    assert _narrow("edge_index", np.array([[0, 40000]])).dtype == np.int32
    assert _narrow("edge_index", np.array([[0, 300]])).dtype == np.int16
    assert _narrow("pos", np.array([[1.0]], dtype=np.float32)).dtype == np.float32


# --- training and predictions ----------------------------------------------------------


def train_tiny(files, run_dir, extra_overrides=()):
    from qcrobust.allegro.training import CHECKPOINTS, TrainSpec, command, run_nequip_train

    spec = TrainSpec(
        run_dir=run_dir,
        train_file=files["train"],
        val_file=files["val"],
        type_names=["Cu", "Pt"],
        epochs=3,
        batch_size=8,
        lr=0.01,
        seed=0,
        lr_schedule="cosine",
        model=TINY_MODEL,
    )
    torch.set_num_threads(1)
    run_nequip_train(command(spec)[1:] + list(extra_overrides))
    return spec, spec.run_dir / CHECKPOINTS / "last.ckpt"


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory):
    from qcrobust.allegro.training import package

    root = tmp_path_factory.mktemp("trained")
    _, cached = train_tiny(files, root / "cached")
    _, uncached = train_tiny(files, root / "uncached", list(UNCACHED_OVERRIDES))
    model = package(cached, root / "model.nequip.zip")
    return {"cached": cached, "uncached": uncached, "model": model}


@pytest.mark.slow  # trains two tiny nequip models
def test_training_on_cached_graphs_is_bit_identical(trained):
    cached = torch.load(trained["cached"], map_location="cpu", weights_only=False)
    uncached = torch.load(trained["uncached"], map_location="cpu", weights_only=False)
    assert cached["epoch"] == uncached["epoch"] == 2
    assert cached["hyper_parameters"]["info_dict"]["data"]["train_dataset"]["_target_"].endswith("CachedASEDataset")
    assert uncached["hyper_parameters"]["info_dict"]["data"]["_target_"] == "nequip.data.datamodule.ASEDataModule"
    for part in ("state_dict", "optimizer_states"):
        first, second = tensors(cached[part]), tensors(uncached[part])
        assert list(first) == list(second) and len(first) > 10
        for key, value in first.items():
            assert torch.equal(value, second[key]), key


def tensors(tree, prefix="") -> dict:
    """The tensors of a nested checkpoint entry, by path."""
    out = {}
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, (list, tuple)) else ()
    for key, value in items:
        if torch.is_tensor(value):
            out[f"{prefix}{key}"] = value
        else:
            out |= tensors(value, f"{prefix}{key}.")
    return out


@pytest.mark.slow  # trains two tiny nequip models
@pytest.mark.parametrize("batch_size", [16, 4])  # 21 frames: a last batch of 5 / of 1
def test_predictions_from_the_graph_file_are_bit_identical(files, trained, tmp_path, batch_size):
    from qcrobust.allegro.graphs import write_graphs
    from qcrobust.allegro.predict import Predictor
    from qcrobust.io import read_frames

    # the rule writes the file in a fresh process, before any model is loaded
    graphs = tmp_path / "inference.graphs.npz"
    script = (
        "import sys; from qcrobust.allegro.graphs import write_graphs; write_graphs(sys.argv[1], sys.argv[2], r_max=float(sys.argv[3]))"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(files["inference"]), str(graphs), str(R_MAX)],
        check=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    predictor = Predictor(trained["model"])
    frames = [model_frame(a) for a in read_frames(files["inference"])]
    expected = predictor.predict(frames, batch_size=batch_size)
    got = predictor.predict_graphs(graphs, batch_size=batch_size)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    write_graphs(files["inference"], tmp_path / "wide.npz", r_max=predictor.r_max + 1.0)
    with pytest.raises(ValueError, match="neighbour lists within"):
        predictor.predict_graphs(tmp_path / "wide.npz")


@pytest.mark.slow  # trains two tiny nequip models
def test_a_graph_file_gives_the_prediction_steps_csv_byte_for_byte(files, trained, tmp_path):
    """What rule ``predict`` writes for the inference set from the graph file of rule
    ``allegro_graphs`` (qcrobust.predict.predict_set with ``graphs``) equals, byte for byte,
    the table predicted from the extxyz (ids and predictions)."""
    from qcrobust.allegro.pipeline import write_inference_graphs
    from qcrobust.io import write_csv
    from qcrobust.predict import predict_set

    write_inference_graphs(r_max=R_MAX, frames=files["inference"], output=tmp_path / "inference.graphs.npz")
    plain = predict_set("allegro", "inference", {"model": str(trained["model"]), "structures": str(files["inference"])})
    from_graphs = predict_set("allegro", "inference", {"model": str(trained["model"]), "graphs": str(tmp_path / "inference.graphs.npz")})
    write_csv(plain, tmp_path / "plain.csv")
    write_csv(from_graphs, tmp_path / "graphs.csv")
    assert (tmp_path / "graphs.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert from_graphs.id.tolist() == [f"f{i:04d}" for i in range(200, 221)]


@pytest.mark.slow  # trains two tiny nequip models
def test_one_job_predicts_every_model_and_set_as_one_job_each_would(files, trained, tmp_path):
    """Rule ``predict``'s step (qcrobust.predict.predict_models: each set read once -- one from the
    graph file, one from its structures -- each model loaded once) gives every block the table
    predict_set gives that model and set alone."""
    from qcrobust.allegro.pipeline import write_inference_graphs
    from qcrobust.predict import predict_models, predict_set

    write_inference_graphs(r_max=R_MAX, frames=files["inference"], output=tmp_path / "inference.graphs.npz")
    model = str(trained["model"])
    sets = {"inference": {"graphs": str(tmp_path / "inference.graphs.npz")}, "audit": {"structures": str(files["val"])}}
    tables = predict_models("allegro", {(8, 1): model, (0, 0): model}, sets)
    assert list(tables) == ["inference", "audit"]
    for name, table in tables.items():
        alone = predict_set("allegro", name, sets[name] | {"model": model})
        for key in [(0, 0), (8, 1)]:
            block = table[(table["limit"] == key[0]) & (table["seed"] == key[1])]
            assert block["id"].tolist() == alone["id"].tolist()
            assert block["y_pred"].to_numpy().tobytes() == alone["y_pred"].to_numpy().tobytes(), name
