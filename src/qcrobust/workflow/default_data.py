"""Settings of the default-data rules, resolved at DAG-build time (no structure is built here)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from qcrobust import layout
from qcrobust.default_data.decorations import N_EXTRA_LIMIT0, compositions
from qcrobust.default_data.labels import n_shards, read_decorations
from qcrobust.default_data.parent import dopant_of
from qcrobust.errors import InputError

# Keys that define the shipped data; with relabel: false they must match data/default/protocol.json.
PROTOCOL_KEYS = ("seed", "optimizer", "fmax", "step_cap", "shard_size", "audit_size")


def default_settings(block: dict, shipped: Path) -> dict:
    """The ``default_data`` config block (validated: the schema's defaults filled in), with
    ``shipped`` resolved to a folder.

    With ``relabel: false`` the shipped files are used as they are, with their ``protocol.json``;
    a protocol key set to a value that is neither the schema's default nor the shipped one is
    an error, since it would otherwise be silently ignored. Nothing is read beyond
    ``protocol.json``: a study without default data parses.
    """
    from qcrobust.config import schema_defaults

    defaults = schema_defaults("default_data")
    settings = {**defaults, **block}
    settings["shipped"] = str(block.get("shipped") or shipped)
    path = Path(settings["shipped"]) / "protocol.json"
    if settings["relabel"] or not path.is_file():
        return settings
    protocol = json.loads(path.read_text())
    for key in PROTOCOL_KEYS:
        if key in block and block[key] not in (protocol[key], defaults[key]):
            raise InputError(
                "config",
                f"key 'default_data.{key}'",
                f"{block[key]!r} differs from the shipped protocol ({protocol[key]!r} in {path}); "
                "set default_data.relabel: true to recompute the default data with it",
            )
        settings[key] = protocol[key]
    return settings


def label_shard_count(system: str, settings: dict) -> int:
    """How many label shards a system has: from the shipped decorations, or computed from the counts."""
    if not settings["relabel"]:
        return n_shards(read_decorations(Path(settings["shipped"]) / system / "decorations.csv"))
    n_labeled = len(compositions(dopant_of(system))) + N_EXTRA_LIMIT0 + settings["audit_size"]
    return math.ceil(n_labeled / settings["shard_size"])


def source_path(settings: dict, system: str, name: str) -> str:
    """Where a file of the default data comes from: shipped, or recomputed (relabel: true)."""
    if settings["relabel"]:
        return layout.path(layout.DEFAULT_COMPUTED, system=system, name=name)
    return f"{settings['shipped']}/{system}/{name}"


def source(settings: dict, name: str):
    """Snakemake input function for :func:`source_path`."""
    return lambda wildcards: source_path(settings, wildcards.system, name)


def label_files(settings: dict, wildcards) -> list[str]:
    """Every label shard of a system: the shipped one where present, else the one the rule computes."""
    files = []
    for shard in range(label_shard_count(wildcards.system, settings)):
        name = layout.path(layout.DEFAULT_LABEL_SHARD, shard=f"{shard:03d}")
        shipped = Path(source_path(settings, wildcards.system, name))
        files.append(str(shipped) if shipped.is_file() else layout.path(layout.DEFAULT_COMPUTED, system=wildcards.system, name=name))
    return files
