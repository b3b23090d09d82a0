"""The rules by code, and the selection of rules by code or prefix (``catalog`` declares
the rules; ``registry`` loads the checks that implement them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

from dropout_lint.catalog import INTERNAL_ERROR, PARSE_ERROR, RULES
from dropout_lint.errors import ConfigError

RULES_BY_CODE = {rule.code: rule for rule in RULES}

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
