"""One path layout (qcrobust.layout) and one study object (qcrobust.study)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qcrobust import layout
from qcrobust.config import load_config, schema_defaults, validate_config
from qcrobust.evaluate import EvaluationSettings
from qcrobust.features import FeatureSettings
from qcrobust.study import Study
from qcrobust.synthetic import make_study
from qcrobust.workflow.predict import decode_inputs, prediction_inputs, prediction_targets

REPO = Path(__file__).resolve().parents[1]
# a path string of the study folder in code: "results/..., f"logs/..., 'benchmarks/...
PATH_LITERAL = re.compile(r"""(?:^|[^\w`])[rf]?["'](?:results|logs|benchmarks)/""")


def code_files() -> list[Path]:
    files = [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk")), *sorted((REPO / "workflow" / "scripts").glob("*.py"))]
    return files + sorted((REPO / "src" / "qcrobust").rglob("*.py"))


def test_no_output_path_is_written_outside_the_layout_module():
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in code_files()
        if path.name != "layout.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PATH_LITERAL.search(line) and not line.lstrip().startswith("#")
    ]
    assert found == []
    # the guard sees a path literal when there is one
    assert PATH_LITERAL.search('x = f"results/{system}/splits.csv"') and PATH_LITERAL.search("'logs/a.log'")
    assert not PATH_LITERAL.search("``results/`` the workflow writes")


# what may know Snakemake and the path layout: the seam (qcrobust.workflow), the layout itself,
# the start-up checks that run in snakemake's main process (they name config paths under the
# default data's folder) and the synthetic study builder of the tests and benchmarks
SEAM = ("workflow/", "layout.py", "startup.py", "synthetic.py")
IMPORTS_SNAKEMAKE = re.compile(r"^\s*(?:from|import) snakemake\b", re.MULTILINE)
IMPORTS_LAYOUT = re.compile(
    r"^\s*(?:from qcrobust import [^\n]*\blayout\b|from qcrobust\.layout import|import qcrobust\.layout)", re.MULTILINE
)


def test_only_the_seam_knows_snakemake_and_the_path_layout():
    src = REPO / "src" / "qcrobust"
    offenders = {
        str(path.relative_to(src)): [
            kind for kind, pattern in (("snakemake", IMPORTS_SNAKEMAKE), ("layout", IMPORTS_LAYOUT)) if pattern.search(text)
        ]
        for path in sorted(src.rglob("*.py"))
        if not str(path.relative_to(src)).startswith(SEAM)
        for text in [path.read_text()]
    }
    assert {name: kinds for name, kinds in offenders.items() if kinds} == {}
    # the guard sees such an import when there is one
    assert IMPORTS_SNAKEMAKE.search("    from snakemake.io import ancient") and IMPORTS_LAYOUT.search("from qcrobust import keyed, layout")


def test_rules_files_read_no_global_of_another_rules_file():
    """Each rules file defines or imports the module-level names it uses (snakemake runs them all
    in one namespace, so a name another file defines would work until that file changes): the
    constants and objects (``STUDY``, ``L``, ``ALLEGRO``...) and the modules it calls into."""
    for path in sorted((REPO / "rules").glob("*.smk")):
        text = path.read_text()
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        # a name not reached through an attribute (STUDY.x, L.path, report_stage.f, ALLEGRO["x"]), outside imports
        body = re.sub(r"^(?:from \S+ )?import (?:\([^)]*\)|[^\n]*)", "", code, flags=re.MULTILINE)
        body = re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", '""', body)  # text in strings is no name
        used = set(re.findall(r"(?<![\w.])([A-Z][A-Z0-9_]*|[a-z_]+_stage|evaluation|allegro)\.", body))
        used |= set(re.findall(r"(?<![\w.])([A-Z][A-Z0-9_]{2,})\b", body))
        defined = set(re.findall(r"^([A-Za-z_]\w*) = ", code, flags=re.MULTILINE))
        defined |= set(re.findall(r"^def (\w+)", code, flags=re.MULTILINE))
        for names in re.findall(r"^(?:from \S+ )?import \(?([^)\n]*(?:\n[^)\n]*)*?)\)?$", code, flags=re.MULTILINE):
            defined |= {part.split(" as ")[-1].strip() for part in names.replace("\n", ",").split(",") if part.strip()}
        missing = sorted(used - defined)
        assert missing == [], f"{path.name} uses names that another file defines: {missing}"
    # the check sees such a use: evaluate.smk without its own STUDY
    text = (REPO / "rules" / "evaluate.smk").read_text()
    assert "STUDY = study_of(config)" in text and "STUDY." in text


def test_path_fills_the_named_wildcards_and_keeps_the_others():
    assert layout.path(layout.PREDICTIONS, family="allegro", set="test") == "results/{system}/allegro/{model}/predictions_test.csv"
    full = layout.path(layout.PREDICTIONS, system="ScPt", family="classical", model="rf", set="audit")
    assert full == "results/ScPt/classical/rf/predictions_audit.csv"
    assert list(layout.matches(layout.PREDICTIONS, full)) == ["system", "family", "model", "set"]
    assert layout.model_file("classical", system="S", model="rf", limit=0, seed=0) == "results/S/classical/rf/limit_0/seed_0/model.joblib"
    assert layout.log("{system}/split", system="S") == "logs/S/split.log"
    assert layout.benchmark("{system}/features_{set}") == "benchmarks/{system}/features_{set}.tsv"


def test_matches_inverts_path_for_relative_and_absolute_paths():
    key = {"system": "ScPt", "family": "allegro", "model": "self", "table": "similarity"}
    relative = layout.path(layout.SUMMARY_TABLE, **key)
    assert layout.matches(layout.SUMMARY_TABLE, relative) == key
    assert layout.matches(layout.SUMMARY_TABLE, f"/tmp/study/{relative}") == key
    assert layout.matches(layout.SUMMARY_TABLE, "results/ScPt/allegro/self/limit_0/seed_0/metrics.json") is None
    assert layout.matches(layout.SUMMARY_TABLE, f"/tmp/not{relative}") is None


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Study:
    config = load_config(make_study(tmp_path_factory.mktemp("layout")))
    del config["systems"]["CuPd"]["audit"]  # one system without an audit set
    return Study.from_config(config)


def test_study_knows_systems_sets_models_and_limits(study):
    assert study.systems == ("CuPt", "CuPd")
    assert study.has_audit("CuPt") and not study.has_audit("CuPd")
    assert study.structure_sets("CuPd") == ("dataset", "inference")
    assert study.families == ("classical", "allegro")
    assert study.models("allegro") == ("scratch", "self") and study.family_limits("allegro") == (0, 8)
    assert study.family_limits("classical") == (0, 2, 4, 6, 8)
    assert study.shared_limits() == [0, 8]
    trained = list(study.trained("CuPt"))
    assert len(trained) == 4 * 5 + 2 * 2  # no replicas configured: one seed per model
    assert {"system": "CuPt", "family": "allegro", "model": "self", "limit": 8, "seed": 0} in trained
    assert study.mode_names == ["below_hull", "window_25meV", "top_5pct"]


def test_a_family_without_models_is_left_out(tmp_path):
    config = load_config(make_study(tmp_path, overrides={"allegro": {"models": []}}))
    study = Study.from_config(config)
    assert study.families == ("classical",) and study.models("allegro") == () and study.shared_limits() == [0, 2, 4, 6, 8]


def test_settings_defaults_are_the_schemas():
    """The library's settings objects take their defaults from the config schema, not their own."""
    assert EvaluationSettings.from_config(None) == EvaluationSettings.from_config(validate_config_blocks())
    features = schema_defaults("features")
    assert FeatureSettings.from_config(None) == FeatureSettings.from_config(features)
    assert FeatureSettings.from_config(None).shells == tuple(features["shells"])
    assert [m.name for m in EvaluationSettings.from_config(None).modes] == [m["name"] for m in schema_defaults("screening")["modes"]]
    assert schema_defaults("similarity") == {"normalizer": "std", "warn_below": 0.002}


def validate_config_blocks() -> dict:
    """The screening and similarity blocks a validated minimal config gets from the schema."""
    config = {"systems": {"S": {"dataset": "d.extxyz", "inference": "i.extxyz", "references": {"Cu": -3.7}}}}
    validated = validate_config(config)
    return {key: validated[key] for key in ("screening", "similarity")}


def test_replicas_give_seeds_at_their_limits_and_models(tmp_path):
    replicas = {"classical": {"seeds": 3, "limits": [0, 8]}, "allegro": {"seeds": 2, "limits": None, "models": ["scratch"]}}
    study = Study.from_config(load_config(make_study(tmp_path, overrides={"replicas": replicas})))
    assert study.base_seed("classical") == 0
    assert study.seeds("classical", "rf", 0) == (0, 1, 2) and study.seeds("classical", "rf", 4) == (0,)
    assert study.replica_limits("classical", "xgb") == (0, 8)
    allegro_seed = study.base_seed("allegro")
    assert study.seeds("allegro", "scratch", 8) == (allegro_seed, allegro_seed + 1)
    assert study.seeds("allegro", "self", 8) == (allegro_seed,) and study.replica_limits("allegro", "self") == ()
    trained = list(study.trained("CuPt"))
    # classical: 4 models x (3 + 1 + 1 + 1 + 3) seeds; allegro: scratch 2 limits x 2 seeds, self 2 limits x 1
    assert len(trained) == 4 * 9 + 2 * 2 + 2
    assert len({tuple(sorted(k.items())) for k in trained}) == len(trained)
    # one prediction job per (system, family, model): every trained (limit, seed) on test and
    # inference; the audit set (both systems have one here) for the base seed
    targets = prediction_targets(study)
    assert len(targets) == 2 * (4 + 2) * 3 and len(set(targets)) == len(targets)
    models, sets = decode_inputs(prediction_inputs(study, _Wildcards(system="CuPt", family="classical", model="rf")))
    assert len(models) == 9 and set(sets) == {"test", "inference"}
    assert models[(8, 2)] == layout.model_file("classical", system="CuPt", model="rf", limit=8, seed=2)
    models, sets = decode_inputs(prediction_inputs(study, _Wildcards(system="CuPt", family="allegro", model="scratch"), ("audit",)))
    assert sorted(models) == [(0, allegro_seed), (8, allegro_seed)] and set(sets) == {"audit"}


class _Wildcards(dict):
    """Snakemake's wildcards as input functions see them: attributes and items()."""

    __getattr__ = dict.__getitem__


def test_replica_limits_must_be_the_familys(tmp_path):
    from qcrobust.errors import InputError

    with pytest.raises(InputError, match=r"key 'replicas.allegro.limits': \[4\] not among the allegro limits \[0, 8\]"):
        load_config(make_study(tmp_path, overrides={"replicas": {"allegro": {"seeds": 3, "limits": [4]}}}))


def test_study_of_builds_one_study_per_config_object(tmp_path):
    from qcrobust.workflow import study_of

    config = load_config(make_study(tmp_path))
    assert study_of(config) is study_of(config)  # every rules file gets the same Study
    other = load_config(make_study(tmp_path / "other", overrides={"limits": [0, 8]}))
    assert study_of(other).family_limits("classical") == (0, 8) and study_of(config).family_limits("classical") == (0, 2, 4, 6, 8)
