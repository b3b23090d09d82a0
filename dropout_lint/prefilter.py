"""Which files can be skipped without parsing: those that contain no word a selected rule
looks for.

Every dropout API the rules know has one of the words of ``DROPOUT_API`` in its name
(``Dropout``, ``dropout2d``, ``scaled_dot_product_attention``, ``flash_attn_func``,
``MultiheadAttention``, ``LSTM``...), and an alias is still imported by that name, so a
file without any of them cannot call one. A file is parsed when it holds a word of a
selected rule:

| rules | words |
| --- | --- |
| DL203, DL204, DL401, DL402, DL404-DL406, DL409 | `drop`, `attention`, `attn`, `transformer`, `lstm`, `gru`, `rnn` (any case) |
| DL304 | `.eval`, `.train` |
| DL305, DL410 | `.training` |
| DL306 | `def train` |
| DL902 | `noqa` |
| the cross-file rules (DL1xx, DL201, DL202, DL205, DL301-DL303, DL403, DL407, DL408) | every file: a file without any such word may still hold a constant, a helper or a class that a finding elsewhere depends on (`Block(drop=0.9)` in a file that never names dropout is a DL202 when `Block` passes it to `nn.Dropout`) |

DL406's cross-file part (a module that calls an attention function of the run, by name
or stored in `__init__`, with a fixed rate) needs both files to hold a word: the
function's file names its kernel; a module that calls it with no such word anywhere is
not parsed when only these rules run.

A file that Python's own parser rejects is always parsed, for its DL900.
"""

from __future__ import annotations

import re
from functools import lru_cache

DROPOUT_API = r"drop|attention|attn|transformer|lstm|gru|rnn"
TOKENS: dict[str, str] = {
    **{code: DROPOUT_API for code in ("DL203", "DL204", "DL401", "DL402", "DL404", "DL405", "DL406", "DL409")},
    "DL304": r"\.\s*(?:eval|train)\b",
    "DL305": r"\.\s*training\b",
    "DL306": r"def\s+train\b",
    "DL410": r"\.\s*training\b",
    "DL902": r"noqa",
}
# Rules whose findings need every file of the run (or the whole file, whatever it holds).
ALWAYS = frozenset(
    {"DL101", "DL102", "DL103", "DL104", "DL105", "DL106", "DL201", "DL202", "DL205", "DL301", "DL302", "DL303", "DL403", "DL407", "DL408"}
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
