"""File I/O shared by every stage: atomic writes, deterministic tables, extxyz frames.

Every output goes through :func:`atomic_path`, so a killed job leaves either the old file or
none at all, never half of one, and a rerun starts clean.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qcrobust.errors import InputError

if TYPE_CHECKING:  # ase.io costs ~0.3 s of imports, which jobs that read only tables skip
    from ase import Atoms


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    The temporary name keeps the suffix, so writers that infer the format from it still work.
    Temporary files of ``path`` left by a killed writer are removed first: snakemake lets one
    job at a time write an output, so any other one is stale.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.stem}.tmp"
    tmp = path.with_name(f"{prefix}{os.getpid()}{path.suffix}")
    for stale in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(path.suffix)}"):
        if stale != tmp and stale.name[len(prefix) : len(stale.name) - len(path.suffix)].isdigit():
            stale.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a table atomically; floats keep full round-trip precision, so reruns are byte-identical."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n")


def write_json(obj, path: str | os.PathLike) -> None:
    """Write JSON atomically with sorted keys; NaN/inf become null (strict JSON)."""

    def clean(value):
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return float(value) if math.isfinite(value) else None
        return value

    atomic_write_text(path, json.dumps(clean(obj), indent=2, sort_keys=True) + "\n")


def read_csv(path: str | os.PathLike, required: Iterable[str] = (), **kwargs) -> pd.DataFrame:
    """Read a table, failing with a clear error when the file or a required column is missing."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    df = pd.read_csv(path, **kwargs)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(path, None, f"missing column(s) {missing}; found {list(df.columns)}")
    return df


NOT_TEXT = "not a text file (it holds bytes that are not UTF-8): give an extxyz file"


def read_frames(path: str | os.PathLike) -> list[Atoms]:
    """All frames of an extxyz file, or an :class:`InputError` saying why it cannot be read,
    naming the first frame that cannot (index, and its id where its comment line has one)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    import ase.io

    frames: list[Atoms] = []
    try:
        for atoms in ase.io.iread(path, index=":", format="extxyz"):
            frames.append(atoms)
    except UnicodeDecodeError:
        where = f"frame {len(frames)}" if frames else None
        raise InputError(path, where, NOT_TEXT) from None
    except Exception as exc:  # ASE raises many types for malformed files
        problem = f"not a readable extxyz frame ({type(exc).__name__}: {exc})"
        if not frames and _frame_header(path, 0) is None:
            raise InputError(path, None, f"not a readable extxyz file ({type(exc).__name__}: {exc})") from exc
        index = len(frames)
        frame_id = (_frame_header(path, index) or {}).get("id")
        record = f"frame {index}" + (f" (id={str(frame_id)!r})" if frame_id is not None else "")
        raise InputError(path, record, problem) from exc
    if not frames:
        raise InputError(path, None, "no frames")
    return frames


def frame_outline(path: str | os.PathLike, symbols: bool = False) -> Iterator[tuple[str, frozenset[str]]]:
    """The comment line of every frame of an extxyz file (and, with ``symbols``, the set of the
    first column of its atom lines: the elements), found by walking its atom-count lines; atoms
    are not parsed. An :class:`InputError` naming the frame at a line that is not an atom count;
    a binary file raises ``UnicodeDecodeError``."""
    with open(path) as handle:
        n = 0
        while line := handle.readline():
            if not line.strip():
                continue
            try:
                atoms = int(line)
            except ValueError:
                raise InputError(path, f"frame {n}", f"not extxyz: expected an atom count line, got {line.strip()[:40]!r}") from None
            comment = handle.readline()
            lines = [handle.readline() for _ in range(atoms)]
            yield comment, frozenset(line.split(None, 1)[0] for line in lines if line.strip()) if symbols else frozenset()
            n += 1


def comment_lines(path: str | os.PathLike) -> Iterator[str]:
    """The comment line of every frame of an extxyz file (:func:`frame_outline`)."""
    return (comment for comment, _ in frame_outline(path))


def _frame_header(path: Path, index: int) -> dict | None:
    """The ``key=value`` pairs of frame ``index``'s comment line; None where the file does not
    get that far in the extxyz layout."""
    from ase.io.extxyz import key_val_str_to_dict

    try:
        for n, comment in enumerate(comment_lines(path)):
            if n == index:
                return key_val_str_to_dict(comment) if comment else None
    except (InputError, UnicodeDecodeError, ValueError):
        return None
    return None


def write_frames(frames: Iterable[Atoms], path: str | os.PathLike) -> None:
    """Write frames as extxyz atomically."""
    frames = list(frames)
    with atomic_path(path) as tmp:
        import ase.io

        ase.io.write(tmp, frames, format="extxyz")


def frame_value(atoms: Atoms, key: str):
    """A per-frame scalar from ``atoms.info``, or from the attached calculator (ASE moves
    ``energy`` there when reading extxyz). ``None`` if absent."""
    if key in atoms.info:
        return atoms.info[key]
    calc = atoms.calc
    if calc is not None and key in getattr(calc, "results", {}):
        return calc.results[key]
    return None


def count_frames(path: str | os.PathLike) -> int:
    """Frames in an extxyz file, from the atom-count lines alone (no parsing of atoms)."""
    return sum(1 for _ in comment_lines(path))
