# qcrobust: robustness of ML screening of disordered crystals to the choice of training data.
# One .smk per stage under rules/; all logic lives in src/qcrobust.
from snakemake.utils import min_version

min_version("9.0")

# a study folder's config.yaml that is not YAML: name its line and column (snakemake would not)
from qcrobust.startup import check_yaml

check_yaml("config.yaml")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/default_data.smk"
include: "rules/data.smk"
include: "rules/features.smk"
include: "rules/classical.smk"
include: "rules/allegro.smk"
include: "rules/predict.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


from qcrobust.workflow import all_targets, study_of


rule all:
    default_target: True
    input:
        all_targets(study_of(config)),
