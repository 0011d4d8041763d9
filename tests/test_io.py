"""Atomic writes: nothing half-written under the final name, and no litter after a killed writer."""

from __future__ import annotations

import pandas as pd
import pytest

from qcrobust.io import atomic_path, write_csv


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    target = tmp_path / "table.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_temporaries_of_a_killed_writer_are_removed_on_rewrite(tmp_path):
    target = tmp_path / "pred_inference.csv"
    stale = tmp_path / ".pred_inference.tmp16369.csv"  # what SIGKILL leaves behind
    stale.write_text("id,y_pred\n")
    other = tmp_path / ".pred_inference_audit.tmp16369.csv"  # another output's: kept
    other.write_text("x\n")
    unrelated = tmp_path / ".pred_inference.tmpfoo.csv"  # not one of our names: kept
    unrelated.write_text("x\n")
    write_csv(pd.DataFrame({"id": ["a"], "y_pred": [0.5]}), target)
    assert target.read_text() == "id,y_pred\na,0.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, other.name, unrelated.name])


def test_frame_count_matches_ase_on_written_frames(tmp_path):
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    from qcrobust.io import count_frames, read_frames, write_frames

    frames = []
    for n in (1, 3, 2):
        atoms = Atoms("H" * n, positions=[[0, 0, i] for i in range(n)], cell=[5, 5, 5], pbc=True)
        atoms.info["id"] = f"s-{n}"
        atoms.calc = SinglePointCalculator(atoms, energy=-1.0 * n)
        frames.append(atoms)
    path = tmp_path / "frames.extxyz"
    write_frames(frames, path)
    assert count_frames(path) == len(read_frames(path)) == 3
