# Stage 'features' (issue 5): descriptor tables of the classical family. The column set of a system
# comes from all of its structure sets (rule feature_space), each set's table from its own job.
# See src/qcrobust/features.py.
from functools import partial

from qcrobust import layout as L
from qcrobust.workflow import features as feature_stage
from qcrobust.workflow import study_of

STUDY = study_of(config)


rule feature_space:
    input:
        unpack(partial(feature_stage.space_inputs, STUDY)),
    output:
        space=L.FEATURE_SPACE,
    log:
        L.log("{system}/feature_space"),
    conda:
        "../envs/qcrobust.yaml"
    params:
        settings=config["features"],
    script:
        "../workflow/scripts/feature_space.py"


rule features:
    input:
        unpack(partial(feature_stage.table_inputs, STUDY)),
    output:
        table=L.FEATURES,
    log:
        L.log("{system}/features_{set}"),
    benchmark:
        L.benchmark("{system}/features_{set}")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    script:
        "../workflow/scripts/features.py"
