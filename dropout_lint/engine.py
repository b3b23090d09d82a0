"""Lint files in two phases (see ``dropout_lint.phases``).

1. ``analyse_*``, per file (in parallel): read, parse once, run every enabled check in
   one traversal, and summarise the file for the cross-file rules.
2. ``finish``, once per run: build the project index from the summaries, run the
   cross-file rules, apply ``# noqa`` and report unused ones.

``lint_source`` and ``lint_file`` do both for one file; they work without the CLI.

libcst, the analyses and the checks of the syntax tree are imported when the first file
is parsed (``prepare``): a run whose files all come from the cache, or that skips them
all, needs none of them.
"""

from __future__ import annotations

from typing import Optional

from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic
from dropout_lint.phases.analyse import analyse_text, prepare
from dropout_lint.phases.diagnose import crashed
from dropout_lint.phases.finish import finish
from dropout_lint.phases.read import analyse_data, analyse_file
from dropout_lint.phases.results import FileAnalysis, FileResult

__all__ = [
    "FileAnalysis",
    "FileResult",
    "analyse_data",
    "analyse_file",
    "analyse_text",
    "crashed",
    "finish",
    "lint_data",
    "lint_file",
    "lint_source",
    "prepare",
]


def lint_source(source: str, path: str = "<string>", config: Optional[Config] = None) -> list[Diagnostic]:
    """The findings for Python source text, sorted by position."""
    config = config or Config()
    analysis = analyse_text(source, path, config, keep_lines=True)
    return list(finish([analysis], config)[0].diagnostics)


def lint_file(path: str, config: Config, display_path: Optional[str] = None) -> FileResult:
    """Read and lint one file on its own. Unreadable files become a DL900 finding."""
    return finish([analyse_file(path, config, display_path)], config)[0]


def lint_data(data: bytes, path: str, config: Config) -> FileResult:
    """Lint a file's bytes that come from elsewhere than ``path`` (stdin): ``path`` gives
    the per-file settings, whether it is a notebook, and the name in the findings."""
    return finish([analyse_data(data, path, config)], config)[0]
