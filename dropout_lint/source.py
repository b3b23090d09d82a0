"""Reading a file into text, the way Python itself would decode it."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import Optional

from dropout_lint.diagnostics import Span

_LIBCST_POSITION = re.compile(r"error at (\d+):(\d+)")


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
        return None, DecodeError(f"cannot read the encoding declaration: {exc.msg}", exc.lineno or 1, 0)
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
