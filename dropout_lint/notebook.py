"""Jupyter notebooks: their code cells as one module, and back.

The code cells are joined, in order, into one Python text that the engine lints like a
file; a comment line marks where each cell starts, so that a finding's line maps back
to its cell, and a fixed text splits back into cells. IPython syntax that is not Python
(``%matplotlib inline``, ``!pip install``, ``x = !ls``, ``obj?``) becomes a placeholder
``pass`` with the line's indentation, and is put back unchanged; a cell run by a cell
magic that is not Python (``%%bash``) is left out, as is a cell that does not parse
(it gets its own DL900). Cells are numbered as the notebook shows them: 1 is the first
cell, Markdown cells included.

Notebooks are plain JSON (nbformat 4); writing one back changes only the sources of
the cells a fix changed, in the file's own JSON layout, or refuses when that layout
cannot be reproduced.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass
from typing import Any, Optional

from dropout_lint import notebook_raw
from dropout_lint.notebook_raw import RawLine
from dropout_lint.source import parse_error, parse_module, python_check

_SEPARATOR = "# dropout-lint: cell {number}"
_SEPARATOR_LINE = re.compile(r"^# dropout-lint: cell (\d+)$")
_PLACEHOLDER = re.compile(r"^(\s*)pass  # dropout-lint: ipython (\d+)$")
_HELP = re.compile(r"^\s*[\w.]+\?{1,2}\s*$|^\s*\?")
_ASSIGNED_SHELL = re.compile(r"^\s*[\w.,\s]+=\s*[!%]")
# Cell magics whose body is Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "time_it"})


@dataclass(frozen=True)
class CellProblem:
    """A cell that cannot be linted (DL900), at a cell-relative place."""

    cell: int
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class NotebookSource:
    """A notebook's code as one module, with the way back."""

    text: str  # the joined module
    places: tuple[tuple[int, int], ...]  # per line of ``text`` (0-based): (cell, line in cell); (0, 0) for markers
    cells: tuple[tuple[int, tuple[str, ...]], ...]  # (cell number, its source lines) of the linted cells
    problems: tuple[CellProblem, ...]
    ipython: tuple[str, ...]  # the original lines the placeholders stand for, by number
    # Per cell: where each of its lines stands in the notebook's JSON text (notebook_raw).
    raw: tuple[tuple[int, tuple[RawLine, ...]], ...] = ()

    def where(self, line: int) -> tuple[int, int]:
        """The cell and cell-relative line of a 1-based line of ``text``."""
        if 1 <= line <= len(self.places):
            cell, inner = self.places[line - 1]
            if cell:
                return cell, inner
        return (self.cells[0][0] if self.cells else 1), 1

    def file_position(self, cell: int, line: int, column: int) -> Optional[tuple[int, int]]:
        """The line (1-based) and column (0-based) in the notebook's JSON text of a place
        in a cell; None where the raw text was not scanned."""
        lines = next((found for number, found in self.raw if number == cell), ())
        if not 1 <= line <= len(lines):
            return None
        raw = lines[line - 1]
        return raw[0], notebook_raw.column(raw, column)


class NotebookError(Exception):
    """The file is not a notebook the linter can read."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def load(data: bytes) -> dict[str, Any]:
    """The notebook's JSON, checked to be nbformat 4 with a list of cells."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotebookError(f"not a notebook: the file is not UTF-8 (byte 0x{data[error.start]:02x})") from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not a notebook: invalid JSON: {error.msg}", error.lineno, error.colno - 1) from None
    if not isinstance(notebook, dict):
        raise NotebookError("not a notebook: the JSON is not an object")
    if "worksheets" in notebook and "cells" not in notebook:
        raise NotebookError("nbformat 3 notebooks are not supported: convert with `jupyter nbconvert --to notebook`")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: it has no list of cells")
    return notebook


def cell_source(cell: Any) -> Optional[str]:
    """A code cell's source text; None for other cells."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else None


def to_source(notebook: dict[str, Any]) -> NotebookSource:
    """The joined module of a loaded notebook."""
    lines: list[str] = []
    places: list[tuple[int, int]] = []
    cells: list[tuple[int, tuple[str, ...]]] = []
    problems: list[CellProblem] = []
    ipython: list[str] = []
    for number, cell in enumerate(notebook["cells"], start=1):
        source = cell_source(cell)
        if source is None or not source.strip():
            continue
        own = source.splitlines()
        python = _python_lines(own, ipython)
        if python is None:
            continue  # a cell magic of another language
        code = "\n".join(python) + "\n"
        problem, _ = python_check(code)
        if problem is None:
            import libcst as cst

            try:
                parse_module(code)
            except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError) as error:
                problem = parse_error(code, error)
        if problem is not None:
            reason, span = problem
            problems.append(CellProblem(number, span.line, span.column, f"cell {number} was not linted: {reason}"))
            continue
        lines.append(_SEPARATOR.format(number=number))
        places.append((0, 0))
        for index, text in enumerate(python, start=1):
            lines.append(text)
            places.append((number, index))
        cells.append((number, tuple(own)))
    text = "\n".join(lines) + "\n" if lines else ""
    return NotebookSource(text, tuple(places), tuple(cells), tuple(problems), tuple(ipython))


def _python_lines(lines: list[str], ipython: list[str]) -> Optional[list[str]]:
    """A cell's lines with IPython syntax replaced by numbered placeholders; None for a
    cell whose cell magic runs another language."""
    out = list(lines)
    first = out[0].strip() if out else ""
    if first.startswith("%%"):
        name = first[2:].split(None, 1)[0] if len(first) > 2 else ""
        if name not in _PYTHON_CELL_MAGICS:
            return None
        out[0] = _placeholder(out[0], ipython)
    for index, line in enumerate(out):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or _HELP.match(line) or _ASSIGNED_SHELL.match(line):
            if not _continues(out[:index]):
                out[index] = _placeholder(line, ipython)
    return out


def _continues(before: list[str]) -> bool:
    """Whether the lines before end inside a statement (an open bracket or string), so
    that the next line, even one that starts with ``%`` (``% (epoch, loss))``), is its
    continuation and not IPython syntax."""
    if not before:
        return False
    try:
        for _ in tokenize.generate_tokens(io.StringIO("\n".join(before) + "\n").readline):
            pass
    except tokenize.TokenError:
        return True
    except (SyntaxError, ValueError):
        return False
    return before[-1].rstrip().endswith("\\")


def _placeholder(line: str, ipython: list[str]) -> str:
    ipython.append(line)
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}pass  # dropout-lint: ipython {len(ipython) - 1}"


def split_back(source: NotebookSource, text: str) -> dict[int, str]:
    """A (fixed) joined text back into each cell's new source, IPython lines restored."""
    sources: dict[int, list[str]] = {}
    current: Optional[list[str]] = None
    for line in text.split("\n"):
        marker = _SEPARATOR_LINE.match(line)
        if marker is not None:
            current = sources.setdefault(int(marker.group(1)), [])
            continue
        if current is None:
            continue
        placeholder = _PLACEHOLDER.match(line)
        if placeholder is not None and int(placeholder.group(2)) < len(source.ipython):
            line = source.ipython[int(placeholder.group(2))]
        current.append(line)
    out = {}
    for number, lines in sources.items():
        while lines and lines[-1] == "":
            lines.pop()  # the newline the join added after each cell
        out[number] = "\n".join(lines)
    return out


def with_sources(notebook: dict[str, Any], sources: dict[int, str]) -> dict[str, Any]:
    """The notebook with new sources for some cells, each in its cell's own form (a list
    of lines or one string, with or without a final newline)."""
    cells = list(notebook["cells"])
    for number, new in sources.items():
        cell = cells[number - 1]
        old = cell_source(cell) or ""
        if old.endswith("\n") and not new.endswith("\n"):
            new += "\n"
        if new == old:
            continue
        value: Any = new.splitlines(keepends=True) if isinstance(cell.get("source"), list) else new
        cells[number - 1] = {**cell, "source": value}
    return {**notebook, "cells": cells}


def dumps_like(notebook: dict[str, Any], original: bytes) -> Optional[bytes]:
    """The notebook as JSON in the layout of ``original`` (indent, escaping, final
    newline), or None when no layout reproduces the original exactly."""
    try:
        parsed = json.loads(original.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    bom = b"\xef\xbb\xbf" if original.startswith(b"\xef\xbb\xbf") else b""
    for indent in (1, 2, 4, None):
        for ascii_only in (False, True):
            for ending in ("\n", ""):
                for sort_keys in (False, True):
                    def dump(value: Any) -> bytes:
                        text = json.dumps(value, indent=indent, ensure_ascii=ascii_only, sort_keys=sort_keys)
                        return bom + (text + ending).encode("utf-8")

                    if dump(parsed) == original:
                        return dump(notebook)
    return None
