# Stage 'predict': one job per (system, family, model) and set group. Rule predict writes the
# test and inference predictions of every trained (limit, seed) of the model, rule predict_audit
# the audit predictions of its base seed: results/{system}/{family}/{model}/predictions_{set}.csv
# (columns limit, seed, id, y_pred). Each job reads its sets once and loads each model once; an
# audit edit re-predicts the audit tables only, an inference edit the predict jobs, neither retrains.
# See src/qcrobust/predict.py.
from qcrobust import predict as prediction
from qcrobust.allegro.workflow import gpu_resources


rule predict:
    input:
        unpack(partial(prediction.prediction_inputs, STUDY)),
    output:
        **{name: L.path(L.PREDICTIONS, set=name) for name in prediction.SCREENING_SETS},
    log:
        L.log("{system}/{family}/{model}/predict"),
    conda:
        "../envs/qcrobust.yaml"
    # one thread: predictions do not depend on the core count (as in training)
    threads: 1
    resources:
        **gpu_resources(config, prediction.gpus),
    params:
        device=config["allegro"]["device"],
    script:
        "../workflow/scripts/predict.py"


use rule predict as predict_audit with:
    input:
        unpack(partial(prediction.audit_prediction_inputs, STUDY)),
    output:
        audit=L.path(L.PREDICTIONS, set="audit"),
    log:
        L.log("{system}/{family}/{model}/predict_audit"),


TARGET_FUNCTIONS.append(partial(prediction.prediction_targets, STUDY))
