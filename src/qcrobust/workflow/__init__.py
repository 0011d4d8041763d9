"""The seam between Snakemake and the library: the only code that knows Snakemake.

Every input function, target list, rule param and script-side decoder of the rules lives here,
one module per stage (``rules/<stage>.smk`` imports ``qcrobust.workflow.<stage>``): which files a
rule reads (paths from :mod:`qcrobust.layout`), keyed collections of rule inputs (one codec,
:mod:`.keyed`), a rule's logging (:mod:`.scripting`). The domain modules -- screening, metrics,
noise statistics, hull, descriptors, models, evaluation, candidates, report tables -- import
neither snakemake nor the path layout (tests/test_layout.py checks it): they take tables and
paths handed to them.

- :mod:`.config`: config files snakemake merged, the checkout's root for conda envs;
- :mod:`.data`, :mod:`.features`, :mod:`.classical`, :mod:`.allegro`, :mod:`.predict`,
  :mod:`.evaluate`, :mod:`.report`, :mod:`.default_data`: the stages' inputs and targets;
- :mod:`.keyed`: keyed collections as named rule inputs;
- :mod:`.scripting`: a rule script's logging, and its inputs as lists.
"""

from __future__ import annotations

from collections.abc import Mapping

# config object id -> (the config, its Study): the config is kept, so its id cannot be reused
_STUDIES: dict[int, tuple[Mapping, object]] = {}


def study_of(config: Mapping):
    """The :class:`qcrobust.study.Study` of the validated ``config``, built once per config
    object (every rules file asks for it instead of reading another file's global)."""
    from qcrobust.study import Study

    cached = _STUDIES.get(id(config))
    if cached is None or cached[0] is not config:
        cached = _STUDIES[id(config)] = (config, Study.from_config(config))
    return cached[1]


def all_targets(study) -> list[str]:
    """The final outputs of every stage (rule all): data tables, predictions, summaries, report, candidates."""
    from qcrobust.workflow import data, evaluate, predict, report

    return [
        *data.data_targets(study),
        *predict.prediction_targets(study),
        *evaluate.targets(study),
        *report.targets(study),
        *report.candidate_targets(study),
    ]
