"""Rule features: the descriptor table of one structure set of a system, in its feature space."""

import json
from pathlib import Path

from qcrobust.features import FeatureSpace, Table, feature_table, read_parent, write_features
from qcrobust.io import read_frames
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    space = FeatureSpace.from_json(json.loads(Path(snakemake.input.space).read_text()), snakemake.input.space)
    parent_path = snakemake.input.get("parent")
    table = Table(snakemake.wildcards.set, snakemake.input.structures, read_frames(snakemake.input.structures))
    write_features(feature_table(space, table, read_parent(parent_path), parent_path or "parent"), snakemake.output.table)
