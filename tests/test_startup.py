"""What is checked when a run starts, before any job: every case ends in one line naming the file,
the record or key, and the problem."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import ase.io
import pytest
import yaml
from ase import Atoms

from qcrobust.config import validate_config
from qcrobust.errors import InputError
from qcrobust.io import read_frames
from qcrobust.startup import (
    check_frame_facts,
    check_model_params,
    check_study_files,
    check_yaml,
    frame_facts,
    main,
    remove_stale_lock,
    snakemake_processes_in,
    study_warnings,
)

MADE_BY_RULES = "results/default_data/"


def _dataset(path, n_a5):
    frames = []
    for k, n in enumerate(n_a5):
        atoms = Atoms("Cu4", scaled_positions=[(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)], cell=[3.6] * 3, pbc=True)
        atoms.info.update(id=f"s-{k}", n_A5_defects=n, energy=-4.0)
        frames.append(atoms)
    ase.io.write(path, frames, format="extxyz")
    return str(path)


def _config(tmp_path, **changes):
    dataset = _dataset(tmp_path / "d.extxyz", [0] * 8 + [2] * 6 + [4] * 4)
    config = {"systems": {"S": {"dataset": dataset, "inference": dataset}}, "limits": [0, 2, 4], "split": {"test_size": 4}}
    config.update(changes)
    return validate_config(config, "study/config.yaml")


def test_config_that_is_not_yaml_names_line_and_column(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("systems:\n  S:\n    dataset: a.extxyz\n    inference: b.extxyz : : [\nlimits: [0]\n")
    with pytest.raises(InputError) as err:
        check_yaml(path)
    assert str(err.value) == f"{path}: line 4, column 25: not valid YAML: mapping values are not allowed here"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(128, 256)))
    with pytest.raises(InputError, match="binary.yaml: not a text file"):
        check_yaml(binary)
    check_yaml(tmp_path / "absent.yaml")  # nothing to check: snakemake says a configfile is missing


def test_missing_file_names_the_config_key(tmp_path):
    config = _config(tmp_path)
    config["systems"]["S"]["audit"] = str(tmp_path / "nowhere.extxyz")
    with pytest.raises(InputError) as err:
        check_study_files(config, "study/config.yaml", MADE_BY_RULES)
    assert str(err.value).startswith(f"study/config.yaml: key 'systems.S.audit': {tmp_path}/nowhere.extxyz: no such file")
    config["systems"]["S"]["audit"] = MADE_BY_RULES + "S/audit.extxyz"  # a rule makes it
    check_study_files(config, "study/config.yaml", MADE_BY_RULES)
    config["allegro"]["pretrain"]["package"] = str(tmp_path / "model.nequip.zip")
    with pytest.raises(InputError, match=r"key 'allegro.pretrain.package': .*model.nequip.zip: no such file"):
        check_study_files(config, "study/config.yaml", MADE_BY_RULES)


def test_frame_facts_decide_the_test_set_and_the_folds_before_any_job(tmp_path):
    cache = tmp_path / "facts.json"
    with pytest.raises(InputError) as err:
        check_frame_facts(_config(tmp_path, split={"test_size": 9}), "study/config.yaml", MADE_BY_RULES, cache)
    assert str(err.value) == (
        f"{tmp_path}/d.extxyz: only 8 limit-0 structures (n_A5_defects = 0), fewer than split.test_size = 9 "
        "(study/config.yaml): lower split.test_size or add limit-0 structures"
    )
    with pytest.raises(InputError) as err:
        check_frame_facts(_config(tmp_path, classical={"folds": 5}), "study/config.yaml", MADE_BY_RULES, cache)
    assert str(err.value).startswith(
        f"{tmp_path}/d.extxyz: limit 0: only 4 train+val structures (n_A5_defects <= 0, less the 4 "
        "test ones), fewer than classical.folds = 5 (study/config.yaml)"
    )
    check_frame_facts(_config(tmp_path, classical={"folds": 4}), "study/config.yaml", MADE_BY_RULES, cache)
    # the headers are read once: a second start reads the cache, keyed by the file's size and mtime
    stored = json.loads(cache.read_text())
    assert len(stored) == 1 and [n for _, n, _ in next(iter(stored.values()))] == [0] * 8 + [2] * 6 + [4] * 4
    assert {elements for *_, elements in next(iter(stored.values()))} == {"Cu"}
    assert frame_facts(tmp_path / "d.extxyz", {next(iter(stored)): [["x", 0, "Cu"]]}) == [("x", 0, "Cu")]


def test_element_the_dataset_lacks_is_known_before_any_job(tmp_path):
    config = _config(tmp_path)
    frames = ase.io.read(config["systems"]["S"]["dataset"], ":")
    frames[5][0].symbol = "Au"
    inference = tmp_path / "inference.extxyz"
    ase.io.write(inference, frames, format="extxyz")
    config["systems"]["S"]["inference"] = str(inference)
    with pytest.raises(InputError) as err:
        check_frame_facts(config, "study/config.yaml", MADE_BY_RULES, tmp_path / "facts.json")
    assert str(err.value) == (
        f"{inference}: frame 5 (id='s-5'): element(s) ['Au'] absent from the labeled dataset "
        f"{config['systems']['S']['dataset']!r}: no model learns them"
    )


def test_binary_dataset_is_one_line_at_start_and_at_ingest(tmp_path):
    path = tmp_path / "binary.extxyz"
    path.write_bytes(bytes(range(128, 256)) * 20)
    for check in (lambda: frame_facts(path), lambda: read_frames(path)):
        with pytest.raises(InputError) as err:
            check()
        assert str(err.value) == f"{path}: not a text file (it holds bytes that are not UTF-8): give an extxyz file"


def test_misspelt_hyperparameter_names_the_config_file_and_key(tmp_path):
    config = _config(tmp_path, classical={"params": {"rf": {"n_estimatorz": 10}}})
    with pytest.raises(InputError) as err:
        check_model_params(config, "/studies/cu/config.yaml")
    assert str(err.value) == "/studies/cu/config.yaml: key 'classical.params.rf.n_estimatorz': not a parameter of RandomForestRegressor"
    check_model_params(_config(tmp_path, classical={"params": {"rf": {"max_depth": 4}}}), "config.yaml")


def test_a_small_test_set_is_a_warning(tmp_path):
    assert study_warnings(_config(tmp_path)) == [
        "the test set holds 4 structures (split.test_size), fewer than 20: test RMSE, R² and every SimilarityScore "
        "rest on so few structures that they are mostly noise"
    ]
    assert study_warnings(_config(tmp_path, split={"test_size": 20})) == []


def test_stale_lock_is_removed_only_when_no_snakemake_works_there(tmp_path):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    # a process that calls itself snakemake, working in the folder: its lock stays
    # (a Python child with the name as an argument: `exec -a` depends on what `sleep` is)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "snakemake-alike"], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while live.pid not in snakemake_processes_in(tmp_path.resolve()) and time.monotonic() < deadline:
            assert live.poll() is None, "the stand-in process ended early"
            time.sleep(0.05)
        assert live.pid in snakemake_processes_in(tmp_path.resolve())
        assert remove_stale_lock(tmp_path) is False and (locks / "0.input.lock").exists()
    finally:
        live.kill()
        live.wait()
    assert remove_stale_lock(tmp_path) is True and not list(locks.iterdir())
    assert remove_stale_lock(tmp_path) is False  # nothing left to remove


def test_run_sh_preflight_checks_configfiles_and_exits_non_zero(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    assert main(["--cores", "2", "--configfile", str(bad), "--directory", str(tmp_path)]) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"qcrobust: bad input: {bad}: line 2, column 1: not valid YAML") and "\n" not in line
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"limits": [0]}))
    assert main([f"--configfile={good}", "-d", str(tmp_path)]) == 0


def test_default_data_verify_outside_the_checkout_is_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "qcrobust.default_data", "verify", "--data", str(tmp_path / "none"), "--systems", "ScPt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"qcrobust: bad input: {tmp_path}/none/ScPt/decorations.csv: file not found "
        "(--data names the shipped data folder, data/default of a qcrobust checkout)"
    ]
