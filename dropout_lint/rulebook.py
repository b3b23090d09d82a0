"""The rule book: one Markdown page per rule, shipped inside the package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from dropout_lint.catalog import Rule

_HERE = Path(__file__).resolve().parent
# Installed from a wheel the pages sit in the package; in a source checkout, beside it.
_CANDIDATES = (_HERE / "rules", _HERE.parent / "rules")

# ``bad``/``good``/``fixed`` blocks are linted; ``trace-bad``/``trace-good`` blocks (the
# runtime rules, DL5xx) are complete modules with a ``Model`` and ``example_inputs()``
# that the tracer runs.
_BLOCK = re.compile(
    r"^```python (?P<kind>bad|good|fixed|trace-bad|trace-good)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL
)
_SECTION = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)


def pages_dir() -> Optional[Path]:
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    return None


def page_path(rule: Rule) -> Optional[Path]:
    folder = pages_dir()
    if folder is None:
        return None
    path = folder / f"{rule.code}-{rule.name}.md"
    return path if path.is_file() else None


def page_text(rule: Rule) -> Optional[str]:
    path = page_path(rule)
    return path.read_text(encoding="utf-8") if path is not None else None


@dataclass(frozen=True)
class Example:
    kind: str  # "bad", "good", "fixed", "trace-bad" or "trace-good"
    code: str
    line: int  # line of the page where the code starts

    @property
    def traced(self) -> bool:
        """Whether the block is checked by the tracer rather than the static linter."""
        return self.kind.startswith("trace-")


def examples(text: str) -> list[Example]:
    """The executable code blocks of a page."""
    out = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        out.append(Example(match.group("kind"), match.group("code"), line))
    return out


def sections(text: str) -> dict[str, str]:
    """Section title -> its text, for the ``## `` sections of a page."""
    found = list(_SECTION.finditer(text))
    out = {}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        out[match.group("title").strip()] = text[match.end() : end].strip()
    return out


def first_paragraph(text: str, section: str = "What it does") -> str:
    body = sections(text).get(section, "")
    return " ".join(body.split("\n\n", 1)[0].split())
