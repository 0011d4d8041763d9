"""Rule consensus: on the audit set, are structures selected by most screens right more often than a single screen's?"""

from qcrobust.candidates import consensus_precision
from qcrobust.io import read_csv, write_csv
from qcrobust.scripting import rule_logging

with rule_logging(snakemake) as log:
    table = read_csv(snakemake.input.candidates, required=["mode", "share_selected", "n_screens", "truly_selected"],
                     dtype={"id": str, "mode": str, "truly_selected": str}, keep_default_na=False)
    result = consensus_precision(table)
    log.info("\n%s", result.to_string(index=False))
    write_csv(result, snakemake.output.consensus)
