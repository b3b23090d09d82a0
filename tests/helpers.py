"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

from dropout_lint.config import Config
from dropout_lint.engine import lint_source


def findings(source: str, select: tuple[str, ...] = ("ALL",), **config: object) -> list[tuple[int, str]]:
    """(line, code) of every finding in dedented source, with the given rules selected."""
    text = textwrap.dedent(source)
    return [(d.span.line, d.code) for d in lint_source(text, "snippet.py", Config(select=select, **config))]  # type: ignore[arg-type]


def codes(source: str, select: tuple[str, ...] = ("ALL",), **config: object) -> list[str]:
    return [code for _, code in findings(source, select, **config)]


ROOT = Path(__file__).resolve().parent.parent


def run_dropout_lint(
    args: tuple[str, ...], cwd: Path, timeout: float, env: Optional[dict[str, str]] = None
) -> subprocess.CompletedProcess[str]:
    """``python -m dropout_lint ARGS`` in a child process, from ``cwd``, without colour and
    with this checkout importable from any folder."""
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=timeout,
    )
