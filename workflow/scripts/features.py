"""Rule features / features_audit: descriptor tables of a system's structures (one per input file)."""

from qcrobust.features import FeatureSettings, Table, compute_features, write_features
from qcrobust.io import read_frames
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    settings = FeatureSettings.from_config(snakemake.params.settings)
    tables = [Table(name, path, read_frames(path)) for name, path in snakemake.input.items() if name != "parent"]
    parent = None
    if "parent" in snakemake.input.keys():
        frames = read_frames(snakemake.input.parent)
        if len(frames) != 1:
            log.warning("%s holds %d frames; the first is the parent", snakemake.input.parent, len(frames))
        parent = frames[0]
    parent_path = snakemake.input.get("parent", "parent")
    features = compute_features(tables, settings, parent, parent_path)
    for name, table in features.items():
        write_features(table, snakemake.output[name])
