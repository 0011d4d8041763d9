from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError

from qcrobust.config import check_limits, load_config
from qcrobust.errors import InputError

REPO = Path(__file__).resolve().parents[1]

MINIMAL = {"systems": {"CuPt": {"dataset": "d.extxyz", "inference": "i.extxyz"}}}


def write(tmp_path, config):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_schema_fills_nested_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config["limits"] == list(range(0, 25, 2))
    assert config["split"] == {"test_size": 63, "val_fraction": 0.1, "seed": 2024}
    assert config["target"] == "e_above_hull" and config["defect_step"] == 2


def test_default_config_is_valid():
    config = load_config(REPO / "config.yaml")
    assert set(config["systems"]) == {"ScPt", "ScPd", "ScIr", "ScRh"}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"split": {"test_size": "many"}}, r"'many' is not of type 'integer'[\s\S]*\['split'\]\['test_size'\]"),
        ({"limitz": [0, 2]}, r"'limitz' was unexpected"),
        ({"target": "energy"}, r"'energy' is not one of"),
        ({"limits": [0, "2"]}, r"'2' is not of type 'integer'"),
        ({"systems": {"CuPt": {"dataset": "d.extxyz"}}}, r"'inference' is a required property"),
    ],
)
def test_schema_errors_name_the_key(tmp_path, change, message):
    with pytest.raises(WorkflowError, match=message):
        load_config(write(tmp_path, {**MINIMAL, **change}))


@pytest.mark.parametrize(
    "limits, message",
    [([0, 4, 2], "must be strictly increasing, but 2 follows 4"), ([0, 2, 2], "but 2 follows 2"), ([], "non-empty")],
)
def test_limit_grid_must_increase(limits, message):
    with pytest.raises(InputError, match=f"key 'limits': .*{message}"):
        check_limits(limits)
