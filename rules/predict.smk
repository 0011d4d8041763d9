# Stage 'predict': one rule for every family. A saved model (rules/classical.smk,
# rules/allegro.smk) predicts one prediction set -- test, inference or audit -- to
# results/{system}/{family}/{model}/limit_{limit}/seed_{seed}/pred_{set}.csv. See src/qcrobust/predict.py.
# A replica seed predicts test and inference in one job (rule predict_replica).
from qcrobust import predict as prediction
from qcrobust.allegro.workflow import gpu_resources
from qcrobust.study import REPLICA_PREDICTION_SETS


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


# A replica (a seed other than its family's base seed) is read for its test and inference
# predictions together (noise tables, candidates), so one job writes both: one interpreter and one
# model load instead of two (for Allegro ~4.5 of a test prediction's ~5.5 s are imports). The same
# tables as rule predict's, byte for byte (tests/test_replicas_workflow.py).
rule predict_replica:
    input:
        unpack(partial(prediction.replica_prediction_inputs, STUDY)),
    output:
        **{name: L.path(L.PREDICTIONS, set=name) for name in REPLICA_PREDICTION_SETS},
    log:
        L.log("{system}/{family}/{model}/limit_{limit}_seed_{seed}_predict_replica"),
    wildcard_constraints:
        seed=STUDY.replica_seed_regex(),
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    resources:
        **gpu_resources(config, prediction.gpus),
    params:
        device=ALLEGRO["device"],
    script:
        "../workflow/scripts/predict_replica.py"


# a seed that is one family's base seed and another's replica seed goes here too: same files
ruleorder: predict_replica > predict


TARGET_FUNCTIONS.append(partial(prediction.prediction_targets, STUDY))
