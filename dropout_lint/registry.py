"""The rules by code, selection of rules by code or prefix, and the classes that
implement them, imported when a run first needs them (``catalog`` declares the rules)."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from typing import Optional, TypeVar

from dropout_lint.catalog import INTERNAL_ERROR, PARSE_ERROR, RULES
from dropout_lint.rule import Check, ProjectCheck

RULES_BY_CODE = {rule.code: rule for rule in RULES}
# The rules with a check over the project index: only they need each file's summary.
PROJECT_CODES: frozenset[str] = frozenset(rule.code for rule in RULES if rule.project_check is not None)

# Codes that were used once and retired: never reuse them.
RETIRED: frozenset[str] = frozenset()

# A file that cannot be parsed, or a check that crashed on it, was not linted: no
# selection, per-file ignore or noqa comment hides that, or a run that checked nothing
# would pass as clean (ruff always shows syntax errors too).
ALWAYS_REPORTED: frozenset[str] = frozenset({PARSE_ERROR.code, INTERNAL_ERROR.code})


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate_selectors(selectors: Iterable[str], where: str) -> None:
    for selector in selectors:
        if selector == "ALL":
            continue
        if not any(_matches(selector, rule.code) for rule in RULES):
            from dropout_lint.config import ConfigError

            raise ConfigError(f"{where}: unknown rule code or prefix {selector!r}")


def expand_selectors(selectors: Iterable[str]) -> frozenset[str]:
    """Every code matched by codes, prefixes (``DL4``) or ``ALL``."""
    selectors = tuple(selectors)
    return frozenset(rule.code for rule in RULES if any(_matches(s, rule.code) for s in selectors))


def resolve_selection(
    select: Optional[Sequence[str]], extend_select: Sequence[str], ignore: Sequence[str]
) -> frozenset[str]:
    """The enabled codes: ``select`` (or every rule that is on by default), plus
    ``extend_select``, minus ``ignore``, and always ``ALWAYS_REPORTED``. Info rules are
    on only when selected."""
    if select is None:
        base = {rule.code for rule in RULES if rule.default_enabled}
    else:
        base = set(expand_selectors(select))
    base |= expand_selectors(extend_select)
    base -= expand_selectors(ignore)
    return frozenset(base | ALWAYS_REPORTED)


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
