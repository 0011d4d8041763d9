"""Settings of the default-data rules, resolved at DAG-build time (no structure is built here)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from qcrobust.default_data.decorations import N_EXTRA_LIMIT0, compositions
from qcrobust.default_data.labels import n_shards, read_decorations
from qcrobust.default_data.parent import dopant_of
from qcrobust.errors import InputError

# Keys that define the shipped data; with relabel: false they must match data/default/protocol.json.
PROTOCOL_KEYS = ("seed", "optimizer", "fmax", "step_cap", "shard_size", "audit_size")


def default_settings(block: dict, shipped: Path) -> dict:
    """The ``default_data`` config block completed from the shipped ``protocol.json``.

    With ``relabel: false`` the shipped files are used as they are, so a protocol key that
    differs from ``protocol.json`` is an error (it would silently be ignored otherwise).
    With ``relabel: true`` the block's keys win and the shipped protocol fills the rest.
    """
    path = shipped / "protocol.json"
    if not path.is_file():
        raise InputError(path, None, "the shipped default data has no protocol.json")
    protocol = json.loads(path.read_text())
    settings = {"relabel": False, "crosscheck_size": 100, **protocol, **block}
    if settings["relabel"]:
        return settings
    for key in PROTOCOL_KEYS:
        if key in block and block[key] != protocol[key]:
            raise InputError(
                "config",
                f"key 'default_data.{key}'",
                f"{block[key]!r} differs from the shipped protocol ({protocol[key]!r} in {path}); "
                "set default_data.relabel: true to recompute the default data with it",
            )
    return settings


def label_shard_count(system: str, settings: dict, shipped: Path) -> int:
    """How many label shards a system has: from the shipped decorations, or computed from the counts."""
    if not settings["relabel"]:
        return n_shards(read_decorations(shipped / system / "decorations.csv"))
    n_labeled = len(compositions(dopant_of(system))) + N_EXTRA_LIMIT0 + settings["audit_size"]
    return math.ceil(n_labeled / settings["shard_size"])
