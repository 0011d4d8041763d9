# The checks before any rule: config files, config validation (with the schema's defaults),
# what the datasets' frame headers decide; and the wildcards every rule shares. A study is the
# folder snakemake runs in (--directory): its config.yaml, results/, logs/ and benchmarks/; data
# paths in the config are relative to it. Every path the workflow writes is named in
# src/qcrobust/layout.py; every input function, target list and rule param lives in
# src/qcrobust/workflow/ (one module per rules file, each file imports what it uses).
import os

from snakemake.logging import logger

from qcrobust.config import validate_config
from qcrobust.layout import DEFAULT_DATA_PREFIX
from qcrobust.startup import check_study
from qcrobust.study import FAMILIES, PREDICTION_SETS
from qcrobust.workflow import study_of
from qcrobust.workflow.config import check_config_files, export_workflow_root

CONFIG_SOURCE = ", ".join(map(os.path.abspath, workflow.configfiles)) or "config"
check_config_files(config, workflow.configfiles, workflow.overwrite_configfiles)
validate_config(config, source=CONFIG_SOURCE)
# what the config and the datasets' frame headers decide, before any job (the main process only:
# a cluster job re-reads the Snakefile, and its run was checked when it was planned)
if workflow.is_main_process:
    for warning in check_study(config, CONFIG_SOURCE, DEFAULT_DATA_PREFIX):
        logger.warning(f"qcrobust: warning: {warning}")
# envs/qcrobust.yaml installs this checkout through ${QCROBUST_ROOT}
export_workflow_root(workflow.basedir)


wildcard_constraints:
    system=study_of(config).system_regex(),
    limit=r"\d+",
    seed=r"\d+",
    family="|".join(FAMILIES),
    set="|".join(PREDICTION_SETS + ("dataset",)),
