"""The one error type for bad user input: it names the file, the record and the problem."""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Bad input. ``str(err)`` reads ``<path>: <record>: <problem>``.

    ``record`` locates the offending item inside the file (``"frame 12 (id='ScPt-0001')"``,
    ``"key 'limits'"``), or is ``None`` when the whole file is at fault.
    """

    def __init__(self, path: str | PathLike | None, record: str | None, problem: str):
        self.path = None if path is None else str(path)
        self.record = record
        self.problem = problem
        parts = [p for p in (self.path, record, problem) if p]
        super().__init__(": ".join(parts))
