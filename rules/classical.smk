# Stage 'classical' (issue 5): RandomForest, XGBoost, LightGBM, CatBoost behind one scikit-learn
# pipeline; per (system, model, limit) K-fold CV over the limit's train+val rows, fold predictions
# averaged. Outputs per results/{system}/classical/{model}/limit_{limit}/: pred_test.csv,
# pred_inference.csv (+ pred_audit.csv), metrics.json, model.joblib. See src/qcrobust/classical.py.
from functools import partial

from qcrobust import classical
from qcrobust.evaluate import system_regex


rule classical_train:
    input:
        unpack(partial(classical.train_inputs, config)),
        # the limit subsets' checks come first; ancient: a new limit in that table retrains nothing
        checked=ancient("results/{system}/limit_sizes.csv"),
    output:
        pred_test="results/{system}/classical/{model}/limit_{limit}/pred_test.csv",
        pred_inference="results/{system}/classical/{model}/limit_{limit}/pred_inference.csv",
        metrics="results/{system}/classical/{model}/limit_{limit}/metrics.json",
        model="results/{system}/classical/{model}/limit_{limit}/model.joblib",
    log:
        "logs/{system}/classical/{model}/limit_{limit}.log",
    benchmark:
        "benchmarks/{system}/classical/{model}/limit_{limit}.tsv"
    wildcard_constraints:
        model="|".join(classical.MODELS),
        # systems without an audit set (classical_train_audit below takes the others)
        system=system_regex(config, audit=False),
    conda:
        "../envs/qcrobust.yaml"
    # one thread per fit: two jobs share two cores better than one job with two threads, and
    # predictions then do not depend on the core count (profiles may raise it)
    threads: 1
    params:
        settings=partial(classical.model_settings, config),
    script:
        "../workflow/scripts/classical_train.py"


use rule classical_train as classical_train_audit with:
    output:
        pred_test="results/{system}/classical/{model}/limit_{limit}/pred_test.csv",
        pred_inference="results/{system}/classical/{model}/limit_{limit}/pred_inference.csv",
        metrics="results/{system}/classical/{model}/limit_{limit}/metrics.json",
        model="results/{system}/classical/{model}/limit_{limit}/model.joblib",
        pred_audit="results/{system}/classical/{model}/limit_{limit}/pred_audit.csv",
    wildcard_constraints:
        model="|".join(classical.MODELS),
        system=system_regex(config, audit=True),


TARGET_FUNCTIONS.append(partial(classical.targets, config))
