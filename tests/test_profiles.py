"""The Slurm profiles give every rule that can run longer than a minute its own time and memory,
judged by the default study's measured job times (bench/rule_job_seconds.csv, written by
bench/e2e.py) and by the rules that the default study does not run but that run long by design."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from conftest import REPO

PROFILES = ("slurm", "slurm-cpu")
MEASURED = REPO / "bench" / "rule_job_seconds.csv"
# jobs longer than this (seconds, on the 2-core benchmark machine) need their own resources
LONG = 60.0
# a cluster core can be slower than the benchmark's, and a node shared: the runtime asked for
# is at least this many times the longest job measured
MARGIN = 3.0
# rules the default study does not run (its labels are shipped) that run for minutes to hours
LONG_BY_DESIGN = {
    "default_label_shard": "CHGNet relaxations of a 50-structure shard",
    "default_parent": "the parent's relaxation",
    "default_competing_phases": "the competing phases' relaxations",
    "default_crosscheck": "CHGNet and SevenNet on a sample",
    "allegro_pretrain": "pretraining on the external corpus (the default study's, and a fetched one's)",
}


def _workflow_rules() -> set[str]:
    text = "\n".join(p.read_text() for p in sorted((REPO / "rules").glob("*.smk")))
    defined = re.findall(r"^(?:local)?rule (\w+):", text, flags=re.MULTILINE)
    derived = re.findall(r"^use rule \w+ as (\w+)", text, flags=re.MULTILINE)  # `use rule a as b with:`
    return set(defined) | set(derived)


def _measured() -> pd.DataFrame:
    return pd.read_csv(MEASURED, comment="#")


def test_the_measured_rules_are_the_workflows():
    measured = _measured()
    stale = set(measured["rule"]) - _workflow_rules() - {"all"}
    assert not stale, f"{MEASURED.name} names rules the workflow no longer has: rerun bench/e2e.py --rule-seconds"
    assert len(measured) > 20 and (measured["max_s"] >= measured["median_s"]).all()


@pytest.mark.parametrize("profile", PROFILES)
def test_every_long_rule_has_resources_in_each_slurm_profile(profile):
    settings = yaml.safe_load((REPO / "profiles" / profile / "config.yaml").read_text())
    given = settings.get("set-resources") or {}
    measured = _measured().set_index("rule")["max_s"]
    long_rules = {rule: f"up to {seconds:.0f} s in the default study" for rule, seconds in measured.items() if seconds > LONG}
    long_rules |= LONG_BY_DESIGN
    assert set(LONG_BY_DESIGN) <= _workflow_rules()
    missing = sorted(rule for rule in long_rules if not {"runtime", "mem_mb"} <= set(given.get(rule, {})))
    assert not missing, f"profiles/{profile}: no runtime/mem_mb for {', '.join(f'{r} ({long_rules[r]})' for r in missing)}"
    short = {
        rule: given[rule]["runtime"] for rule in measured.index if rule in given and given[rule]["runtime"] * 60 < MARGIN * measured[rule]
    }
    assert not short, f"profiles/{profile}: runtime (minutes) under {MARGIN:g}x the longest measured job: {short}"
    assert set(given) <= _workflow_rules(), f"profiles/{profile} sets resources of rules the workflow lacks"
    default = settings["default-resources"]["runtime"] * 60
    assert (measured[~measured.index.isin(list(given))] * MARGIN <= default).all(), "a rule on the default runtime runs too close to it"
