"""The first phase's start: read a file's bytes (from disk, or given), decode them or
join a notebook's code cells, and hand the text on to ``analyse``."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from typing import Optional

from dropout_lint.catalog import PARSE_ERROR
from dropout_lint.config import Config
from dropout_lint.diagnostics import Span
from dropout_lint.phases.analyse import analyse_text
from dropout_lint.phases.diagnose import make_diagnostic, too_large, unreadable
from dropout_lint.phases.results import FileAnalysis
from dropout_lint.source import decode_source


def analyse_file(path: str, config: Config, display_path: Optional[str] = None) -> FileAnalysis:
    shown = display_path or path
    enabled = config.enabled_for(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            # A FIFO or a device named on the command line: reading it could block forever.
            return unreadable(shown, enabled, "not a regular file (a folder, pipe or device), so it was not read", 1, 0)
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > config.max_file_size * 1e6:
                return unreadable(shown, enabled, too_large(size, config), 1, 0)
            data = handle.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return unreadable(shown, enabled, f"cannot read file: {reason}", 1, 0)
    return analyse_data(data, shown, config, enabled, real_path=path)


def analyse_data(
    data: bytes,
    path: str,
    config: Config,
    enabled: Optional[frozenset[str]] = None,
    *,
    real_path: Optional[str] = None,
) -> FileAnalysis:
    """The first phase for a file's bytes (read from disk, or from stdin with no
    ``real_path``): a notebook when ``path`` ends in ``.ipynb``, else Python source."""
    if enabled is None:
        enabled = config.enabled_for(path)
    if len(data) > config.max_file_size * 1e6:
        return unreadable(path, enabled, too_large(len(data), config), 1, 0)
    if path.endswith(".ipynb"):
        return _analyse_notebook(data, path, config, enabled)
    text, error = decode_source(data)
    if text is None:
        assert error is not None
        return unreadable(path, enabled, error.message, error.line, error.column)
    return analyse_text(text, path, config, enabled, real_path=real_path, keep_lines=real_path is None)


def _analyse_notebook(data: bytes, path: str, config: Config, enabled: frozenset[str]) -> FileAnalysis:
    """A notebook's code cells, linted as one module (see ``dropout_lint.notebook``)."""
    from dropout_lint import notebook

    try:
        source = notebook.to_source(notebook.load(data))
    except notebook.NotebookError as error:
        return unreadable(path, enabled, str(error), error.line, error.column)
    from dropout_lint.notebook_raw import cell_lines

    wanted = {number for number, _ in source.cells} | {problem.cell for problem in source.problems}
    source = replace(source, raw=cell_lines(data, wanted))
    analysis = analyse_text(source.text, path, config, enabled, keep_lines=True)
    problems = tuple(
        replace(
            make_diagnostic(PARSE_ERROR, problem.message, path, Span(problem.line, problem.column, problem.line, problem.column + 1)),
            cell=problem.cell,
        )
        for problem in source.problems
        if PARSE_ERROR.code in enabled
    )
    return replace(analysis, diagnostics=analysis.diagnostics + problems, notebook=source)
