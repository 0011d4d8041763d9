# Stage 'predict': one rule for every family. A saved model (rules/classical.smk,
# rules/allegro.smk) predicts one prediction set -- test, inference or audit -- to
# results/{system}/{family}/{model}/limit_{limit}/seed_{seed}/pred_{set}.csv. See src/qcrobust/predict.py.
from qcrobust import predict as prediction
from qcrobust.allegro.workflow import gpu_resources


rule predict:
    input:
        unpack(partial(prediction.prediction_inputs, STUDY)),
    output:
        predictions=L.PREDICTIONS,
    log:
        L.log("{system}/{family}/{model}/limit_{limit}_seed_{seed}_predict_{set}"),
    wildcard_constraints:
        set="|".join(PREDICTION_SETS),
    conda:
        "../envs/qcrobust.yaml"
    # one thread: predictions do not depend on the core count (as in training)
    threads: 1
    resources:
        **gpu_resources(config, prediction.gpus),
    params:
        device=ALLEGRO["device"],
    script:
        "../workflow/scripts/predict.py"


TARGET_FUNCTIONS.append(partial(prediction.prediction_targets, STUDY))
