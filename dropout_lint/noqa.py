"""``# noqa`` comments: which codes each line suppresses."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Optional

from dropout_lint.source import split_lines

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Noqa:
    """A noqa comment: ``codes`` is None for a bare ``# noqa`` (suppresses everything)."""

    line: int
    column: int
    end_column: int
    codes: Optional[tuple[str, ...]]

    def suppresses(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def parse_noqa(comment: str) -> Optional[tuple[int, int, Optional[tuple[str, ...]]]]:
    """(start, end, codes) of the noqa directive in a comment, or None."""
    match = _NOQA.search(comment)
    if match is None:
        return None
    raw = match.group("codes")
    codes = None if raw is None else tuple(c.upper() for c in re.split(r"[,\s]+", raw) if c)
    return match.start(), match.end(), codes


def collect_noqa(source: str) -> dict[int, Noqa]:
    """Line -> noqa directive, read from real comments (not from strings)."""
    if "noqa" not in source.lower():
        return {}
    out: dict[int, Noqa] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                _add(out, token.start[0], token.start[1], token.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # The tokenizer gave up part-way (libcst accepts some code it rejects);
        # fall back to reading comments off the lines.
        for number, line in enumerate(split_lines(source), start=1):
            index = line.find("#")
            if index >= 0 and number not in out:
                _add(out, number, index, line[index:])
    return out


def _add(out: dict[int, Noqa], line: int, column: int, comment: str) -> None:
    parsed = parse_noqa(comment)
    if parsed is not None:
        start, end, codes = parsed
        out[line] = Noqa(line, column + start, column + end, codes)
