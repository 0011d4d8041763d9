# Stage 'evaluate' (issue 5), shared by every model family: its inputs are only the prediction files
# results/{system}/{family}/{model}/limit_{limit}/pred_{test,inference,audit}.csv plus the system's
# splits and targets. Per (system, family, model): summary tables and figures under .../summary/
# (the tables across models are the report stage's). See src/qcrobust/evaluate.py.
from functools import partial

from qcrobust import evaluate as evaluation

SUMMARY = "results/{system}/{family}/{model}/summary"


wildcard_constraints:
    family="|".join(evaluation.FAMILIES),


rule evaluate:
    input:
        unpack(partial(evaluation.summary_inputs, config)),
    output:
        **{name: f"{SUMMARY}/{name}.csv" for name in evaluation.SUMMARY_TABLES},
    log:
        "logs/{system}/{family}/{model}/summary.log",
    wildcard_constraints:
        # systems without an audit set (evaluate_audit below takes the others)
        system=evaluation.system_regex(config, audit=False),
    conda:
        "../envs/qcrobust.yaml"
    params:
        target=config["target"],
        settings={key: config[key] for key in ("screening", "similarity")},
    script:
        "../workflow/scripts/evaluate.py"


use rule evaluate as evaluate_audit with:
    output:
        **{
            name: f"{SUMMARY}/{name}.csv"
            for name in evaluation.SUMMARY_TABLES + evaluation.AUDIT_TABLES
        },
    wildcard_constraints:
        system=evaluation.system_regex(config, audit=True),


rule evaluate_figures:
    input:
        rmse_by_limit=f"{SUMMARY}/rmse_by_limit.csv",
        similarity=f"{SUMMARY}/similarity.csv",
        screening_vs_max_limit=f"{SUMMARY}/screening_vs_max_limit.csv",
        overlaps=f"{SUMMARY}/overlaps.csv",
    output:
        **{
            name: report(
                f"{SUMMARY}/{name}.png",
                caption=f"../workflow/report/{name}.rst",
                category="{family}",
                subcategory="{system}",
                labels={"model": "{model}", "figure": name},
            )
            for name in evaluation.SUMMARY_FIGURES
        },
        **{
            f"{kind}_{mode}": report(
                f"{SUMMARY}/{kind}_{mode}.png",
                caption=f"../workflow/report/{kind}.rst",
                category="{family}",
                subcategory="{system}",
                labels={"model": "{model}", "figure": f"{kind} ({mode})"},
            )
            for kind in evaluation.MODE_FIGURES
            for mode in evaluation.mode_names(config)
        },
    log:
        "logs/{system}/{family}/{model}/summary_figures.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=evaluation.mode_names(config),
    script:
        "../workflow/scripts/evaluate_figures.py"


rule audit_figures:
    input:
        audit_cumulative=f"{SUMMARY}/audit_cumulative.csv",
    output:
        **{
            f"{kind}_{mode}": report(
                f"{SUMMARY}/{kind}_{mode}.png",
                caption=f"../workflow/report/{kind}.rst",
                category="{family}",
                subcategory="{system}",
                labels={"model": "{model}", "figure": f"{kind} ({mode})"},
            )
            for kind in evaluation.AUDIT_FIGURES
            for mode in evaluation.mode_names(config)
        },
    log:
        "logs/{system}/{family}/{model}/audit_figures.log",
    conda:
        "../envs/qcrobust.yaml"
    params:
        modes=evaluation.mode_names(config),
    script:
        "../workflow/scripts/audit_figures.py"


TARGET_FUNCTIONS.append(partial(evaluation.targets, config))
