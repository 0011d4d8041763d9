# Stage 'evaluate', shared by every model family: its inputs are only the prediction tables
# results/{system}/{family}/{model}/predictions_{test,inference,audit}.csv (rules predict,
# predict_audit; the family's base seed is evaluated, the replicas make the noise tables) plus the system's splits and targets. Per (system, family, model): summary tables and figures
# under .../summary/ (the tables across models are the report stage's). See src/qcrobust/evaluate.py.
# Rules with `group:` are short jobs: a cluster run submits several of them at once (the Slurm
# profiles' group-components); a local run ignores groups.
from functools import partial

from qcrobust import layout as L
from qcrobust import evaluate as evaluation
from qcrobust.workflow import evaluate as evaluate_stage
from qcrobust.workflow import study_of

STUDY = study_of(config)


rule evaluate:
    input:
        unpack(partial(evaluate_stage.summary_inputs, STUDY)),
    output:
        **{
            name: L.path(L.SUMMARY_TABLE, table=name)
            for name in evaluation.SUMMARY_TABLES
        },
    log:
        L.log("{system}/{family}/{model}/summary"),
    group:
        "summaries"
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
        settings={key: config[key] for key in ("screening", "similarity")},
        seed=lambda wildcards: STUDY.base_seed(wildcards.family),
    script:
        "../workflow/scripts/evaluate.py"


rule evaluate_audit:
    input:
        unpack(partial(evaluate_stage.audit_inputs, STUDY)),
    output:
        **{
            name: L.path(L.SUMMARY_TABLE, table=name)
            for name in evaluation.AUDIT_TABLES
        },
    log:
        L.log("{system}/{family}/{model}/summary_audit"),
    group:
        "summaries"
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
        settings={"screening": config["screening"]},
        seed=lambda wildcards: STUDY.base_seed(wildcards.family),
    script:
        "../workflow/scripts/evaluate_audit.py"


rule evaluate_figures:
    input:
        **{
            name: L.path(L.SUMMARY_TABLE, table=name)
            for name in (
                "rmse_by_limit",
                "similarity",
                "screening_vs_max_limit",
                "overlaps",
            )
        },
    output:
        **evaluate_stage.summary_figures(
            STUDY, evaluation.SUMMARY_FIGURES, per_mode=False
        ),
        **evaluate_stage.summary_figures(STUDY, evaluation.MODE_FIGURES, per_mode=True),
    log:
        L.log("{system}/{family}/{model}/summary_figures"),
    group:
        "summaries"
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=STUDY.mode_names,
    script:
        "../workflow/scripts/evaluate_figures.py"


rule audit_figures:
    input:
        audit_cumulative=L.path(L.SUMMARY_TABLE, table="audit_cumulative"),
    output:
        **evaluate_stage.summary_figures(STUDY, evaluation.AUDIT_FIGURES, per_mode=True),
    log:
        L.log("{system}/{family}/{model}/audit_figures"),
    group:
        "summaries"
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=STUDY.mode_names,
    script:
        "../workflow/scripts/audit_figures.py"


# The retraining-noise floor of one model (config replicas): every pair of its replica limits
# against the spread between seeds at one limit (src/qcrobust/replicas.py).
rule noise:
    input:
        unpack(partial(evaluate_stage.noise_inputs, STUDY)),
    output:
        **{
            name: L.path(L.SUMMARY_TABLE, table=name)
            for name in evaluation.NOISE_TABLES
        },
        **{
            name: report(
                L.path(L.SUMMARY_FIGURE, figure=name),
                caption="../workflow/report/noise.rst",
                category="{family}",
                subcategory="{system}",
                labels={"model": "{model}", "figure": name},
            )
            for name in evaluate_stage.noise_figures(STUDY)
        },
    log:
        L.log("{system}/{family}/{model}/noise"),
    group:
        "summaries"
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
        settings={key: config[key] for key in ("screening", "similarity")},
        limits=lambda wildcards: list(
            STUDY.replica_limits(wildcards.family, wildcards.model)
        ),
        verdicts=config["verdicts"],
    script:
        "../workflow/scripts/noise.py"
