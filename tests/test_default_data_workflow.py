"""The default-data rules on a miniature shipped dataset: a shipped shard is used as is, a
missing one is labeled by the rule, and assembly publishes the dataset contract files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, run_workflow

from qcrobust.default_data.decorations import assign_shards
from qcrobust.io import frame_value, read_frames

SHIPPED = REPO / "data" / "default" / "ScPt"


def make_mini_shipped(root: Path) -> None:
    """data/default/ with ScPt only: 4 pool structures + 3 inference (1 audit), shards of 2."""
    target = root / "data" / "default" / "ScPt"
    target.mkdir(parents=True)
    (root / "data" / "default" / "protocol.json").write_text(
        json.dumps({"audit_size": 1, "fmax": 0.05, "optimizer": "LBFGS", "seed": 2024, "shard_size": 2, "step_cap": 1})
    )
    for name in ("parent.extxyz", "competing_phases.extxyz"):
        shutil.copy(SHIPPED / name, target / name)
    table = pd.read_csv(SHIPPED / "decorations.csv", dtype={"id": str})
    pool = table[table["kind"] != "inference"].head(4)
    inference = table[table["kind"] == "inference"].head(3).assign(audit=[1, 0, 0])
    mini = pd.concat([pool, inference])
    mini["shard"] = assign_shards(mini, shard_size=2)
    mini.to_csv(target / "decorations.csv", index=False)
    shard0 = mini[mini["shard"] == 0]
    (target / "labels").mkdir()
    pd.DataFrame({"id": shard0["id"], "energy": [-900.5, -901.25], "n_steps": 1, "converged": 0, "fmax": 0.5}).to_csv(
        target / "labels" / "shard_000.csv", index=False
    )


@pytest.mark.workflow
def test_default_data_rules_on_a_miniature_dataset(tmp_path):
    make_mini_shipped(tmp_path)
    published = "results/default_data/ScPt"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "default_data": {"shipped": "data/default"},
                "systems": {
                    "ScPt": {
                        "dataset": f"{published}/dataset.extxyz",
                        "inference": f"{published}/inference.extxyz",
                        "audit": f"{published}/audit.extxyz",
                        "competing_phases": f"{published}/competing_phases.extxyz",
                    }
                },
            }
        )
    )
    targets = [f"{published}/dataset.extxyz", f"{published}/audit.extxyz"]
    run_workflow(config, tmp_path, *targets)

    computed = tmp_path / published / "computed" / "labels"
    assert sorted(p.name for p in computed.glob("*.csv")) == ["shard_001.csv", "shard_002.csv"]
    dataset = read_frames(tmp_path / published / "dataset.extxyz")
    assert len(dataset) == 4
    energies = {a.info["id"]: frame_value(a, "energy") for a in dataset}
    shipped = pd.read_csv(tmp_path / "data/default/ScPt/labels/shard_000.csv", dtype={"id": str})
    assert all(energies[i] == e for i, e in zip(shipped["id"], shipped["energy"]))  # used as shipped
    labeled_by_rule = set(energies) - set(shipped["id"])
    assert len(labeled_by_rule) == 2 and all(energies[i] < -900 for i in labeled_by_rule)
    assert len(read_frames(tmp_path / published / "inference.extxyz")) == 3
    assert len(read_frames(tmp_path / published / "audit.extxyz")) == 1

    before = (tmp_path / published / "dataset.extxyz").read_bytes()
    proc = run_workflow(config, tmp_path, *targets, "--forcerun", "default_assemble")
    assert "default_assemble" in proc.stdout + proc.stderr
    assert (tmp_path / published / "dataset.extxyz").read_bytes() == before
