"""Data files the library reads at run time, shipped inside the package.

They live where a reader of the repository expects them, under ``workflow/``: the JSON
schemas (``workflow/schemas``), nequip's Hydra config template (``workflow/allegro``) and the
report captions (``workflow/report``). This package holds symbolic links to those three
folders, so a checkout (editable install, or ``PYTHONPATH=src``) reads the files in place and
a built wheel carries real copies (``tool.setuptools.package-data`` in pyproject.toml); either
way :func:`folder` finds them through :mod:`importlib.resources`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

FOLDERS = ("schemas", "allegro", "report")


def folder(name: str) -> Path:
    """The folder of shipped files ``name`` (one of :data:`FOLDERS`) as a file-system path
    (in a checkout: the ``workflow/`` folder itself, links resolved)."""
    if name not in FOLDERS:
        raise ValueError(f"unknown resource folder {name!r}; expected one of {FOLDERS}")
    path = Path(str(files(__name__) / name)).resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: the package's {name} files are missing (broken installation?)")
    return path
