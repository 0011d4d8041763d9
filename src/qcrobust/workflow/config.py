"""What the Snakefile checks of the config files snakemake read, and the checkout's root for conda envs (rules/common.smk)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from qcrobust.errors import InputError


def check_config_files(config: Mapping, loaded: Sequence[str | Path], extra: Sequence[str | Path]) -> None:
    """Refuse a ``--configfile`` that would mix studies.

    ``loaded`` are all config files snakemake read (the working directory's ``config.yaml``,
    when there is one, and the ``extra`` ones given with ``--configfile``). snakemake merges
    them key by key, so systems of the folder's own config.yaml join those of an extra file
    that names other ones, and both studies would write the same ``results/``. Every extra file
    that names ``systems`` must name all systems of the run.
    """
    systems = config.get("systems")
    if not isinstance(systems, Mapping):  # the schema check names that problem
        return
    extra = [Path(path) for path in extra]
    own = [Path(path).absolute() for path in loaded if Path(path).resolve() not in {p.resolve() for p in extra}]
    for path in extra:
        named = (yaml.safe_load(path.read_text()) or {}).get("systems") if path.is_file() else None
        if not isinstance(named, Mapping):  # none named, or not a mapping (the schema says so next)
            continue
        others = [name for name in systems if name not in named]
        if others:
            origin = ", ".join(map(str, own)) or "another --configfile"
            raise InputError(
                path,
                "key 'systems'",
                f"--configfile extends {origin}, which adds the systems {others} to yours. "
                "A study is a folder of its own: put your config in <folder>/config.yaml and run "
                "`snakemake --directory <folder>` (README, 'Your own data')",
            )


#: names the checkout that holds the Snakefile, for envs/qcrobust.yaml's pip line ``-e ${QCROBUST_ROOT}``
ROOT_VARIABLE = "QCROBUST_ROOT"


def export_workflow_root(basedir: str | Path) -> None:
    """Set :data:`ROOT_VARIABLE` to the workflow's folder (snakemake's ``workflow.basedir``).

    snakemake copies a rule's conda env file into the study's ``.snakemake/conda/`` before conda
    reads it, so a relative path in its pip section would name that folder; pip expands
    ``${QCROBUST_ROOT}`` from the environment of the snakemake process that creates the env.
    """
    os.environ[ROOT_VARIABLE] = str(Path(basedir).resolve())
