"""Which files can be skipped without parsing: those that contain no word a selected rule
looks for.

Each rule declares its words in the catalog (``Rule.words``): the dropout API's words for
the rules about dropout calls, `.eval`/`.train` for DL304, `.training` for DL305 and DL410,
`def train` for DL306, `noqa` for DL902. A file is parsed when it holds a word of a
selected rule. A cross-file rule declares none (DL406 too, for its part that follows a rate
into an attention function of another file), and while one is selected every file is
parsed: a file without any such word may still hold a constant, a helper or a class that
a finding elsewhere depends on (`Block(drop=0.9)` in a file that never names dropout is a
DL202 when `Block` passes it to `nn.Dropout`).

A file that Python's own parser rejects is always parsed, for its DL900.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dropout_lint.catalog import RULES

# Each rule's words, and the rules that need every file (those that have a check and no
# words), from the catalog.
TOKENS: dict[str, str] = {rule.code: rule.words for rule in RULES if rule.words is not None}
ALWAYS = frozenset(
    rule.code for rule in RULES if rule.words is None and (rule.file_check or rule.project_check)
)


@lru_cache(maxsize=64)
def _pattern(enabled: frozenset[str]) -> re.Pattern[str] | None:
    """The words of the enabled rules; None when a rule needs every file."""
    if enabled & ALWAYS:
        return None
    words = sorted({TOKENS[code] for code in enabled if code in TOKENS})
    return re.compile("|".join(f"(?:{word})" for word in words) or r"(?!)", re.IGNORECASE)


def may_matter(source: str, enabled: frozenset[str]) -> bool:
    """Whether a file that parses can give a finding of the enabled rules."""
    pattern = _pattern(enabled)
    return pattern is None or pattern.search(source) is not None
