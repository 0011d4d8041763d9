"""The answer does not depend on the order of rows in an input file, nor on a structure being given
twice: the fixture study run again on the same data with every input file's frames shuffled
(and each frame's atoms too), and every inference structure given a second time under another id
with its atoms in another order, writes the same tables as sets of rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ase.io
import numpy as np
import pandas as pd
import pytest
from conftest import copy_study, run_workflow

pytestmark = pytest.mark.workflow

SHUFFLED = ("dataset", "inference", "audit", "competing_phases")
TIMING = re.compile(r"seconds|_s$")
# what may differ once the inference files hold twins: where the twins are named, and nothing else
TWIN_COLUMNS = {"candidates.csv": {"equivalent_ids"}, "datasets.csv": {"n_inference_duplicates", "n_inference_labeled"}}


def _permuted(atoms, order):
    """The frame with its atoms in ``order`` (ASE leaves the energy it read behind: carry it)."""
    out = atoms[order]
    if atoms.calc is not None:
        out.info["energy"] = atoms.get_potential_energy()
    return out


def _shuffle_inputs(folder: Path, seed: int = 11) -> int:
    """Rewrite the study's data files with frames (and atoms within frames) in a seeded random
    order; the inference files get a twin of every structure. Returns the number of twins."""
    rng = np.random.default_rng(seed)
    twins = 0
    for path in sorted((folder / "study" / "data").glob("*.extxyz")):
        kind = next((k for k in SHUFFLED if path.stem.endswith(k)), None)
        if kind is None:  # the parent: its site order defines the canonical atom order
            continue
        frames = ase.io.read(path, ":")
        if kind == "inference":
            copies = []
            for atoms in frames:
                twin = _permuted(atoms, rng.permutation(len(atoms)))
                twin.info["id"] = f"{atoms.info['id']}-twin"
                copies.append(twin)
            twins += len(copies)
            frames += copies
        frames = [_permuted(atoms, rng.permutation(len(atoms))) for atoms in frames] if kind != "competing_phases" else frames
        frames = [frames[k] for k in rng.permutation(len(frames))]
        names = [(a.info.get("id") or a.info.get("name")) for a in frames]
        assert names != [(a.info.get("id") or a.info.get("name")) for a in ase.io.read(path, ":")], path
        ase.io.write(path, frames, format="extxyz")
    return twins


def _frames(path: Path) -> list[str]:
    """An extxyz file's frames as text blocks, sorted."""
    lines = path.read_text().splitlines()
    blocks, k = [], 0
    while k < len(lines):
        n = int(lines[k])
        blocks.append("\n".join(lines[k : k + n + 2]))
        k += n + 2
    return sorted(blocks)


def _rows(path: Path, drop: set[str] = frozenset()) -> list[tuple]:
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
        return sorted(map(tuple, table.astype(str).to_numpy()))
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "id" in table and drop:  # a twin of a labeled structure is listed too, as labeled
        table = table[~table["id"].str.endswith("-twin")]
    table = table[[c for c in table.columns if not TIMING.search(c) and c not in drop]]
    return sorted(map(tuple, table.to_numpy()))


def _json(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if not TIMING.search(k)}


def test_shuffled_inputs_with_twins_give_the_same_tables(small_study_run, tmp_path):
    folder = copy_study(small_study_run, tmp_path / "work", outputs=False).parent
    twins = _shuffle_inputs(folder)
    run_workflow(folder / "config.yaml", folder)
    results = small_study_run / "results"
    compared = 0
    for before in sorted(results.rglob("*")):
        relative = before.relative_to(results)
        after = folder / "results" / relative
        if before.suffix not in (".csv", ".parquet", ".extxyz", ".json") or relative.parts[0] == "default_data":
            continue
        assert after.is_file(), f"{relative} was not written by the shuffled run"
        if before.name == "inference_equivalents.csv":
            table = pd.read_csv(after, dtype=str, keep_default_na=False)
            twin = table["id"].str.endswith("-twin")
            assert sorted(map(tuple, table[~twin].to_numpy())) == _rows(before), relative
            original = table[~twin].set_index("id")
            for row in table[twin].itertuples():
                base = original.loc[row.id.removesuffix("-twin")]
                expected = "labeled" if base["relation"] == "labeled" else "duplicate"
                assert (row.relation, row.equivalent_id) == (expected, base["equivalent_id"]), row
        elif before.suffix == ".extxyz":
            assert _frames(before) == _frames(after), relative
        elif before.suffix == ".json":
            assert _json(before) == _json(after), relative
        else:
            drop = TWIN_COLUMNS.get(before.name, set())
            assert _rows(before, drop) == _rows(after, drop), relative
        compared += 1
    assert compared > 50 and twins > 0
    # the twins are named where they went: merged into the structure they repeat
    candidates = pd.read_csv(folder / "results" / "CuPt" / "candidates.csv", dtype=str, keep_default_na=False)
    screened = candidates[candidates["status"] == "screened"]
    assert all(f"{i}-twin" in ids.split(";") for i, ids in zip(screened["id"], screened["equivalent_ids"]))
