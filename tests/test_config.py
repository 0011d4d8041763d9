from pathlib import Path

import pytest
import yaml

from qcrobust.config import check_limits, load_config
from qcrobust.errors import InputError
from qcrobust.workflow.config import check_config_files

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
    "change, record, problem",
    [
        ({"split": {"test_size": "many"}}, "key 'split.test_size'", "'many' is not of type 'integer'"),
        ({"limitz": [0, 2]}, "key 'limitz'", "unknown key; did you mean 'limits'?"),
        ({"classical": {"foldz": 3}}, "key 'classical.foldz'", "unknown key; did you mean 'folds'?"),
        ({"zzz": 1}, "key 'zzz'", "unknown key; known keys here: systems, target, defect_step, limits,"),
        ({"systems": {"Cu Pt": MINIMAL["systems"]["CuPt"]}}, "key 'systems.Cu Pt'", "name must match ^[A-Za-z0-9_-]+$"),
        ({"target": "energy"}, "key 'target'", "'energy' is not one of"),
        ({"limits": [0, "2"]}, "key 'limits.1'", "'2' is not of type 'integer'"),
        ({"systems": {"CuPt": {"dataset": "d.extxyz"}}}, "key 'systems.CuPt'", "'inference' is a required property"),
    ],
)
def test_schema_errors_are_one_line_naming_file_and_key(tmp_path, change, record, problem):
    path = write(tmp_path, {**MINIMAL, **change})
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {record}: {problem}")
    assert "\n" not in str(err.value) and len(str(err.value)) < 300  # not jsonschema's dump of the schema


@pytest.mark.parametrize(
    "change, message",
    [
        ({"limits": [0, 3, 6]}, "key 'limits': 3 is not a multiple of defect_step = 2"),
        ({"limits": [0, 4, 6], "defect_step": 4}, "key 'limits': 6 is not a multiple of defect_step = 4"),
        ({"limits": [0, 2, 4], "allegro": {"limits": [2, 8]}}, "key 'allegro.limits': [8] not in 'limits' [0, 2, 4]"),
        ({"limits": [0, 2, 4], "verdicts": {"pairs": [[0, 6]]}}, "key 'verdicts.pairs': [0, 6]: a pair is [i, j] of two limits with i < j"),
        ({"limits": [0, 2, 4], "verdicts": {"pairs": [[4, 0]]}}, "key 'verdicts.pairs': [4, 0]: a pair is [i, j]"),
    ],
)
def test_cross_field_errors_name_the_config_file_and_key(tmp_path, change, message):
    path = write(tmp_path, {**MINIMAL, **change})
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_limits_that_are_multiples_of_defect_step_pass(tmp_path):
    assert load_config(write(tmp_path, {**MINIMAL, "limits": [0, 3, 9], "defect_step": 3}))["limits"] == [0, 3, 9]


def test_a_configfile_that_extends_another_study_is_refused(tmp_path):
    """From the repository root, `--configfile mine.yaml` extends the default study's config.yaml:
    the run would hold both studies' systems."""
    own = (tmp_path / "config.yaml").absolute()
    own.write_text(yaml.safe_dump({"systems": {"ScPt": {}, "ScPd": {}}}))
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(MINIMAL))
    merged = {"systems": {"ScPt": {}, "ScPd": {}, "CuPt": {}}}
    with pytest.raises(InputError) as err:
        check_config_files(merged, [own, mine], [mine])
    message = str(err.value)
    assert message.startswith(f"{mine}: key 'systems': --configfile extends {own}, which adds the systems ['ScPt', 'ScPd']")
    assert "snakemake --directory <folder>" in message
    # an overlay without systems (config/allegro-gpu.yaml), or the folder's own file given again, is fine
    overlay = tmp_path / "allegro-gpu.yaml"
    overlay.write_text(yaml.safe_dump({"allegro": {"device": "cuda"}}))
    check_config_files(merged, [own, overlay], [overlay])
    check_config_files({"systems": {"ScPt": {}, "ScPd": {}}}, [own, own], [own])
    check_config_files({"systems": {"CuPt": {}}}, [mine], [mine])


@pytest.mark.parametrize(
    "limits, message",
    [([0, 4, 2], "must be strictly increasing, but 2 follows 4"), ([0, 2, 2], "but 2 follows 2"), ([], "non-empty")],
)
def test_limit_grid_must_increase(limits, message):
    with pytest.raises(InputError, match=f"key 'limits': .*{message}"):
        check_limits(limits)


def test_verdicts_default_to_alpha_005_every_pair_and_the_papers_models(tmp_path):
    verdicts = load_config(write(tmp_path, MINIMAL))["verdicts"]
    assert verdicts == {
        "alpha": 0.05,
        "pairs": None,
        "stability_model": "rf",
        "jaccard_high": 0.8,
        "reference": "scratch",
        "self_pretrained": "self",
        "pretrained": ["external", "self"],
    }
