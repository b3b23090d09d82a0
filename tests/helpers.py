"""Small helpers shared by the tests."""

from __future__ import annotations

import textwrap

from dropout_lint.config import Config
from dropout_lint.engine import lint_source


def findings(source: str, select: tuple[str, ...] = ("ALL",), **config: object) -> list[tuple[int, str]]:
    """(line, code) of every finding in dedented source, with the given rules selected."""
    text = textwrap.dedent(source)
    return [(d.span.line, d.code) for d in lint_source(text, "snippet.py", Config(select=select, **config))]  # type: ignore[arg-type]


def codes(source: str, select: tuple[str, ...] = ("ALL",), **config: object) -> list[str]:
    return [code for _, code in findings(source, select, **config)]
