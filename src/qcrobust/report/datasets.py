"""The dataset table (rule report_datasets: ``datasets.csv``): per system and set, sizes, labels,
the structures merged or already labeled at ingest, and the rows that share a descriptor vector."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from qcrobust.io import count_frames, read_csv

DATASET_COLUMNS = [
    "system",
    "n_labeled",
    "n_limit0",
    "n_train",
    "n_val",
    "n_test",
    "n_inference",
    "n_audit",
    "max_A5_defects",
    "target_mean",
    "target_std",
    "target_min",
    "target_max",
    "share_negative",
    *[f"n_{name}_duplicates" for name in ("dataset", "inference", "audit")],
    "n_inference_labeled",
    "n_audit_labeled",
    *[f"n_{name}_shared_descriptor" for name in ("dataset", "inference", "audit")],
    "n_test_shared_descriptor",
]


SETS = ("dataset", "inference", "audit")


def dataset_row(
    system: str,
    targets: pd.DataFrame,
    splits: pd.DataFrame,
    n_inference: int,
    n_audit: int,
    target: str,
    equivalents: Mapping[str, pd.DataFrame] | None = None,
    descriptors: Mapping[str, pd.DataFrame] | None = None,
) -> dict:
    """One system's row of the dataset table. ``equivalents``: each set's equivalents table (what
    became of its frames at ingest); ``descriptors``: each set's descriptor table (absent without
    the classical family: its counts are then empty)."""
    from qcrobust.features import descriptor_groups

    y = targets[target].astype(float)
    counts = splits["split"].value_counts()
    row = {
        "system": system,
        "n_labeled": len(targets),
        "n_limit0": int((targets["n_A5_defects"] == 0).sum()),
        "n_train": int(counts.get("train", 0)),
        "n_val": int(counts.get("val", 0)),
        "n_test": int(counts.get("test", 0)),
        "n_inference": n_inference,
        "n_audit": n_audit,
        "max_A5_defects": int(targets["n_A5_defects"].max()),
        "target_mean": float(y.mean()),
        "target_std": float(y.std(ddof=0)),
        "target_min": float(y.min()),
        "target_max": float(y.max()),
        "share_negative": float((y < 0).mean()),
    }
    for name, table in (equivalents or {}).items():
        relation = table["relation"].value_counts()
        row[f"n_{name}_duplicates"] = int(relation.get("duplicate", 0))
        if name != "dataset":
            row[f"n_{name}_labeled"] = int(relation.get("labeled", 0))
    for name, table in (descriptors or {}).items():
        groups = descriptor_groups(table)
        row[f"n_{name}_shared_descriptor"] = int(groups.duplicated(keep=False).sum())
    if descriptors and "dataset" in descriptors:
        groups = descriptor_groups(descriptors["dataset"]).set_axis(descriptors["dataset"]["id"].astype(str))
        split = splits.set_index(splits["id"].astype(str))["split"]
        seen = set(groups[split.reindex(groups.index).isin(["train", "val"]).to_numpy()])
        test = groups[(split.reindex(groups.index) == "test").to_numpy()]
        row["n_test_shared_descriptor"] = int(test.isin(seen).sum())
    return row


def dataset_table(systems: Sequence[str], inputs: Mapping[str, Sequence[str]], audit_systems: Iterable[str], target: str) -> pd.DataFrame:
    """The dataset table from :func:`dataset_inputs`' files (``audit_systems``: those with an audit set)."""
    from qcrobust.features import read_features

    audit_systems = list(audit_systems)
    owners = {name: audit_systems if name == "audit" else list(systems) for name in SETS}
    per_system = {
        kind: dict(zip(owners[kind.split("_", 1)[1]], inputs.get(kind, [])))
        for kind in [f"{what}_{name}" for what in ("equivalents", "features") for name in SETS]
        if kind in inputs
    }
    audit_paths = dict(zip(audit_systems, inputs.get("audit_targets", []), strict=True))
    rows = []
    for system, targets_path, splits_path, inference in zip(systems, inputs["targets"], inputs["splits"], inputs["inference"], strict=True):
        targets = read_csv(targets_path, required=["id", "n_A5_defects", target], dtype={"id": str})
        splits = read_csv(splits_path, required=["id", "split"], dtype={"id": str})
        n_audit = len(read_csv(audit_paths[system])) if system in audit_paths else 0
        equivalents = {
            name: read_csv(per_system[f"equivalents_{name}"][system], required=["id", "relation"], dtype={"id": str})
            for name in SETS
            if system in per_system.get(f"equivalents_{name}", {})
        }
        descriptors = {
            name: read_features(per_system[f"features_{name}"][system]) for name in SETS if system in per_system.get(f"features_{name}", {})
        }
        rows.append(dataset_row(system, targets, splits, count_frames(inference), n_audit, target, equivalents, descriptors))
    table = pd.DataFrame(rows, columns=DATASET_COLUMNS)
    integer = [c for c in DATASET_COLUMNS if c.startswith("n_")]
    return table.astype({c: "Int64" for c in integer})
