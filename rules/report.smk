# Stage 'report': the cross-family tables and RMSE box plots, the dataset table, each model's
# stability on the limits every family shares, the Allegro budgets, a generated findings page and
# the robust candidates per system; all report items of `snakemake --report results/report/report.html`
# (next to the figures and tables the other stages mark with report()). See src/qcrobust/report/
# and src/qcrobust/candidates.py.
# Rules with `group:` are short jobs: a cluster run submits several of them at once (the Slurm
# profiles' group-components); a local run ignores groups.
from functools import partial

from qcrobust import layout as L
from qcrobust.evaluate import REPORT_TABLES
from qcrobust.report.findings_page import NOISE_REPORT_TABLES, mode_descriptions
from qcrobust.startup import study_warnings
from qcrobust.workflow import evaluate as evaluate_stage
from qcrobust.workflow import report as report_stage
from qcrobust.workflow import study_of

STUDY = study_of(config)


rule report_tables:
    input:
        **evaluate_stage.report_inputs(STUDY),
    output:
        **{name: L.path(L.REPORT_TABLE, name=name) for name in REPORT_TABLES},
        rmse_boxplot=report(
            L.path(L.REPORT_FIGURE, name="rmse_boxplot"),
            caption="../workflow/report/rmse_boxplot.rst",
            category="Comparison",
            labels={"figure": "RMSE box plots"},
        ),
    log:
        L.log("report/report_tables"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    params:
        shared_limits=STUDY.shared_limits(),
    script:
        "../workflow/scripts/report_tables.py"


rule report_datasets:
    input:
        **report_stage.dataset_inputs(STUDY),
    output:
        datasets=report(
            L.path(L.REPORT_TABLE, name="datasets"),
            caption="../workflow/report/datasets.rst",
            category="Data",
            subcategory="All systems",
            labels={"table": "datasets"},
        ),
    log:
        L.log("report/datasets"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    params:
        systems=list(STUDY.systems),
        audit_systems=sorted(STUDY.audit_systems),
        target=config["target"],
    script:
        "../workflow/scripts/report_datasets.py"


rule report_findings:
    input:
        **report_stage.findings_inputs(STUDY),
    output:
        stability=report(
            L.path(L.REPORT_TABLE, name="stability"),
            caption="../workflow/report/stability.rst",
            category="Comparison",
            labels={"table": "stability per model"},
        ),
        findings=report(
            L.FINDINGS,
            caption="../workflow/report/findings.rst",
            category="Findings",
            labels={"page": "findings"},
        ),
    log:
        L.log("report/findings"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
        modes=mode_descriptions(config),
        shared_limits=STUDY.shared_limits(),
        notes=report_stage.data_notes(config),
        external_note=report_stage.external_corpus_note(config),
        systems=list(STUDY.systems),
        warnings=study_warnings(config),
        allegro_limits=list(STUDY.family_limits("allegro")),
        select_min_val=config["allegro"]["select_min_val"],
    script:
        "../workflow/scripts/report_findings.py"


# The paper's findings against the retraining noise (config replicas; src/qcrobust/replicas.py).
rule report_noise:
    input:
        **report_stage.noise_report_inputs(STUDY),
    output:
        **{
            name: report(
                L.path(L.REPORT_TABLE, name=name),
                caption="../workflow/report/noise_report.rst",
                category="Findings",
                labels={"table": name},
            )
            for name in NOISE_REPORT_TABLES
        },
    log:
        L.log("report/noise"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    params:
        verdicts=config["verdicts"],
    script:
        "../workflow/scripts/report_noise.py"


rule report_budgets:
    input:
        **report_stage.budget_inputs(STUDY),
    output:
        budgets=report(
            L.path(L.REPORT_TABLE, name="allegro_budgets"),
            caption="../workflow/report/allegro_budgets.rst",
            category="Comparison",
            labels={"table": "Allegro budgets"},
        ),
    log:
        L.log("report/allegro_budgets"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/report_budgets.py"


rule candidates:
    input:
        unpack(partial(report_stage.candidate_inputs, STUDY)),
    output:
        candidates=report(
            L.CANDIDATES,
            caption="../workflow/report/candidates.rst",
            category="Candidates",
            subcategory="{system}",
            labels={"table": "candidates"},
        ),
        figure=report(
            L.CANDIDATES_FIGURE,
            caption="../workflow/report/candidates_figure.rst",
            category="Candidates",
            subcategory="{system}",
            labels={"figure": "selection share"},
        ),
    log:
        L.log("{system}/candidates"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=config["screening"]["modes"],
        target=config["target"],
        data_note=partial(report_stage.data_note, config),
        ranking=config["candidates"],
    script:
        "../workflow/scripts/candidates.py"


rule consensus:
    input:
        unpack(partial(report_stage.candidate_inputs, STUDY)),
    output:
        consensus=report(
            L.CONSENSUS,
            caption="../workflow/report/consensus.rst",
            category="Candidates",
            subcategory="{system}",
            labels={"table": "consensus vs single screens"},
        ),
    log:
        L.log("{system}/consensus"),
    group:
        "report"
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=config["screening"]["modes"],
        target=config["target"],
    script:
        "../workflow/scripts/consensus.py"
