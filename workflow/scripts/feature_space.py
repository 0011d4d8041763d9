"""Rule feature_space: the descriptor columns of a system, from all of its structure sets."""

from qcrobust.features import FeatureSettings, Table, feature_space, read_parent
from qcrobust.io import read_frames, write_json
from qcrobust.workflow.scripting import rule_logging

with rule_logging(snakemake):
    parent_path = snakemake.input.get("parent")
    tables = [Table(name, path, read_frames(path)) for name, path in snakemake.input.items() if name != "parent"]
    space = feature_space(tables, FeatureSettings.from_config(snakemake.params.settings), read_parent(parent_path), parent_path or "parent")
    write_json(space.to_json(), snakemake.output.space)
