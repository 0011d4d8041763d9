# Stage 'allegro' (issue 6): Allegro trained three ways per (system, limit) with nequip's own
# machinery; see src/qcrobust/allegro/__init__.py for the design.
#   scratch   train on the limit's train split, validate on its val split
#   external  fine-tune the model pretrained once on the external corpus
#   self      pretrain on the limit's structures with A5 defects, fine-tune on limit 0
#             (at limit 0 there is nothing to pretrain on: self = scratch, copied)
# Outputs per model: results/{system}/allegro/{model}/limit_{limit}/{pred_test,pred_inference,
# pred_audit}.csv, metrics.json, model.nequip.zip.
from functools import partial

from qcrobust.allegro import workflow as allegro

ALLEGRO = config["allegro"]
# the limits and models Allegro trains (the evaluation rules read these too)
ALLEGRO_LIMITS = allegro.allegro_limits(config)
ALLEGRO_MODELS = list(ALLEGRO["models"])
ALLEGRO_TRAINING = allegro.training_settings(config)
ALLEGRO_THREADS = allegro.threads(config)
ALLEGRO_GPU = allegro.gpu_resources(config)


rule allegro_data:
    input:
        dataset="results/{system}/dataset.extxyz",
        splits="results/{system}/splits.csv",
        # the limit subsets' checks (rule limit_sizes) come first; ancient: a new limit retrains nothing
        checked=ancient("results/{system}/limit_sizes.csv"),
    output:
        train="results/{system}/allegro_data/limit_{limit}/train.extxyz",
        val="results/{system}/allegro_data/limit_{limit}/val.extxyz",
        test="results/{system}/allegro_data/limit_{limit}/test.extxyz",
    log:
        "logs/{system}/allegro/data_limit_{limit}.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
    script:
        "../workflow/scripts/allegro_data.py"


rule allegro_self_data:
    input:
        dataset="results/{system}/dataset.extxyz",
        splits="results/{system}/splits.csv",
        checked=ancient("results/{system}/limit_sizes.csv"),
    output:
        pretrain_train="results/{system}/allegro_data/limit_{limit}/pretrain_train.extxyz",
        pretrain_val="results/{system}/allegro_data/limit_{limit}/pretrain_val.extxyz",
    log:
        "logs/{system}/allegro/self_data_limit_{limit}.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
    script:
        "../workflow/scripts/allegro_data.py"


rule allegro_species:
    input:
        dataset="results/{system}/dataset.extxyz",
    output:
        species="results/{system}/allegro_data/species.json",
    log:
        "logs/{system}/allegro/species.log",
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/allegro_data.py"


rule allegro_corpus:
    input:
        species=partial(allegro.corpus_inputs, config),
    output:
        corpus="results/allegro_pretrain/corpus.extxyz",
    log:
        "logs/allegro_pretrain/corpus.log",
    benchmark:
        "benchmarks/allegro_pretrain/corpus.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        pretrain=ALLEGRO["pretrain"],
    script:
        "../workflow/scripts/allegro_corpus.py"


rule allegro_pretrain:
    input:
        corpus=allegro.corpus_path(config),
    output:
        train="results/allegro_pretrain/train.extxyz",
        val="results/allegro_pretrain/val.extxyz",
        model="results/allegro_pretrain/model.nequip.zip",
        metrics="results/allegro_pretrain/metrics.json",
    log:
        "logs/allegro_pretrain/pretrain.log",
    benchmark:
        "benchmarks/allegro_pretrain/pretrain.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: ALLEGRO_THREADS
    resources:
        **ALLEGRO_GPU,
    params:
        settings=ALLEGRO_TRAINING | {"pretrain": ALLEGRO["pretrain"]},
        run_dir="results/allegro_pretrain/run",
    script:
        "../workflow/scripts/allegro_pretrain.py"


rule allegro_self_pretrain:
    input:
        train="results/{system}/allegro_data/limit_{limit}/pretrain_train.extxyz",
        val="results/{system}/allegro_data/limit_{limit}/pretrain_val.extxyz",
        species="results/{system}/allegro_data/species.json",
    output:
        model="results/{system}/allegro/self/limit_{limit}/pretrain/model.nequip.zip",
        metrics="results/{system}/allegro/self/limit_{limit}/pretrain/metrics.json",
    log:
        "logs/{system}/allegro/self/limit_{limit}_pretrain.log",
    benchmark:
        "benchmarks/{system}/allegro/self/limit_{limit}_pretrain.tsv"
    conda:
        "../envs/qcrobust.yaml"
    threads: ALLEGRO_THREADS
    resources:
        **ALLEGRO_GPU,
    params:
        settings=ALLEGRO_TRAINING,
        run_dir="results/{system}/allegro/self/limit_{limit}/pretrain/run",
    script:
        "../workflow/scripts/allegro_pretrain.py"


rule allegro_train:
    input:
        unpack(partial(allegro.train_inputs, config)),
    output:
        model="results/{system}/allegro/{model}/limit_{limit}/model.nequip.zip",
        pred_test="results/{system}/allegro/{model}/limit_{limit}/pred_test.csv",
        pred_inference="results/{system}/allegro/{model}/limit_{limit}/pred_inference.csv",
        metrics="results/{system}/allegro/{model}/limit_{limit}/metrics.json",
    log:
        "logs/{system}/allegro/{model}/limit_{limit}.log",
    benchmark:
        "benchmarks/{system}/allegro/{model}/limit_{limit}.tsv"
    wildcard_constraints:
        model="scratch|external|self",
        # systems without an audit set (allegro_train_audit below takes the others)
        system=allegro.system_regex(config, audit=False),
    conda:
        "../envs/qcrobust.yaml"
    threads: ALLEGRO_THREADS
    resources:
        **ALLEGRO_GPU,
    params:
        settings=ALLEGRO_TRAINING,
        target=config["target"],
        run_dir="results/{system}/allegro/{model}/limit_{limit}/run",
    script:
        "../workflow/scripts/allegro_train.py"


use rule allegro_train as allegro_train_audit with:
    output:
        model="results/{system}/allegro/{model}/limit_{limit}/model.nequip.zip",
        pred_test="results/{system}/allegro/{model}/limit_{limit}/pred_test.csv",
        pred_inference="results/{system}/allegro/{model}/limit_{limit}/pred_inference.csv",
        metrics="results/{system}/allegro/{model}/limit_{limit}/metrics.json",
        pred_audit="results/{system}/allegro/{model}/limit_{limit}/pred_audit.csv",
    wildcard_constraints:
        model="scratch|external|self",
        system=allegro.system_regex(config, audit=True),


TARGET_FUNCTIONS.append(partial(allegro.targets, config))
