"""Schema checks of the tables the rules exchange (JSON schemas of one row, ``workflow/schemas/``).

Each schema describes one row (or one JSON document); a table is valid when every row is.
A violation is an :class:`~qcrobust.errors.InputError` naming the file, the row and the problem.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
import yaml
from jsonschema import Draft202012Validator

from qcrobust.config import SCHEMA_DIR
from qcrobust.errors import InputError


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
    nullable = {c for c in table.columns if "null" in _types(_column_schema(validator.schema, c))}
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
            error = next(iter(column_validator.iter_errors(_plain(value))), None)
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
