"""Keyed collections as named rule inputs: the one encoder and decoder.

A rule that reads a collection keyed by a tuple (the saved model of every ``(limit, seed)``, the
inference predictions of every ``(family, model)``) names each input ``{kind}__{part}__{part}``
(:func:`input_name`); its script gets the collection back with :func:`decode`. Input functions
and scripts both go through this module, so the encoding lives in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

SEP = "__"


def input_name(kind: str, *key) -> str:
    """``kind`` and the key's parts joined by ``__`` (no part may hold ``__`` itself)."""
    parts = [kind, *map(str, key)]
    bad = [p for p in parts if SEP in p or not p]
    if bad:
        raise ValueError(f"a keyed input's parts must be non-empty and free of {SEP!r}: {bad[0]!r} in {parts}")
    return SEP.join(parts)


def encode(kind: str, paths: Mapping[tuple, str]) -> dict[str, str]:
    """``{key: path}`` -> ``{input_name(kind, *key): path}``."""
    return {input_name(kind, *key): path for key, path in paths.items()}


def decode(named: Mapping[str, str] | Iterable[tuple[str, str]], kind: str, types: Sequence[Callable] = ()) -> dict[tuple, str]:
    """The inverse of :func:`encode` for the inputs of ``kind`` (others are skipped): ``{key:
    path}``, the key's parts converted by ``types`` (position by position; str beyond them)."""
    items = named.items() if isinstance(named, Mapping) else named
    out = {}
    for name, path in items:
        kind_of, *parts = name.split(SEP)
        if kind_of != kind or not parts:
            continue
        out[tuple((types[i] if i < len(types) else str)(p) for i, p in enumerate(parts))] = str(path)
    return out
