"""The study, resolved once from the validated config: which systems, which prediction sets,
which models at which limits, which screening modes.

Rules (``rules/common.smk`` builds ``STUDY``), input functions, target lists and the library
ask this object instead of reading the config's nesting each on its own. Defaults live only in
the config schema (:func:`qcrobust.config.validate_config` fills them in).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from qcrobust.config import allegro_limits
from qcrobust.screening import ScreeningMode, modes_from_config

FAMILIES = ("classical", "allegro")
PREDICTION_SETS = ("test", "inference", "audit")


@dataclass(frozen=True, repr=False)
class Study:
    config: Mapping
    systems: tuple[str, ...]
    audit_systems: frozenset[str]
    limits: tuple[int, ...]
    #: family -> (models, limits); families without models are left out
    grids: Mapping[str, tuple[tuple[str, ...], tuple[int, ...]]]
    modes: tuple[ScreeningMode, ...]
    #: family -> (seeds at replica limits, replica limits, regimes with replicas); see :meth:`seeds`
    replicas: Mapping[str, tuple[tuple[int, ...], frozenset[int], frozenset[str]]]

    @classmethod
    def from_config(cls, config: Mapping) -> Study:
        """``config`` must be validated (:func:`qcrobust.config.validate_config`)."""
        systems = tuple(config["systems"])
        grids = {
            "classical": (tuple(config["classical"]["models"]), tuple(config["limits"])),
            "allegro": (tuple(config["allegro"]["models"]), tuple(allegro_limits(config))),
        }
        return cls(
            config=config,
            systems=systems,
            audit_systems=frozenset(s for s in systems if config["systems"][s].get("audit")),
            limits=tuple(config["limits"]),
            grids={family: grid for family, grid in grids.items() if grid[0]},
            modes=tuple(modes_from_config(config["screening"]["modes"])),
            replicas={family: _replicas(config, family, models, limits) for family, (models, limits) in grids.items() if models},
        )

    def __repr__(self) -> str:
        # no braces: snakemake reads "{x, y}" in an input function's repr as a wildcard constraint
        families = "; ".join(f"{f}: {' '.join(models)} at {' '.join(map(str, limits))}" for f, (models, limits) in self.grids.items())
        return f"Study(systems: {' '.join(self.systems)}; {families})"

    # --- systems and their sets ---

    def spec(self, system: str) -> Mapping:
        """The system's config entry (its files)."""
        return self.config["systems"][system]

    def has_audit(self, system: str) -> bool:
        return system in self.audit_systems

    def structure_sets(self, system: str) -> tuple[str, ...]:
        """The system's structure files: dataset, inference (+ audit)."""
        return ("dataset", "inference") + (("audit",) if self.has_audit(system) else ())

    def system_regex(self) -> str:
        return "|".join(re.escape(s) for s in self.systems)

    # --- models ---

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self.grids)

    def models(self, family: str) -> tuple[str, ...]:
        return self.grids[family][0] if family in self.grids else ()

    def family_limits(self, family: str) -> tuple[int, ...]:
        return self.grids[family][1] if family in self.grids else ()

    def shared_limits(self) -> list[int]:
        """The limits every configured family trains on: the grid cross-family comparisons use."""
        grids = [set(limits) for _, limits in self.grids.values()]
        return sorted(set.intersection(*grids)) if grids else []

    def model_keys(self, system: str | None = None) -> Iterator[tuple[str, str, str]]:
        """(system, family, model) of every evaluated model."""
        for s in (system,) if system else self.systems:
            for family, (models, _) in self.grids.items():
                for model in models:
                    yield s, family, model

    def base_seed(self, family: str) -> int:
        """The family's own seed: the one model of a limit without replicas."""
        return int(self.config[family]["seed"])

    def seeds(self, family: str, model: str, limit: int) -> tuple[int, ...]:
        """The seeds (system, family, model, limit) is trained with: the base seed, and more at
        the family's replica limits (config ``replicas``)."""
        seeds, limits, models = self.replicas[family]
        return seeds if int(limit) in limits and model in models else seeds[:1]

    def replica_limits(self, family: str, model: str) -> tuple[int, ...]:
        """The limits where the model has more than one seed (those the noise tables compare)."""
        return tuple(x for x in self.family_limits(family) if len(self.seeds(family, model, x)) > 1)

    def trained(self, system: str | None = None) -> Iterator[dict]:
        """Wildcards ``system, family, model, limit, seed`` of every trained model."""
        for s, family, model in self.model_keys(system):
            for limit in self.family_limits(family):
                for seed in self.seeds(family, model, limit):
                    yield {"system": s, "family": family, "model": model, "limit": limit, "seed": seed}

    # --- screening ---

    @property
    def mode_names(self) -> list[str]:
        return [mode.name for mode in self.modes]


def _replicas(config: Mapping, family: str, models, limits) -> tuple[tuple[int, ...], frozenset[int], frozenset[str]]:
    block = config["replicas"][family]
    base = int(config[family]["seed"])
    chosen_models = block.get("models") or models
    return (
        tuple(base + k for k in range(block["seeds"])),
        frozenset(block["limits"] if block["limits"] is not None else limits),
        frozenset(chosen_models),
    )
