"""Every file the workflow writes, named once.

Each constant is a path pattern relative to the study folder, with snakemake's wildcard syntax
(``{system}``, ``{family}``, ``{model}``, ``{limit}``, ``{set}``, ...). The rules use the patterns
as they are (outputs) or partly filled (:func:`path` leaves the wildcards it is not given), the
library and the tests fill them completely. Grep a constant to find the rule that writes a file
and every reader of it.

Prediction sets (the ``{set}`` wildcard of :data:`PREDICTIONS`): ``test`` (the fixed limit-0 test
split of the dataset), ``inference`` (the structures to screen) and ``audit`` (labeled inference
structures, optional per system). A prediction table holds every trained (limit, seed) of one
(system, family, model): columns ``limit, seed, id, y_pred``.
"""

from __future__ import annotations

import re

LOGS = "logs"
BENCHMARKS = "benchmarks"

# --- data stage ---
STRUCTURES = "results/{system}/{set}.extxyz"  # normalized copies: dataset, inference, audit
TARGETS = "results/{system}/{set}_targets.csv"  # labels of the labeled sets: dataset, audit
EQUIVALENTS = "results/{system}/{set}_equivalents.csv"  # every input frame: kept, duplicate or already labeled
SPLITS = "results/{system}/splits.csv"
LIMIT_SIZES = "results/{system}/limit_sizes.csv"
HULL_STATS = "results/{system}/hull/hull_stats.json"
HULL_FIGURE = "results/{system}/hull/hull_histogram.png"

# --- descriptors (classical family) ---
FEATURE_SPACE = "results/{system}/features/space.json"
FEATURES = "results/{system}/features/{set}.parquet"  # dataset, inference, audit

# --- Allegro's training files ---
ALLEGRO_PART = "results/{system}/allegro_data/limit_{limit}/{part}.extxyz"
ALLEGRO_SPECIES = "results/{system}/allegro_data/species.json"
# the inference structures with their neighbour lists, written once for every Allegro model
ALLEGRO_GRAPHS = "results/{system}/allegro_data/inference.graphs.npz"
PRETRAIN_DIR = "results/allegro_pretrain"
PRETRAIN_CORPUS = "results/allegro_pretrain/corpus.extxyz"
PRETRAIN_SPLIT = "results/allegro_pretrain/{part}.extxyz"  # train, val
# a fetched corpus (config allegro.pretrain.source): the provider's raw responses (the fetch's
# cache), the corpus made of them and where every frame came from
PRETRAIN_RESPONSES = "results/allegro_pretrain/fetched/responses.json"
PRETRAIN_FETCHED_CORPUS = "results/allegro_pretrain/fetched/corpus.extxyz"
PRETRAIN_PROVENANCE = "results/allegro_pretrain/fetched/provenance.json"
SELF_PRETRAIN_DIR = "results/{system}/allegro/self/limit_{limit}/seed_{seed}/pretrain"

# --- one trained model: (system, family, model, limit, seed); seeds: config replicas ---
MODEL_DIR = "results/{system}/{family}/{model}/limit_{limit}/seed_{seed}"
MODEL_FILE = {"classical": "model.joblib", "allegro": "model.nequip.zip"}  # in MODEL_DIR (and pretraining folders)
METRICS_FILE = "metrics.json"  # in MODEL_DIR and pretraining folders: training facts
METRICS = "results/{system}/{family}/{model}/limit_{limit}/seed_{seed}/metrics.json"
RUN_DIR = "run"  # nequip's checkpoints, in MODEL_DIR or a pretraining folder

# --- predictions of one (system, family, model): a table per set, a block per trained (limit, seed) ---
PREDICTIONS = "results/{system}/{family}/{model}/predictions_{set}.csv"

# --- evaluation of one (system, family, model) across its limits ---
SUMMARY_DIR = "results/{system}/{family}/{model}/summary"
SUMMARY_TABLE = "results/{system}/{family}/{model}/summary/{table}.csv"
SUMMARY_FIGURE = "results/{system}/{family}/{model}/summary/{figure}.png"

# --- per system, across models ---
CANDIDATES = "results/{system}/candidates.csv"
CANDIDATES_FIGURE = "results/{system}/candidates.png"
CONSENSUS = "results/{system}/consensus.csv"

# --- the study's report ---
REPORT_TABLE = "results/report/{name}.csv"
REPORT_FIGURE = "results/report/{name}.png"
FINDINGS = "results/report/findings.html"
REPORT_HTML = "results/report/report.html"

# --- the embedded default dataset ---
DEFAULT_DATA = "results/default_data/{system}/{name}"  # the published files fed to ingest
DEFAULT_DATA_PREFIX = DEFAULT_DATA.split("{")[0]  # a config path under it is made by the default-data rules
DEFAULT_COMPUTED = "results/default_data/{system}/computed/{name}"  # recomputed sources
DEFAULT_LABEL_SHARD = "labels/shard_{shard}.csv"  # in a shipped or computed source folder

_WILDCARD = re.compile(r"\{(\w+)\}")


def path(pattern: str, **values) -> str:
    """``pattern`` with the named wildcards filled in; the others stay wildcards (for rules)."""
    return _WILDCARD.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), pattern)


def model_file(family: str, **values) -> str:
    """The saved model of a (system, family, model, limit)."""
    return path(f"{MODEL_DIR}/{MODEL_FILE[family]}", family=family, **values)


def trained_files(folder: str, family: str = "allegro") -> dict[str, str]:
    """``model`` and ``metrics`` of a training written to ``folder`` (a model or pretraining folder)."""
    return {"model": f"{folder}/{MODEL_FILE[family]}", "metrics": f"{folder}/{METRICS_FILE}"}


def log(stem: str, **values) -> str:
    """``logs/<stem>.log`` (``stem`` may hold wildcards)."""
    return path(f"{LOGS}/{stem}.log", **values)


def benchmark(stem: str, **values) -> str:
    """``benchmarks/<stem>.tsv``: snakemake's ``benchmark:`` record of a job."""
    return path(f"{BENCHMARKS}/{stem}.tsv", **values)


def matches(pattern: str, text: str) -> dict[str, str] | None:
    """The wildcard values of ``text`` under ``pattern`` (None if it does not match): the
    inverse of :func:`path`, for tables that learn their key from a file's path."""
    parts = _WILDCARD.split(pattern)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    found = re.search(f"(?:^|/){regex}$", str(text).replace("\\", "/"))
    return found.groupdict() if found else None
