"""What can be known before the first job runs, checked once when snakemake starts (rules/common.smk)
and by ``bash run.sh study`` before it starts snakemake.

- :func:`check_yaml` -- a config file that is not valid YAML, with its line and column (snakemake
  itself says only "not valid JSON or YAML");
- :func:`check_study_files` -- every file the config names exists, or is made by a rule (the
  default data's), else one line naming the config key;
- :func:`check_frame_facts` -- what the datasets' frame headers decide: the limit-0 pool against
  ``split.test_size``, each limit's train+val rows against ``classical.folds``; read from the
  comment lines alone (no atoms parsed) and cached per file (size, mtime) under
  ``.snakemake/qcrobust/``, so a restart or a cluster job pays almost nothing;
- :func:`check_model_params` -- hyperparameter names the estimator does not take;
- :func:`study_warnings` -- results that will be legal but not meaningful (a small test set),
  said once in snakemake's log and on the findings page;
- :func:`main` -- ``python -m qcrobust.startup [snakemake args]``, run by ``run.sh study``: checks
  the ``--configfile`` files (snakemake reads those before any workflow code runs) and removes
  the lock that a killed run leaves when no snakemake process works in the study folder.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from numbers import Integral
from pathlib import Path

from qcrobust.errors import InputError

log = logging.getLogger(__name__)

MIN_TEST_SIZE = 20  # below this, a test RMSE or R² (and so every SimilarityScore) is mostly noise
FACTS_CACHE = ".snakemake/qcrobust/frame_facts.json"


def check_yaml(path: str | os.PathLike) -> None:
    """``path`` parses as YAML; else one line with the line and column PyYAML found."""
    import yaml

    path = Path(path)
    if not path.is_file():
        return
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise InputError(path, None, "not a text file: a config is YAML") from None
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = " ".join(str(p) for p in (getattr(err, "context", None), getattr(err, "problem", None)) if p) or str(err)
        raise InputError(path.absolute(), where, f"not valid YAML: {problem}") from None


def check_study_files(config: Mapping, source: str, made_by_rules: str) -> None:
    """Every file the config names exists (the systems' files, the external regime's corpus or
    package), except those under ``made_by_rules`` (a path prefix the default-data rules write to)."""
    named = [(f"systems.{system}.{key}", value) for system, spec in config["systems"].items() for key, value in spec.items()]
    pretrain = (config.get("allegro") or {}).get("pretrain") or {}
    if (config.get("allegro") or {}).get("models") and "external" in config["allegro"]["models"]:
        named += [(f"allegro.pretrain.{key}", pretrain.get(key)) for key in ("corpus", "package")]
    for key, value in named:
        if not isinstance(value, str) or str(value).startswith(made_by_rules):
            continue
        if not Path(value).is_file():
            what = "is a folder, not a file" if Path(value).is_dir() else "no such file"
            raise InputError(source, f"key '{key}'", f"{value}: {what} (paths are relative to the study folder {os.getcwd()})")


def frame_facts(path: str | os.PathLike, cache: dict | None = None) -> list[tuple[str, int | None, str]]:
    """``(id, n_A5_defects, elements)`` of every frame of an extxyz file (elements comma-joined,
    sorted), from its comment lines and the first column of its atom lines (nothing else is
    parsed); ``None`` where a frame lacks the key (the ingest job names such a frame). ``cache``:
    a dict of earlier answers, keyed by path, size and mtime."""
    from ase.io.extxyz import key_val_str_to_dict

    from qcrobust.io import NOT_TEXT, frame_outline

    path = Path(path)
    stat = path.stat()
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    if cache is not None and key in cache:
        return [tuple(f) for f in cache[key]]
    try:
        facts = []
        for comment, symbols in frame_outline(path, symbols=True):
            try:
                header = key_val_str_to_dict(comment)
            except ValueError:  # a malformed comment line: the ingest job names the frame
                header = {}
            value = header.get("n_A5_defects")
            n_defects = int(value) if isinstance(value, Integral) and not isinstance(value, bool) else None
            facts.append((str(header.get("id")), n_defects, ",".join(sorted(symbols))))
    except UnicodeDecodeError:
        raise InputError(path, None, NOT_TEXT) from None
    if cache is not None:
        cache[key] = facts
    return facts


def _read_cache(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def check_frame_facts(config: Mapping, source: str, made_by_rules: str, cache_path: str | os.PathLike = FACTS_CACHE) -> None:
    """What the datasets' frame headers and elements decide before any job: enough limit-0
    structures for the test set, at every limit at least ``classical.folds`` train+val
    structures, and no element to predict that the dataset lacks. Counts are of frames as given
    (ingest may merge duplicates, which only lowers them, and checks again)."""
    cache_path = Path(cache_path)
    cache = _read_cache(cache_path)
    before = len(cache)
    test_size = config["split"]["test_size"]
    folds = config["classical"]["folds"] if config["classical"]["models"] else None
    for spec in config["systems"].values():
        path = spec["dataset"]
        if str(path).startswith(made_by_rules) or not Path(path).is_file():
            continue
        facts = frame_facts(path, cache)
        counts = [n for _, n, _ in facts if n is not None]
        _check_elements_learned(spec, path, {e for *_, elements in facts for e in elements.split(",") if e}, cache, made_by_rules)
        pool = sum(1 for n in counts if n == 0)
        if pool < test_size:
            raise InputError(
                path,
                None,
                f"only {pool} limit-0 structures (n_A5_defects = 0), fewer than split.test_size = {test_size} "
                f"({source}): lower split.test_size or add limit-0 structures",
            )
        for limit in config["limits"]:
            rows = sum(1 for n in counts if n <= limit) - test_size
            if folds and rows < folds:
                raise InputError(
                    path,
                    f"limit {limit}",
                    f"only {rows} train+val structures (n_A5_defects <= {limit}, less the "
                    f"{test_size} test ones), fewer than classical.folds = {folds} ({source}): "
                    "lower classical.folds or split.test_size, or add structures",
                )
    if len(cache) != before:
        from qcrobust.io import atomic_write_text

        try:
            atomic_write_text(cache_path, json.dumps(cache))
        except OSError:  # a read-only study folder only loses the cache
            pass


def _check_elements_learned(spec: Mapping, dataset: str, learned: set[str], cache: dict, made_by_rules: str) -> None:
    """Every element of the sets to predict occurs in the labeled dataset (no model learns another
    one); the same message as the ingest job's, before any job."""
    from qcrobust.dataset import unlearned_elements_message

    for key in ("inference", "audit"):
        path = spec.get(key)
        if not path or str(path).startswith(made_by_rules) or not Path(path).is_file():
            continue
        for index, (frame_id, _, elements) in enumerate(frame_facts(path, cache)):
            unknown = sorted(set(elements.split(",")) - learned - {""})
            if unknown:
                raise InputError(path, f"frame {index} (id={frame_id!r})", unlearned_elements_message(unknown, dataset))


def check_model_params(config: Mapping, source: str) -> None:
    """Hyperparameters of the classical models that their estimator does not take (RandomForest
    and CatBoost; XGBoost and LightGBM take any native parameter). The estimator is imported
    only when the config sets a parameter the schema does not list."""
    import yaml

    from qcrobust.classical import make_regressor
    from qcrobust.config import CONFIG_SCHEMA

    documented = yaml.safe_load(CONFIG_SCHEMA.read_text())["properties"]["classical"]["properties"]["params"]["properties"]
    for model in config["classical"]["models"]:
        params = dict(config["classical"]["params"].get(model) or {})
        if model in ("rf", "catboost") and set(params) - set(documented[model].get("properties", {})):
            try:
                make_regressor(model, params)
            except InputError as err:
                raise InputError(source, err.record, err.problem) from None


def study_warnings(config: Mapping) -> list[str]:
    """Settings under which results are legal but not meaningful, one sentence each."""
    out = []
    test_size = config["split"]["test_size"]
    if test_size < MIN_TEST_SIZE:
        out.append(
            f"the test set holds {test_size} structures (split.test_size), fewer than {MIN_TEST_SIZE}: test RMSE, R² and "
            "every SimilarityScore rest on so few structures that they are mostly noise"
        )
    return out


def check_study(config: Mapping, source: str, made_by_rules: str) -> list[str]:
    """Every start-up check, in the order a user would fix them; returns :func:`study_warnings`."""
    check_study_files(config, source, made_by_rules)
    check_model_params(config, source)
    check_frame_facts(config, source, made_by_rules)
    return study_warnings(config)


# --- run.sh study: before snakemake starts ---


def _option_values(argv: Sequence[str], *names: str) -> list[str]:
    """Values of snakemake options in ``argv`` (``--opt v1 v2``, ``--opt=v``), until the next option."""
    values, taking = [], False
    for arg in argv:
        if arg.startswith("-"):
            name, _, value = arg.partition("=")
            taking = name in names
            if taking and value:
                values.append(value)
                taking = False
        elif taking:
            values.append(arg)
    return values


def snakemake_processes_in(folder: Path) -> list[int]:
    """Process ids of snakemake processes (or their jobs) whose working directory is ``folder``,
    or whose working directory cannot be read (then the lock is kept: it may be theirs)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int(proc.name) == os.getpid() or "snakemake" not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                continue
        except (OSError, ValueError):
            continue  # ended meanwhile, or not a process
        try:
            cwd = Path(os.readlink(proc / "cwd")).resolve()
        except FileNotFoundError:
            continue  # ended meanwhile
        except OSError:
            cwd = folder  # not allowed to look: assume it works here
        if cwd == folder:
            found.append(int(proc.name))
    return found


def remove_stale_lock(folder: str | os.PathLike) -> bool:
    """Remove ``.snakemake/locks`` of ``folder`` when no snakemake process works there (a killed
    run left it); True if it did. A live run keeps its lock."""
    folder = Path(folder).resolve()
    locks = sorted((folder / ".snakemake" / "locks").glob("*.lock"))
    if not locks or snakemake_processes_in(folder):
        return False
    for lock in locks:
        lock.unlink(missing_ok=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    folder = Path((_option_values(argv, "--directory", "-d") or ["."])[-1])
    try:
        for path in [*_option_values(argv, "--configfile", "--configfiles"), folder / "config.yaml"]:
            check_yaml(path)
    except InputError as err:
        print(f"qcrobust: bad input: {err}", file=sys.stderr)
        return 1
    if "--unlock" not in argv and remove_stale_lock(folder):
        print(
            f"run.sh: no snakemake process runs in {folder.resolve()}; removed the lock a killed run left (what `snakemake --unlock` does)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
