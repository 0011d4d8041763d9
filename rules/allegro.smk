# Stage 'allegro' (issue 6): Allegro trained three ways per (system, limit) with nequip's own
# machinery; see src/qcrobust/allegro/__init__.py for the design.
#   scratch   train on the limit's train split, validate on its val split
#   external  fine-tune the model pretrained once on the external corpus (built-in, the user's, or
#             fetched from AFLOW / an OPTIMADE provider), or a published package (allegro.pretrain.package)
#   self      pretrain on the limit's structures with A5 defects, fine-tune on limit 0
#             (at limit 0 there is nothing to pretrain on: self = scratch, copied)
# Each training writes model.nequip.zip and metrics.json to its model folder; rule predict
# (rules/predict.smk) predicts the prediction sets from the saved model.
# Rules with `group:` are short jobs: a cluster run submits several of them at once (the Slurm
# profiles' group-components); a local run ignores groups.
from functools import partial

from qcrobust import layout as L
from qcrobust.workflow import allegro, study_of

STUDY = study_of(config)

ALLEGRO = config["allegro"]
ALLEGRO_TRAINING = allegro.training_settings(config)
ALLEGRO_THREADS = allegro.threads(config)
ALLEGRO_GPU = allegro.gpu_resources(config)


rule allegro_data:
    input:
        dataset=L.path(L.STRUCTURES, set="dataset"),
        splits=L.SPLITS,
        # the limit subsets' checks (rule limit_sizes) come first; ancient: a new limit retrains nothing
        checked=ancient(L.LIMIT_SIZES),
    output:
        train=L.path(L.ALLEGRO_PART, part="train"),
        val=L.path(L.ALLEGRO_PART, part="val"),
    log:
        L.log("{system}/allegro/data_limit_{limit}"),
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
    script:
        "../workflow/scripts/allegro_data.py"


use rule allegro_data as allegro_self_data with:
    output:
        pretrain_train=L.path(L.ALLEGRO_PART, part="pretrain_train"),
        pretrain_val=L.path(L.ALLEGRO_PART, part="pretrain_val"),
    log:
        L.log("{system}/allegro/self_data_limit_{limit}"),


rule allegro_species:
    input:
        dataset=L.path(L.STRUCTURES, set="dataset"),
    output:
        species=L.ALLEGRO_SPECIES,
    log:
        L.log("{system}/allegro/species"),
    group:
        "data"
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/allegro_species.py"


# The inference structures with their neighbour lists within the models' cutoff, written once
# per system; every Allegro model's inference predictions read them (rule predict).
rule allegro_graphs:
    input:
        frames=L.path(L.STRUCTURES, set="inference"),
    output:
        graphs=L.ALLEGRO_GRAPHS,
    log:
        L.log("{system}/allegro/inference_graphs"),
    benchmark:
        L.benchmark("{system}/allegro/inference_graphs")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        r_max=ALLEGRO["model"]["cutoff_radius"],
    script:
        "../workflow/scripts/allegro_graphs.py"


rule allegro_corpus:
    input:
        species=partial(allegro.corpus_inputs, STUDY),
    output:
        corpus=L.PRETRAIN_CORPUS,
    log:
        L.log("allegro_pretrain/corpus"),
    benchmark:
        L.benchmark("allegro_pretrain/corpus")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        pretrain=allegro.pretrain_settings(config),
    script:
        "../workflow/scripts/allegro_corpus.py"


# A corpus fetched from AFLOW's AFLUX API or an OPTIMADE provider (config allegro.pretrain.source;
# src/qcrobust/allegro/sources.py). The raw responses are rule allegro_fetch's output: a rerun
# never queries again (only a change of the source settings, or --forcerun allegro_fetch, does).
# A local rule: on a cluster it runs where snakemake runs, the login node, which reaches the network.
localrules:
    allegro_fetch,


rule allegro_fetch:
    input:
        species=partial(allegro.fetch_inputs, STUDY),
    output:
        responses=L.PRETRAIN_RESPONSES,
    log:
        L.log("allegro_pretrain/fetch"),
    benchmark:
        L.benchmark("allegro_pretrain/fetch")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        source=ALLEGRO["pretrain"]["source"],
        elements=ALLEGRO["pretrain"]["elements"],
    script:
        "../workflow/scripts/allegro_fetch.py"


rule allegro_fetched_corpus:
    input:
        responses=L.PRETRAIN_RESPONSES,
        species=partial(allegro.corpus_inputs, STUDY),
    output:
        corpus=L.PRETRAIN_FETCHED_CORPUS,
        provenance=L.PRETRAIN_PROVENANCE,
    log:
        L.log("allegro_pretrain/fetched_corpus"),
    benchmark:
        L.benchmark("allegro_pretrain/fetched_corpus")
    conda:
        "../envs/qcrobust.yaml"
    threads: 1
    params:
        elements=ALLEGRO["pretrain"]["elements"],
    script:
        "../workflow/scripts/allegro_fetched_corpus.py"


rule allegro_pretrain:
    input:
        corpus=allegro.corpus_path(config),
    output:
        **L.trained_files(L.PRETRAIN_DIR),
        train=L.path(L.PRETRAIN_SPLIT, part="train"),
        val=L.path(L.PRETRAIN_SPLIT, part="val"),
    log:
        L.log("allegro_pretrain/pretrain"),
    benchmark:
        L.benchmark("allegro_pretrain/pretrain")
    conda:
        "../envs/qcrobust.yaml"
    threads: ALLEGRO_THREADS
    resources:
        **ALLEGRO_GPU,
    params:
        settings=ALLEGRO_TRAINING | {"pretrain": allegro.pretrain_settings(config)},
        run_dir=f"{L.PRETRAIN_DIR}/{L.RUN_DIR}",
    script:
        "../workflow/scripts/allegro_pretrain.py"


rule allegro_self_pretrain:
    input:
        train=L.path(L.ALLEGRO_PART, part="pretrain_train"),
        val=L.path(L.ALLEGRO_PART, part="pretrain_val"),
        species=L.ALLEGRO_SPECIES,
    output:
        **L.trained_files(L.SELF_PRETRAIN_DIR),
    log:
        L.log("{system}/allegro/self/limit_{limit}_seed_{seed}_pretrain"),
    benchmark:
        L.benchmark("{system}/allegro/self/limit_{limit}_seed_{seed}_pretrain")
    conda:
        "../envs/qcrobust.yaml"
    threads: ALLEGRO_THREADS
    resources:
        **ALLEGRO_GPU,
    params:
        settings=partial(allegro.seeded_settings, config),
        run_dir=f"{L.SELF_PRETRAIN_DIR}/{L.RUN_DIR}",
    script:
        "../workflow/scripts/allegro_self_pretrain.py"


rule allegro_train:
    input:
        unpack(partial(allegro.train_inputs, STUDY)),
    output:
        **L.trained_files(L.path(L.MODEL_DIR, family="allegro")),
    log:
        L.log("{system}/allegro/{model}/limit_{limit}_seed_{seed}"),
    benchmark:
        L.benchmark("{system}/allegro/{model}/limit_{limit}_seed_{seed}")
    wildcard_constraints:
        model="scratch|external|self",
    conda:
        "../envs/qcrobust.yaml"
    threads: ALLEGRO_THREADS
    resources:
        **ALLEGRO_GPU,
    params:
        settings=partial(allegro.seeded_settings, config),
        target=config["target"],
        run_dir=L.path(f"{L.MODEL_DIR}/{L.RUN_DIR}", family="allegro"),
    script:
        "../workflow/scripts/allegro_train.py"
