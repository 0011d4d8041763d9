# Stage 'predict': one job per (system, family, model) and set group. Rule predict writes the
# test and inference predictions of every trained (limit, seed) of the model, rule predict_audit
# the audit predictions of its base seed: results/{system}/{family}/{model}/predictions_{set}.csv
# (columns limit, seed, id, y_pred). Each job reads its sets once and loads each model once; an
# audit edit re-predicts the audit tables only, an inference edit the predict jobs, neither retrains.
# See src/qcrobust/predict.py.
from functools import partial

from qcrobust import layout as L
from qcrobust.predict import SCREENING_SETS
from qcrobust.workflow import predict as predict_stage
from qcrobust.workflow import study_of
from qcrobust.workflow.allegro import gpu_resources

STUDY = study_of(config)


rule predict:
    input:
        unpack(partial(predict_stage.prediction_inputs, STUDY)),
    output:
        **{name: L.path(L.PREDICTIONS, set=name) for name in SCREENING_SETS},
    log:
        L.log("{system}/{family}/{model}/predict"),
    conda:
        "../envs/qcrobust.yaml"
    # one thread: predictions do not depend on the core count (as in training)
    threads: 1
    resources:
        **gpu_resources(config, predict_stage.gpus),
    params:
        device=config["allegro"]["device"],
    script:
        "../workflow/scripts/predict.py"


use rule predict as predict_audit with:
    input:
        unpack(partial(predict_stage.audit_prediction_inputs, STUDY)),
    output:
        audit=L.path(L.PREDICTIONS, set="audit"),
    log:
        L.log("{system}/{family}/{model}/predict_audit"),
