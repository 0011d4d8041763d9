"""Schema checks of the tables the rules exchange (JSON schemas of one row, ``workflow/schemas/``).

Each schema describes one row (or one JSON document); a table is valid when every row is.
A violation is an :class:`~qcrobust.errors.InputError` naming the file, the row and the problem.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from jsonschema import Draft202012Validator

from qcrobust.config import SCHEMA_DIR
from qcrobust.errors import InputError

# Every CSV the workflow writes, by file name (shell-style pattern), and the schema of its rows
# (workflow/schemas/{schema}.schema.yaml). write_table and read_table find a file's schema here;
# tests/test_tables.py checks that every table of a study run has one and docs/interfaces.md
# lists them all.
CONTRACTS = {
    "dataset_targets.csv": "targets",
    "audit_targets.csv": "targets",
    "*_equivalents.csv": "equivalents",
    "splits.csv": "splits",
    "limit_sizes.csv": "limit_sizes",
    "predictions_*.csv": "predictions",
    "rmse_by_limit.csv": "rmse_by_limit",
    "similarity.csv": "similarity",
    "screening_vs_max_limit.csv": "screening_vs_max_limit",
    "overlaps.csv": "overlaps",
    "classification_test.csv": "classification",
    "classification_audit.csv": "classification",
    "audit_cumulative.csv": "audit_cumulative",
    "noise.csv": "noise",
    "seed_spread.csv": "seed_spread",
    "replica_scores.csv": "replica_scores",
    "candidates.csv": "candidates",
    "consensus.csv": "consensus",
    "datasets.csv": "datasets",
    "rmse_all.csv": "rmse_by_limit",
    "screening_all.csv": "screening_vs_max_limit",
    "classification_test_all.csv": "classification",
    "stability.csv": "stability",
    "allegro_budgets.csv": "allegro_budgets",
    "noise_all.csv": "noise",
    "noise_summary.csv": "noise_summary",
    "findings_noise.csv": "findings_noise",
    # the default data's sources (shipped under data/default, recomputed under results/default_data)
    "decorations.csv": "decorations",
    "shard_*.csv": "labels",
    "crosscheck.csv": "crosscheck",
}


def schema_of(path: str | os.PathLike) -> str:
    """The schema of the table at ``path`` (:data:`CONTRACTS`, by file name)."""
    name = Path(path).name
    for pattern, schema in CONTRACTS.items():
        if fnmatch.fnmatchcase(name, pattern):
            return schema
    raise InputError(path, None, f"no table contract for '{name}' (qcrobust.tables.CONTRACTS)")


def write_table(table: pd.DataFrame, path: str | os.PathLike, schema: str | None = None) -> None:
    """Check ``table`` against its schema (default: :func:`schema_of` the path), then write it
    atomically (:func:`qcrobust.io.write_csv`): a table that breaks its contract is never written."""
    from qcrobust.io import write_csv

    check_table(table, schema or schema_of(path), path)
    write_csv(table, path)


def read_table(path: str | os.PathLike, schema: str | None = None, **kwargs) -> pd.DataFrame:
    """Read a table the workflow wrote and check it against its schema (default: :func:`schema_of`
    the path). Text columns of the schema are read as text (ids stay strings; an empty field of a
    column that cannot be null is ""); ``kwargs`` go to :func:`pandas.read_csv`."""
    from qcrobust.io import read_csv

    schema = schema or schema_of(path)
    spec = _validator(schema).schema
    text = {c: str for c, sub in spec.get("properties", {}).items() if _is_text(sub)}
    table = read_csv(path, required=spec.get("required", ()), dtype={**text, **kwargs.pop("dtype", {})}, **kwargs)
    # CSV has one empty field for "" and for a missing value: in a text column that cannot be
    # null it was written as "" (write_table refuses anything else), so it reads back as "".
    for column in text:
        if column in table.columns and not _nullable(spec["properties"][column]):
            table[column] = table[column].fillna("")
    check_table(table, schema, path)
    return table


def contracts_markdown() -> str:
    """The table of every contract (files, schema, columns) as docs/interfaces.md shows it;
    tests/test_tables.py checks that the page holds exactly this text."""
    by_schema: dict[str, list[str]] = {}
    for pattern, schema in CONTRACTS.items():
        by_schema.setdefault(schema, []).append(pattern)
    lines = ["| files | schema (`workflow/schemas/`) | columns (optional ones in brackets) |", "|---|---|---|"]
    for schema, patterns in by_schema.items():
        spec = _validator(schema).schema
        required = list(spec.get("required", []))
        optional = [c for c in spec.get("properties", {}) if c not in required] + list(spec.get("patternProperties", {}))
        cell = [f"`{c}`".replace("|", "\\|") for c in required + optional]  # a pattern's | would end the cell
        columns = ", ".join(cell[: len(required)]) + "".join(f" [{c}]" for c in cell[len(required) :])
        files = ", ".join(f"`{p}`" for p in patterns)
        lines.append(f"| {files} | `{schema}.schema.yaml` | {columns} |")
    return "\n".join(lines) + "\n"


def _is_text(subschema: Mapping) -> bool:
    if "enum" in subschema:
        return all(isinstance(v, str) or v is None for v in subschema["enum"])
    types = _types(subschema)
    return "string" in types and not ({"number", "integer"} & set(types))


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    path = SCHEMA_DIR / f"{name}.schema.yaml"
    return Draft202012Validator(yaml.safe_load(path.read_text()))


def _problem(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def check_record(record: Mapping, schema: str, path: str | os.PathLike, what: str | None = None) -> None:
    """One JSON document (e.g. a metrics.json) against ``workflow/schemas/{schema}.schema.yaml``."""
    error = next(iter(sorted(_validator(schema).iter_errors(dict(record)), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        raise InputError(path, what, f"does not match {schema}.schema.yaml: {_problem(error)}")


def check_table(table: pd.DataFrame, schema: str, path: str | os.PathLike) -> None:
    """Every row of ``table`` against ``workflow/schemas/{schema}.schema.yaml``.

    Fast for wide tables: the first row settles the column set and types (a pandas column has
    one type); a row of each numeric column's minima and one of its maxima settle the ranges
    (NaN passes, as undefined ratios are NaN by design); text columns are checked value by value
    against their own subschema.
    """
    if table.empty:
        return
    validator = _validator(schema)
    # a nullable column's missing values (NaN once a table is read back from CSV) are its nulls
    nullable = {c for c in table.columns if _nullable(_column_schema(validator.schema, c))}
    first = {c: _plain(table[c].iloc[0], c in nullable) for c in table.columns}
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]
    records = [first]
    for reduce in (np.nanmin, np.nanmax):
        record = dict(first)
        for column in numeric:
            # nullable integer columns (pandas Int64) carry pd.NA where a value is undefined
            values = table[column].to_numpy(dtype=np.float64, na_value=np.nan)
            if not np.all(np.isnan(values)):
                record[column] = _plain(reduce(values))
        records.append(record)
    for record in records:
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
        if errors:
            column = errors[0].absolute_path[0] if errors[0].absolute_path else None
            row = 0 if column is None else _row_of(table, column, record[column])
            raise InputError(path, f"row {row}", f"does not match {schema}.schema.yaml: {_problem(errors[0])}")
    for column in table.columns:
        if column in numeric:
            continue
        sub = _column_schema(validator.schema, column)
        if sub is None:
            continue
        column_validator = Draft202012Validator(sub)
        for value in pd.unique(table[column]):
            error = next(iter(column_validator.iter_errors(_plain(value, column in nullable))), None)
            if error is not None:
                raise InputError(
                    path, f"row {_row_of(table, column, value)}", f"does not match {schema}.schema.yaml: {column}: {error.message}"
                )


def _column_schema(schema: Mapping, column: str) -> Mapping | None:
    import re

    if column in schema.get("properties", {}):
        return schema["properties"][column]
    for pattern, sub in schema.get("patternProperties", {}).items():
        if re.search(pattern, column):
            return sub
    return None


def _row_of(table: pd.DataFrame, column, value) -> int:
    matches = np.flatnonzero(table[column].to_numpy() == value)
    return int(matches[0]) if len(matches) else 0


def _nullable(subschema: Mapping | None) -> bool:
    return "null" in _types(subschema) or None in (subschema or {}).get("enum", [])


def _types(subschema: Mapping | None) -> list[str]:
    kind = (subschema or {}).get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _plain(value, nullable: bool = False):
    """numpy scalars as Python numbers, pandas' NA (and NaN in a nullable column) as None
    (jsonschema checks Python types)."""
    if value is pd.NA or (nullable and isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
