"""The classes that implement the rules, imported when a run first needs them
(``catalog`` declares the rules, ``selection`` selects them)."""

from __future__ import annotations

import importlib
from collections.abc import Collection
from functools import lru_cache
from typing import TypeVar

from dropout_lint.catalog import RULES
from dropout_lint.rule import Check, ProjectCheck

# The rules with a check over the project index: only they need each file's summary.
PROJECT_CODES: frozenset[str] = frozenset(rule.code for rule in RULES if rule.project_check is not None)


_Implementation = TypeVar("_Implementation", Check, ProjectCheck)


def file_checks(codes: Collection[str]) -> tuple[type[Check], ...]:
    """The checks of each file's syntax tree that implement the rules of ``codes``, in
    the order of their codes. Their modules import libcst: a run imports them only
    when it parses a file."""
    return tuple(_load(rule.file_check, Check) for rule in RULES if rule.file_check is not None and rule.code in codes)


def project_checks(codes: Collection[str]) -> tuple[type[ProjectCheck], ...]:
    """The checks over the project index that implement the rules of ``codes``, in the
    order of their codes (their modules import no libcst: they run over summaries,
    which a run may take from the cache alone)."""
    return tuple(
        _load(rule.project_check, ProjectCheck) for rule in RULES if rule.project_check is not None and rule.code in codes
    )


@lru_cache(maxsize=None)
def _load(name: str, kind: type[_Implementation]) -> type[_Implementation]:
    """The class ``module:Class`` of ``dropout_lint.checks``, which must be a ``kind``."""
    module, _, attribute = name.partition(":")
    if not module.isidentifier():
        raise ValueError(f"{name}: {module!r} is not a module of dropout_lint.checks")
    found = getattr(importlib.import_module(f"dropout_lint.checks.{module}"), attribute)
    if not (isinstance(found, type) and issubclass(found, kind)):
        raise TypeError(f"{name} is not a {kind.__name__}")
    return found
