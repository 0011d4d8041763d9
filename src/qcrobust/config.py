"""The study configuration: schema validation with one-line errors, and the rules a JSON schema
cannot express.

The schema (``workflow/schemas/config.schema.yaml``, shipped as :mod:`qcrobust.resources`) holds
types and defaults; :func:`validate_config` applies it (snakemake's ``validate()`` fills the
defaults in) and adds the cross-field rules, so ``rules/common.smk`` and the library outside
Snakemake see the same config and the same errors.

A study is a folder: its ``config.yaml``, and the ``results/``, ``logs/`` and ``benchmarks/`` the
workflow writes there (``snakemake --directory <folder>``). :func:`check_config_files` refuses the
one way to mix two studies by accident, a ``--configfile`` that extends a folder's own config.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from qcrobust.errors import InputError
from qcrobust.resources import folder

SCHEMA_DIR = folder("schemas")
CONFIG_SCHEMA = SCHEMA_DIR / "config.schema.yaml"


def schema_defaults(*keys: str) -> dict:
    """The schema's defaults of the config block at ``keys`` (e.g. ``"features"``), nested blocks
    included: the one place a setting's default is written. For library use without a config
    file; a validated config already holds them."""
    node = yaml.safe_load(CONFIG_SCHEMA.read_text())
    for key in keys:
        node = node["properties"][key]
    return _defaults(node)


def _defaults(node: Mapping):
    if "properties" in node:
        out = {k: _defaults(v) for k, v in node["properties"].items()}
        # a block whose default is written whole (features.environment) starts from it
        base = node.get("default")
        return (dict(base) if isinstance(base, dict) else {}) | {k: v for k, v in out.items() if v is not _NONE}
    return node.get("default", _NONE)


_NONE = object()  # "no default" (null is a default of its own)


def check_limits(limits, source: str = "config.yaml", defect_step: int = 1) -> list[int]:
    """The limit grid: a non-empty, strictly increasing list of multiples of ``defect_step`` (>= 0)."""
    if not isinstance(limits, list) or not limits:
        raise InputError(source, "key 'limits'", "must be a non-empty list of integers")
    for value in limits:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(source, "key 'limits'", f"{value!r} is not an integer >= 0")
        if value % defect_step:
            raise InputError(
                source,
                "key 'limits'",
                f"{value} is not a multiple of defect_step = {defect_step} (n_A5_defects of every structure is)",
            )
    for lower, upper in zip(limits, limits[1:]):
        if upper <= lower:
            raise InputError(source, "key 'limits'", f"must be strictly increasing, but {upper} follows {lower}")
    return list(limits)


def check_config(config: dict, source: str = "config.yaml") -> None:
    """Cross-field rules of a schema-valid config (defaults filled in); raises :class:`InputError` naming the key."""
    check_limits(config.get("limits"), source, config.get("defect_step", 1))
    systems = config.get("systems") or {}
    if not systems:
        raise InputError(source, "key 'systems'", "no system configured")
    for name, spec in systems.items():
        for key in ("dataset", "inference"):
            if not spec.get(key):
                raise InputError(source, f"key 'systems.{name}.{key}'", "missing")
    if "allegro" in config:
        try:
            allegro_limits(config)
        except InputError as err:  # it names no file: it also runs where none is known
            raise InputError(source, err.record, err.problem) from None
        check_pretrain(config["allegro"].get("pretrain") or {}, source)
    for family, block in (config.get("replicas") or {}).items():
        if family not in config or not block.get("limits"):
            continue
        family_limits = allegro_limits(config) if family == "allegro" else list(config["limits"])
        unknown = sorted(set(block["limits"]) - set(family_limits))
        if unknown:
            raise InputError(source, f"key 'replicas.{family}.limits'", f"{unknown} not among the {family} limits {family_limits}")
    for pair in (config.get("verdicts") or {}).get("pairs") or []:
        if pair[0] >= pair[1] or not set(pair) <= set(config.get("limits") or []):
            raise InputError(
                source, "key 'verdicts.pairs'", f"{pair}: a pair is [i, j] of two limits with i < j (limits {config.get('limits')})"
            )


def check_pretrain(pretrain: Mapping, source: str = "config.yaml") -> None:
    """The external regime starts from one of ``corpus``, ``source`` (a fetch) and ``package``,
    each set consistently (``allegro.pretrain``; src/qcrobust/allegro/sources.py)."""
    fetch = pretrain.get("source") or {}
    chosen = [
        key
        for key, value in (("corpus", pretrain.get("corpus")), ("source.api", fetch.get("api")), ("package", pretrain.get("package")))
        if value
    ]
    if len(chosen) > 1:
        raise InputError(
            source,
            f"key 'allegro.pretrain.{chosen[1]}'",
            f"set together with 'allegro.pretrain.{chosen[0]}': the external regime starts from one of corpus, source and package",
        )
    if fetch.get("api") == "aflux":
        if fetch.get("provider") not in (None, "aflow"):
            raise InputError(
                source, "key 'allegro.pretrain.source.provider'", "AFLUX is AFLOW's own API: a provider is chosen with api: optimade"
            )
        if fetch.get("energy_field"):
            raise InputError(
                source,
                "key 'allegro.pretrain.source.energy_field'",
                "AFLUX's label is enthalpy_formation_atom: energy_field is for api: optimade",
            )
    if fetch.get("api") == "optimade" and not fetch.get("provider") and not (fetch.get("url") and fetch.get("energy_field")):
        raise InputError(
            source, "key 'allegro.pretrain.source.provider'", "null needs both url and energy_field (or name aflow, oqmd, mp or alexandria)"
        )
    if fetch.get("api") and pretrain.get("target", "e_form") != "e_form":
        raise InputError(source, "key 'allegro.pretrain.target'", "a fetched corpus is labelled e_form (formation energy per atom)")
    package = pretrain.get("package")
    if package and not str(package).endswith(".nequip.zip"):
        raise InputError(source, "key 'allegro.pretrain.package'", f"{package}: not a nequip package (.nequip.zip)")


def allegro_limits(config: Mapping) -> list[int]:
    """The limits Allegro trains on: ``allegro.limits`` (a subset of ``limits`` holding its
    largest) or, when null, all of ``limits``."""
    limits = list(config["limits"])
    chosen = config["allegro"]["limits"]
    if chosen is None:
        return limits
    chosen = sorted(set(chosen))
    unknown = [x for x in chosen if x not in limits]
    if unknown:
        raise InputError("config", "key 'allegro.limits'", f"{unknown} not in 'limits' {limits}")
    if limits[-1] not in chosen:
        raise InputError("config", "key 'allegro.limits'", f"must hold the largest limit {limits[-1]} (recall is measured against it)")
    return chosen


def _key(path) -> str:
    return ".".join(str(part) for part in path)


def _schema_error(error) -> tuple[str, str]:
    """``(record, problem)`` of a jsonschema error: the config key and a one-line message."""
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        schema = error.schema
        known = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        unexpected = [key for key in error.instance if key not in known and not any(re.search(p, str(key)) for p in patterns)]
        key = unexpected[0] if unexpected else "?"
        if patterns and not known:
            return f"key {_key([*where, key])!r}", f"name must match {' or '.join(patterns)}"
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
        return f"key {_key([*where, key])!r}", f"unknown key; {hint}"
    record = f"key {_key(where)!r}" if where else None
    return record, error.message


def validate_config(config: dict, source: str = "config.yaml") -> dict:
    """Check ``config`` against the schema, fill in its defaults (in place) and apply :func:`check_config`.

    A violation is one :class:`InputError` naming ``source``, the key and the problem (not
    jsonschema's dump of the schema). Returns ``config``.
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = yaml.safe_load(CONFIG_SCHEMA.read_text())
    error = best_match(Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        record, problem = _schema_error(error)
        raise InputError(source, record, problem)
    for _ in _default_filling_validator()(schema).iter_errors(config):
        pass  # valid (checked above); iterating fills in the defaults
    check_config(config, source)
    return config


@functools.cache
def _default_filling_validator():
    """jsonschema's validator that sets every missing property to its schema default while it
    validates: the recipe of jsonschema's FAQ, which snakemake.utils.validate also uses (the
    library stays free of snakemake)."""
    from jsonschema import Draft202012Validator, validators

    check_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, sub in props.items():
                if "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from check_properties(validator, props, instance, schema)

    return validators.extend(Draft202012Validator, {"properties": properties})


def load_config(path: str | Path) -> dict:
    """Read a config file and validate it (with defaults) outside Snakemake."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    return validate_config(yaml.safe_load(path.read_text()) or {}, str(path))
