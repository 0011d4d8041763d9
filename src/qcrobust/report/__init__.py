"""The study's report, one module per part (rules in rules/report.smk; the report itself is
snakemake's own, ``snakemake --report results/report/report.html``):

- :mod:`.datasets`: the dataset table (sizes, labels, duplicates and shared descriptors per set);
- :mod:`.stability`: each model's stability across the limits every family shares, and per family;
- :mod:`.budgets`: what each Allegro model cost beside its test error;
- :mod:`.findings_page`: the generated findings section and the HTML page that opens the report.

Families compare like with like: every cross-family number is computed on the limits every
configured family trained on (``shared_limits``), and every aggregate says how many cells it rests
on and how many were undefined (nothing selected).
"""

#: the key columns of every per-model table
KEY = ["system", "family", "model"]
