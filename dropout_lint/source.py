"""Reading a file into text, the way Python itself would decode it."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from typing import Optional


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
