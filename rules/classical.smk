# Stage 'classical' (issue 5): RandomForest, XGBoost, LightGBM, CatBoost behind one scikit-learn
# pipeline; per (system, model, limit) K-fold CV over the limit's train+val rows. Each training
# writes model.joblib (the fold models) and metrics.json to its model folder; rule predict
# (rules/predict.smk) averages the fold models' predictions of each prediction set.
# See src/qcrobust/classical.py.
from functools import partial

from qcrobust import layout as L
from qcrobust.classical import MODELS as CLASSICAL_MODELS
from qcrobust.workflow import classical as classical_stage
from qcrobust.workflow import study_of

STUDY = study_of(config)


rule classical_train:
    input:
        unpack(partial(classical_stage.train_inputs, STUDY)),
    output:
        **L.trained_files(L.path(L.MODEL_DIR, family="classical"), family="classical"),
    log:
        L.log("{system}/classical/{model}/limit_{limit}_seed_{seed}"),
    benchmark:
        L.benchmark("{system}/classical/{model}/limit_{limit}_seed_{seed}")
    wildcard_constraints:
        model="|".join(CLASSICAL_MODELS),
    conda:
        "../envs/qcrobust.yaml"
    # one thread per fit: two jobs share two cores better than one job with two threads, and
    # predictions then do not depend on the core count (profiles may raise it)
    threads: 1
    params:
        settings=partial(classical_stage.model_settings, config),
    script:
        "../workflow/scripts/classical_train.py"
