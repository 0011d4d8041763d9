"""Building the shipped default data outside Snakemake: the same library calls as the rules.

``prepare`` relaxes missing parents, writes ``decorations.csv`` from ``protocol.json`` and
relaxes missing competing phases;
``label`` labels every shard whose file is missing, interleaving systems so that the most
valuable shards (limit-0 first) finish first. It resumes: finished shards are never redone.
``verify`` recomputes shipped labels on this machine and compares them within the stated tolerance.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from pathlib import Path

from qcrobust.default_data.competing_phases import relaxed_competing_phases
from qcrobust.default_data.decorations import build_decorations
from qcrobust.default_data.labeler import Protocol, set_single_thread
from qcrobust.default_data.labels import (
    compare_labels,
    label_shard,
    n_shards,
    read_decorations,
    read_labels,
    recompute_labels,
    shard_filename,
    write_labels,
)
from qcrobust.default_data.parent import dopant_of
from qcrobust.default_data.structures import read_parent, relaxed_parent, write_parent
from qcrobust.io import write_frames
from qcrobust.tables import write_table

log = logging.getLogger("qcrobust.default_data")


def read_protocol(data: Path) -> dict:
    return json.loads((data / "protocol.json").read_text())


def prepare(data: Path, systems: list[str]) -> None:
    settings = read_protocol(data)
    for system in systems:
        parent_path = data / system / "parent.extxyz"
        if not parent_path.exists():
            atoms, checks = relaxed_parent(system)
            write_parent(atoms, parent_path)
            log.info("%s: parent relaxed %s", system, checks)
        parent = read_parent(parent_path)
        table = build_decorations(system, dopant_of(system), parent, settings["seed"], settings["audit_size"], settings["shard_size"])
        write_table(table, data / system / "decorations.csv")
        log.info("%s: %d decorations, %d shards", system, len(table), n_shards(table))
        phases_path = data / system / "competing_phases.extxyz"
        if not phases_path.exists():
            phases = relaxed_competing_phases(dopant_of(system), parent)
            write_frames(phases, phases_path)
            for atoms in phases:
                log.info("%s: %s %.4f eV/atom", system, atoms.info["name"], atoms.info["energy"] / len(atoms))


def _label_job(job: tuple[str, str, int]) -> tuple[str, int, float]:
    data, system, shard = job
    data = Path(data)
    set_single_thread()
    start = time.perf_counter()
    settings = read_protocol(data)
    protocol = Protocol(settings["optimizer"], settings["fmax"], settings["step_cap"])
    parent = read_parent(data / system / "parent.extxyz")
    table = read_decorations(data / system / "decorations.csv")
    labels = label_shard(parent, table, shard, dopant_of(system), protocol)
    write_labels(labels, data / system / "labels" / shard_filename(shard))
    return system, shard, time.perf_counter() - start


def pending_jobs(data: Path, systems: list[str]) -> list[tuple[str, str, int]]:
    """Missing shards, round-robin over systems by shard number (shard 0 of every system first)."""
    counts = {s: n_shards(read_decorations(data / s / "decorations.csv")) for s in systems}
    jobs = []
    for shard in range(max(counts.values())):
        for system in systems:
            if shard < counts[system] and not (data / system / "labels" / shard_filename(shard)).exists():
                jobs.append((str(data), system, shard))
    return jobs


def label(data: Path, systems: list[str], workers: int) -> None:
    jobs = pending_jobs(data, systems)
    log.info("%d shards to label with %d workers", len(jobs), workers)
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        for system, shard, seconds in pool.imap_unordered(_label_job, jobs, chunksize=1):
            log.info("done %s shard %d in %.0f s", system, shard, seconds)


def _init_worker() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    logging.basicConfig(level=logging.WARNING)
    set_single_thread()


def verify(data: Path, systems: list[str], n: int, shard: int = 0):
    """The first ``n`` labels of each system's ``shard``, recomputed here and compared with the shipped ones."""
    import pandas as pd

    set_single_thread()
    tables = []
    for system in systems:
        decorations = read_decorations(data / system / "decorations.csv")
        shipped = read_labels([data / system / "labels" / shard_filename(shard)], decorations)
        recomputed = recompute_labels(data, system, list(shipped["id"][:n]))
        tables.append(compare_labels(shipped, recomputed).assign(system=system))
    return pd.concat(tables, ignore_index=True)
