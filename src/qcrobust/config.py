"""Checks on the study configuration that a JSON schema cannot express.

The schema (``workflow/schemas/config.schema.yaml``, in :mod:`qcrobust.resources`) holds types and defaults and is applied
by snakemake's ``validate()``; this module adds the cross-field rules and gives the library
the same view of the config outside Snakemake.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from qcrobust.errors import InputError
from qcrobust.resources import folder

SCHEMA_DIR = folder("schemas")


def check_limits(limits, source: str = "config.yaml") -> list[int]:
    """The limit grid: a non-empty, strictly increasing list of integers >= 0."""
    if not isinstance(limits, list) or not limits:
        raise InputError(source, "key 'limits'", "must be a non-empty list of integers")
    for value in limits:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(source, "key 'limits'", f"{value!r} is not an integer >= 0")
    for lower, upper in zip(limits, limits[1:]):
        if upper <= lower:
            raise InputError(
                source, "key 'limits'", f"must be strictly increasing, but {upper} follows {lower}"
            )
    return list(limits)


def check_config(config: dict, source: str = "config.yaml") -> None:
    """Cross-field rules; raises :class:`InputError` naming the key."""
    check_limits(config.get("limits"), source)
    systems = config.get("systems") or {}
    if not systems:
        raise InputError(source, "key 'systems'", "no system configured")
    for name, spec in systems.items():
        for key in ("dataset", "inference"):
            if not spec.get(key):
                raise InputError(source, f"key 'systems.{name}.{key}'", "missing")


#: names the checkout that holds the Snakefile, for envs/qcrobust.yaml's pip line ``-e ${QCROBUST_ROOT}``
ROOT_VARIABLE = "QCROBUST_ROOT"


def export_workflow_root(basedir: str | Path) -> None:
    """Set :data:`ROOT_VARIABLE` to the workflow's folder (snakemake's ``workflow.basedir``).

    snakemake copies a rule's conda env file into the study's ``.snakemake/conda/`` before conda
    reads it, so a relative path in its pip section would name that folder; pip expands
    ``${QCROBUST_ROOT}`` from the environment of the snakemake process that creates the env.
    """
    os.environ[ROOT_VARIABLE] = str(Path(basedir).resolve())


def load_config(path: str | Path) -> dict:
    """Read a config file and validate it against the schema (with defaults) outside Snakemake."""
    from snakemake.utils import validate  # snakemake's own validator fills schema defaults

    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    config = yaml.safe_load(path.read_text()) or {}
    validate(config, str(SCHEMA_DIR / "config.schema.yaml"))
    check_config(config, str(path))
    return config
