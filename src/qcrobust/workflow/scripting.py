"""Glue for ``workflow/scripts``: log to the rule's ``log:`` file, fail with one clear line."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

from qcrobust.errors import InputError


@contextlib.contextmanager
def rule_logging(snakemake) -> Iterator[logging.Logger]:
    """Send library logging and warnings of a rule's script to its first ``log:`` file.

    Bad input (:class:`InputError`) is written to the log and to stderr as one line; any other
    error keeps its traceback in the log. Either way the job fails.
    """
    log_files = list(getattr(snakemake, "log", []))
    handlers = [logging.FileHandler(log_files[0], mode="w")] if log_files else [logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    logger = logging.getLogger(f"qcrobust.rule.{snakemake.rule}")
    try:
        yield logger
    except InputError as err:
        logger.error("bad input: %s", err)
        print(f"qcrobust: bad input: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception:
        logger.exception("rule %s failed", snakemake.rule)
        raise


def as_paths(value) -> list[str]:
    """A named input as a list of paths (snakemake hands over a one-element list as a string)."""
    return [value] if isinstance(value, (str, os.PathLike)) else [str(v) for v in value]
