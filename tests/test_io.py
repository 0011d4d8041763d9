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
