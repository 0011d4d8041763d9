# Stage 'report': the cross-family tables and RMSE box plots, the dataset table, each model's
# stability on the limits every family shares, the Allegro budgets, a generated findings page and
# the robust candidates per system; all report items of `snakemake --report results/report/report.html`
# (next to the figures and tables the other stages mark with report()). See src/qcrobust/report.py
# and src/qcrobust/candidates.py.
from functools import partial

from qcrobust import candidates as robust
from qcrobust import report as study_report


rule report_tables:
    input:
        **evaluation.report_inputs(config),
    output:
        **{name: f"results/report/{name}.csv" for name in evaluation.REPORT_TABLES},
        rmse_boxplot=report(
            "results/report/rmse_boxplot.png",
            caption="../workflow/report/rmse_boxplot.rst",
            category="Comparison",
            labels={"figure": "RMSE box plots"},
        ),
    log:
        "logs/report/report_tables.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        shared_limits=evaluation.shared_limits(config),
    script:
        "../workflow/scripts/report_tables.py"


rule report_datasets:
    input:
        **study_report.dataset_inputs(config),
    output:
        datasets=report(
            "results/report/datasets.csv",
            caption="../workflow/report/datasets.rst",
            category="Data",
            subcategory="All systems",
            labels={"table": "datasets"},
        ),
    log:
        "logs/report/datasets.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        systems=SYSTEMS,
        audit_systems=[system for system in SYSTEMS if has_audit(system)],
        target=config["target"],
    script:
        "../workflow/scripts/report_datasets.py"


rule report_findings:
    input:
        **study_report.findings_inputs(config),
    output:
        stability=report(
            "results/report/stability.csv",
            caption="../workflow/report/stability.rst",
            category="Comparison",
            labels={"table": "stability per model"},
        ),
        findings=report(
            "results/report/findings.html",
            caption="../workflow/report/findings.rst",
            category="Findings",
            labels={"page": "findings"},
        ),
    log:
        "logs/report/findings.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
        modes=study_report.mode_descriptions(config),
        shared_limits=evaluation.shared_limits(config),
        notes=study_report.data_notes(config),
        external_note=study_report.external_corpus_note(config),
    script:
        "../workflow/scripts/report_findings.py"


rule report_budgets:
    input:
        metrics=study_report.budget_inputs(config),
    output:
        budgets=report(
            "results/report/allegro_budgets.csv",
            caption="../workflow/report/allegro_budgets.rst",
            category="Comparison",
            labels={"table": "Allegro budgets"},
        ),
    log:
        "logs/report/allegro_budgets.log",
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/report_budgets.py"


rule candidates:
    input:
        unpack(partial(robust.candidate_inputs, config)),
    output:
        candidates=report(
            "results/{system}/candidates.csv",
            caption="../workflow/report/candidates.rst",
            category="Candidates",
            subcategory="{system}",
            labels={"table": "candidates"},
        ),
        figure=report(
            "results/{system}/candidates.png",
            caption="../workflow/report/candidates_figure.rst",
            category="Candidates",
            subcategory="{system}",
            labels={"figure": "selection share"},
        ),
    log:
        "logs/{system}/candidates.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=config["screening"]["modes"],
        target=config["target"],
        data_note=partial(study_report.data_note, config),
    script:
        "../workflow/scripts/candidates.py"


rule consensus:
    input:
        candidates="results/{system}/candidates.csv",
    output:
        consensus=report(
            "results/{system}/consensus.csv",
            caption="../workflow/report/consensus.rst",
            category="Candidates",
            subcategory="{system}",
            labels={"table": "consensus vs single screens"},
        ),
    log:
        "logs/{system}/consensus.log",
    conda:
        "../envs/qcrobust.yaml"
    script:
        "../workflow/scripts/consensus.py"


TARGET_FUNCTIONS.append(partial(study_report.targets, config))
TARGET_FUNCTIONS.append(partial(robust.candidate_targets, config))
