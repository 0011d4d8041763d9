"""The Allegro family: nequip + nequip-allegro, trained energy-only, three ways per (system, limit).

Everything that trains, checkpoints, resumes, fine-tunes and packages is nequip's own
machinery: a Hydra config template (``workflow/allegro/train.yaml`` and its ``model/`` group)
run by ``nequip-train`` with command-line overrides, nequip's ``ASEDataModule`` on extxyz
files, its ``EnergyOnlyLoss`` / ``EnergyOnlyMetrics`` / ``EnergyOnlyDataStatisticsManager``,
``do_derivatives: false``, ``ckpt_path`` to resume, ``nequip-package`` for the model file and
``ModelFromPackage`` (+ the ``modify_PerTypeScaleShift`` modifier) to fine-tune. This package
only prepares files, fills the template and reads the results.

Target handling
---------------
The study's target is a scalar per structure in eV/atom (``e_above_hull`` by default, or
``e_form``); the classical family predicts it directly. An Allegro model predicts a total
"energy" that is a sum of per-atom contributions. We train it on ``target × n_atoms``
(info key ``qc_target_total`` in our extxyz, mapped to nequip's ``total_energy``) with nequip's
per-atom loss (``per_atom_energy: true``: the MSE of ``total / n_atoms``, i.e. of the target
itself), and predict ``y_pred = total_energy / n_atoms``. So the prediction files hold the
configured target in eV/atom, exactly like the classical family's, and nequip's logged
``per_atom_energy_rmse`` is the target RMSE.

Why not total energies with per-species shifts, converted afterwards? The conversion needs
the elemental references and the hull of each system inside this family, and the total
energies (-900 eV per cell) would be learned in float32 to reach a 0.01 eV/atom target;
both choices learn the same function up to a composition-linear term (E/N = e_form + Σ x_i μ_i),
and per-type shifts (trainable here) absorb exactly such a term. Learning the target itself
keeps the family decoupled from the hull and its numbers small.

Regimes (the ``{model}`` wildcard)
----------------------------------
- ``scratch``: a fresh model trained on the limit's train split, validated on its val split.
- ``external``: the model pretrained ONCE on the external corpus (:mod:`.corpus`: host–dopant
  prototype cells labeled by CHGNet with ``e_form``; a user's extxyz; or a corpus fetched from
  AFLOW's AFLUX API or an OPTIMADE provider, :mod:`.sources`) is fine-tuned on the limit's
  train/val split. Its per-atom shift is reset to the fine-tuning data's mean (the corpus is
  labeled with e_form, the study's target is usually e_above_hull). Or, with
  ``allegro.pretrain.package``, a published package (a foundation model) is fine-tuned directly:
  its type names and cutoff, its per-type scales and shifts reset to the fine-tuning data
  (``model/finetune_package.yaml``).
- ``self`` (paper §4.2, "sequential training"): a fresh model trained on the limit's
  structures with n_A5_defects > 0, then fine-tuned on the limit-0 part (same train/val split).
  At limit 0 there is nothing to pretrain on, so self at limit 0 IS the scratch model: its
  files are copied (``metrics.json`` says ``reused_from: scratch``), not trained again.

Budgets: fresh models train ``epochs``, fine-tuning ``finetune_epochs`` (by default as many:
every regime makes the same optimizer steps on the target data, so the regimes differ by their
pretraining, not by their budget), both raised for small sets to at least ``min_steps``
optimizer steps. The model is the best-validation checkpoint when the validation set has at
least ``select_min_val`` structures, else the last epoch's (:func:`.pipeline.checkpoint_rule`).

Modules: :mod:`.data` (training files), :mod:`.training` (nequip-train, resume, package),
:mod:`.predict`, :mod:`.corpus` (the default external corpus), :mod:`.sources` (fetched corpora), :mod:`.callbacks` (per-epoch
timings), :mod:`.pipeline` (one function per rule).
"""
