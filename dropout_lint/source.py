"""Reading a file into text, the way Python itself would decode it."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from dropout_lint.diagnostics import Span

if TYPE_CHECKING:
    import libcst as cst

_LIBCST_POSITION = re.compile(r"error at (\d+):(\d+)")
# Python's own line breaks; str.splitlines() also splits on form feeds and other characters.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of a source text as Python numbers them."""
    return LINE_BREAK.split(text)


@dataclass(frozen=True)
class DecodeError:
    message: str
    line: int
    column: int


def decode_source(data: bytes) -> tuple[Optional[str], Optional[DecodeError]]:
    """The text of a Python file (BOM and encoding cookie honoured), or why it has none."""
    if b"\x00" in data:
        offset = data.index(b"\x00")
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1)
        return None, DecodeError("file contains a NUL byte (is it a binary file?)", line, column)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if b"coding" in data[:200]:
            return None, DecodeError(f"cannot read the encoding declaration: {exc.msg}", exc.lineno or 1, 0)
        encoding = "utf-8"  # no declaration: undecodable UTF-8 in the first lines
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        return None, DecodeError(
            f"cannot decode byte 0x{data[exc.start]:02x} as {encoding}"
            " (declare the encoding with a `# -*- coding: ... -*-` line)",
            line,
            column,
        )
    except LookupError:
        return None, DecodeError(f"unknown encoding {encoding!r}", 1, 0)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


# Brackets, and the start of a top-level definition, where no bracket can be open (a
# bracket in a string would otherwise leave the count off for the rest of the file).
_BRACKETS = re.compile(r"[()\[\]{}]|^(?:def|class|async def|@)\b", re.MULTILINE)


def risky(source: str) -> bool:
    """Whether code might be nested deeply enough to trouble libcst's parser (so that
    ``python_check`` should look first): brackets nested 50 deep, a bracketed
    expression of 20,000 characters, a line of 5,000, a thousand backslash
    continuations, or a file of 500 kB. Ordinary code is none of these, and the screen
    costs a tenth of Python's parser."""
    if len(source) > 500_000 or source.count("\\\n") > 1000:
        return True
    depth = 0
    start = 0
    for match in _BRACKETS.finditer(source):
        if len(match.group()) > 1:
            depth = 0
        elif match.group() in "([{":
            if depth == 0:
                start = match.start()
            depth += 1
            if depth >= 50:
                return True
        elif depth:
            depth -= 1
            if depth == 0 and match.start() - start > 20_000:
                return True
    return depth > 0 and len(source) - start > 20_000 or max(map(len, source.splitlines()), default=0) > 5_000


def parse_module(source: str) -> cst.Module:
    """libcst's parse of a module, without validating each node as it is built (see
    ``unchecked``: validation stays on for every other thread, and for every node built
    after the parse, such as a fix's). libcst is imported here, by the first parse: reading
    and decoding files needs none of it."""
    import libcst as cst

    from dropout_lint.unchecked import unchecked

    with unchecked():
        return cst.parse_module(source)


def python_check(source: str) -> tuple[Optional[tuple[str, Span]], bool]:
    """Why code is too deeply nested to lint (or None), and whether Python's own parser
    accepts it.

    libcst's native parser takes quadratic time on deeply nested brackets and crashes
    the process (a stack overflow, no exception) on a few thousand levels, or on an
    operator chain of thousands of terms. Python's own parser refuses both quickly and
    safely (200 nested brackets, its recursion limit), so it is asked first. Its other
    syntax errors are left to libcst, which may know newer syntax than the running
    Python."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except RecursionError:
        return ("the code is nested too deeply to lint (Python's own parser gives up on it)", Span(1, 0, 1, 1)), False
    except MemoryError:
        return ("the file is too large to parse", Span(1, 0, 1, 1)), False
    except SyntaxError as syntax:
        if "too many nested" in (syntax.msg or "") or "too complex" in (syntax.msg or ""):
            line = syntax.lineno or 1
            column = max((syntax.offset or 1) - 1, 0)
            return (f"syntax error: {syntax.msg}", Span(line, column, line, column + 1)), False
        return None, False
    except ValueError:
        return None, False
    return None, True


def parse_error(source: str, exc: BaseException) -> tuple[str, Span]:
    """The message and place of a syntax error, as precise as Python's own parser gives."""
    if isinstance(exc, RecursionError):
        return "the code is nested too deeply to parse", Span(1, 0, 1, 1)
    if isinstance(exc, MemoryError):
        return "the file is too large to parse", Span(1, 0, 1, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError as syntax:
        line = syntax.lineno or 1
        column = max((syntax.offset or 1) - 1, 0)
        return f"syntax error: {syntax.msg}", Span(line, column, line, column + 1)
    except (ValueError, RecursionError, MemoryError):
        pass
    text = getattr(exc, "message", None) or str(exc)
    first = text.splitlines()[0] if text else "cannot parse"
    found = _LIBCST_POSITION.search(first)
    if found:
        line, column = int(found.group(1)), max(int(found.group(2)) - 1, 0)
    else:
        line = getattr(exc, "raw_line", 1) or 1
        column = getattr(exc, "raw_column", 0) or 0
    return f"syntax error: {first}", Span(line, column, line, column + 1)
