"""Where a notebook cell's code stands in the notebook's own file, its JSON text.

Code scanning and GitHub annotations place a finding in the raw ``.ipynb``: a line of a
cell must become the line of the JSON string that holds it, and a column the place in
that string, escapes (``\\"``, ``\\t``, ``\\u00e9``) counted as written. The JSON is
scanned once for the strings of each cell's ``source`` (a list of strings or one
string); each line of a cell keeps its raw line, column and text.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Collection, Iterator

RawLine = tuple[int, int, str]  # a cell line's raw line (1-based), column (0-based) and JSON text

_STRUCTURE = re.compile(r'["\[\]{}]')
_SPACE = re.compile(r"[ \t\r\n]*")
_SCALAR_END = re.compile(r"[\s,\]}]")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _Malformed(Exception):
    """The text is not the JSON the scan expects (``notebook.load`` reports why)."""


def cell_lines(data: bytes, wanted: Collection[int]) -> tuple[tuple[int, tuple[RawLine, ...]], ...]:
    """For each wanted cell (numbered from 1, Markdown cells counted), where each of its
    source lines (as ``str.splitlines`` splits them) stands in the raw text. Empty when
    the text cannot be scanned."""
    try:
        text = data.decode("utf-8-sig")
        return tuple(_cells(text, frozenset(wanted)))
    except (UnicodeDecodeError, IndexError, ValueError, _Malformed):
        return ()


def column(raw: RawLine, decoded: int) -> int:
    """The raw column of a cell line's ``decoded``-th character (0-based)."""
    _, start, text = raw
    index = count = 0
    while count < decoded and index < len(text):
        index += _decode_one(text, index)[1]
        count += 1
    return start + index


def _cells(text: str, wanted: frozenset[int]) -> Iterator[tuple[int, tuple[RawLine, ...]]]:
    root = dict(_members(text, _space(text, 0)))
    if "cells" not in root:
        return
    starts = [0, *(match.end() for match in re.finditer("\n", text))]
    for number, start in enumerate(_elements(text, root["cells"]), start=1):
        if number not in wanted or text[start] != "{":
            continue
        source = dict(_members(text, start)).get("source")
        if source is None:
            continue
        if text[source] == '"':
            tokens = [source]
        elif text[source] == "[":
            tokens = [element for element in _elements(text, source) if text[element] == '"']
        else:
            continue
        yield number, _lines(text, tokens, starts)


def _lines(text: str, tokens: list[int], starts: list[int]) -> tuple[RawLine, ...]:
    """The raw place of each line of the text that the string tokens join into."""
    decoded: list[str] = []
    offsets: list[int] = []  # per decoded character: where it is written
    widths: list[int] = []  # and how many raw characters write it
    closes: list[int] = []  # and where its string closes
    for token in tokens:
        close = _string_end(text, token) - 1
        index = token + 1
        while index < close:
            # Up to the next escape, each character is written as it reads.
            escape = text.find("\\", index, close)
            stop = close if escape < 0 else escape
            decoded.extend(text[index:stop])
            offsets.extend(range(index, stop))
            widths.extend([1] * (stop - index))
            closes.extend([close] * (stop - index))
            index = stop
            if index < close:
                char, width = _decode_one(text, index)
                decoded.append(char)
                offsets.append(index)
                widths.append(width)
                closes.append(close)
                index += width
    out = []
    position = 0
    for line in "".join(decoded).splitlines(keepends=True):
        first, last = position, position + len(line) - 1
        # A line split over two strings keeps the part in its first one.
        end = offsets[last] + widths[last] if closes[last] == closes[first] else closes[first]
        row = bisect_right(starts, offsets[first]) - 1
        out.append((row + 1, offsets[first] - starts[row], text[offsets[first] : end]))
        position += len(line)
    return tuple(out)


def _decode_one(text: str, index: int) -> tuple[str, int]:
    """The character written at ``index`` of a JSON string's body, and its raw width."""
    if text[index] != "\\":
        return text[index], 1
    kind = text[index + 1]
    if kind != "u":
        if kind not in _ESCAPES:
            raise _Malformed
        return _ESCAPES[kind], 2
    code = int(text[index + 2 : index + 6], 16)
    if 0xD800 <= code < 0xDC00 and text[index + 6 : index + 8] == "\\u":
        low = int(text[index + 8 : index + 12], 16)
        if 0xDC00 <= low < 0xE000:  # a surrogate pair is one character, as json decodes it
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
    return chr(code), 6


def _space(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _string_end(text: str, index: int) -> int:
    """The end of the JSON string that opens at ``index`` (found with ``str.find``, fast
    over the large strings of a notebook's outputs)."""
    if text[index] != '"':
        raise _Malformed
    position = index + 1
    while True:
        quote = text.find('"', position)
        if quote < 0:
            raise _Malformed
        before = quote
        while text[before - 1] == "\\":
            before -= 1
        if (quote - before) % 2 == 0:  # not escaped
            return quote + 1
        position = quote + 1


def _value_end(text: str, index: int) -> int:
    if text[index] == '"':
        return _string_end(text, index)
    if text[index] not in "[{":
        match = _SCALAR_END.search(text, index)
        return match.start() if match is not None else len(text)
    depth = 0
    while True:
        match = _STRUCTURE.search(text, index)
        if match is None:
            raise _Malformed
        index = match.start()
        char = text[index]
        if char == '"':
            index = _string_end(text, index)
            continue
        depth += 1 if char in "[{" else -1
        index += 1
        if depth == 0:
            return index


def _members(text: str, index: int) -> Iterator[tuple[str, int]]:
    """(key, where its value starts) of the object at ``index``."""
    if text[index] != "{":
        raise _Malformed
    index = _space(text, index + 1)
    if text[index] == "}":
        return
    while True:
        end = _string_end(text, index)
        key = json.loads(text[index:end])
        index = _space(text, end)
        if text[index] != ":":
            raise _Malformed
        index = _space(text, index + 1)
        yield key, index
        index = _space(text, _value_end(text, index))
        if text[index] == "}":
            return
        if text[index] != ",":
            raise _Malformed
        index = _space(text, index + 1)


def _elements(text: str, index: int) -> Iterator[int]:
    """Where each element of the array at ``index`` starts."""
    if text[index] != "[":
        raise _Malformed
    index = _space(text, index + 1)
    if text[index] == "]":
        return
    while True:
        yield index
        index = _space(text, _value_end(text, index))
        if text[index] == "]":
            return
        if text[index] != ",":
            raise _Malformed
        index = _space(text, index + 1)
