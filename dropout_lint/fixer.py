"""Apply the fixes of findings to source text, and write fixed files safely.

Fixes are edits of spans computed by the checks from the syntax tree (so they keep the
code's formatting and comments). Edits that overlap are left for the next round: after
each round the text is parsed and linted again, until nothing is left to fix or a bound
is reached. A round that would leave the text unparsable is dropped.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

from dropout_lint.atomic import write_atomic
from dropout_lint.catalog import RULES
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Fix, FixSafety
from dropout_lint.engine import lint_source
from dropout_lint.source import LINE_BREAK, decode_source

MAX_ROUNDS = 10
FIXABLE = frozenset(rule.code for rule in RULES if rule.fix_safety is not None)


def applicable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and (unsafe or fix.safety is FixSafety.SAFE)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(match.end() for match in LINE_BREAK.finditer(text))
    return starts


def _offset(starts: Sequence[int], text: str, line: int, column: int) -> Optional[int]:
    if not 1 <= line <= len(starts):
        return None
    offset = starts[line - 1] + column
    return offset if offset <= len(text) else None


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """The text with every fix applied that does not overlap an earlier one (by
    position), and how many were applied."""
    starts = _line_starts(text)
    edits: list[tuple[int, int, str]] = []
    for fix in fixes:
        start = _offset(starts, text, fix.span.line, fix.span.column)
        end = _offset(starts, text, fix.span.end_line, fix.span.end_column)
        if start is not None and end is not None and start <= end:
            edits.append((start, end, fix.replacement))
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    out: list[str] = []
    position = 0
    applied = 0
    for start, end, replacement in edits:
        if start < position:
            continue  # overlaps an edit already taken: the next round sees it again
        out.append(text[position:start])
        out.append(replacement)
        position = end
        applied += 1
    out.append(text[position:])
    return "".join(out), applied


@dataclass(frozen=True)
class FixOutcome:
    """What fixing one file's text did."""

    path: str
    original: str
    fixed: str
    applied: int  # fixes applied over all rounds
    error: Optional[str] = None  # why fixing stopped early (the text kept is still valid)
    cells: tuple[tuple[int, str, str], ...] = ()  # a notebook's changed cells: (number, old, new)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def fix_text(source: str, path: str, config: Config, *, unsafe: bool = False) -> FixOutcome:
    """Apply the applicable fixes to ``source`` until none is left (``path`` decides the
    per-file settings). The result always parses: a round whose edits would break the
    code is dropped and said so."""
    # Only the fixable rules run between rounds: the others cannot change what is fixed.
    selected = tuple(sorted(config.enabled & FIXABLE))
    if not selected:
        return FixOutcome(path, source, source, 0)
    import libcst as cst  # a file to fix is parsed (a run with nothing to fix needs no libcst)

    rounds_config = config.merged(select=selected)
    text = source
    applied = 0
    for _ in range(MAX_ROUNDS):
        fixes = [d.fix for d in lint_source(text, path, rounds_config) if applicable(d, unsafe) and d.fix is not None]
        if not fixes:
            break
        fixed, count = apply_fixes(text, fixes)
        if count == 0 or fixed == text:
            break
        try:
            cst.parse_module(fixed)
        except Exception as error:  # noqa: BLE001 - any parser failure means: keep the old text
            reason = getattr(error, "message", None) or str(error).splitlines()[0]
            return FixOutcome(path, source, text, applied, f"a fix would leave the file unparsable ({reason}); those fixes were not applied")
        text = fixed
        applied += count
    return FixOutcome(path, source, text, applied)


def encoding_of(data: bytes) -> str:
    """How Python decodes these bytes (``utf-8-sig`` keeps a BOM on writing back)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def fix_file(path: str, config: Config, *, unsafe: bool = False, write: bool = True) -> FixOutcome:
    """Fix one file on disk (``write``) or only compute what fixing would do."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return FixOutcome(path, "", "", 0, f"cannot read file: {error.strerror or error}")
    outcome, written = fix_data(data, path, config, unsafe=unsafe)
    if write and written is not None:
        try:
            write_atomic(path, written)
        except OSError as error:
            reason = f"cannot write the fixed file: {error.strerror or error}"
            return FixOutcome(path, outcome.original, outcome.original, 0, reason)
    return outcome


def fix_data(data: bytes, path: str, config: Config, *, unsafe: bool = False) -> tuple[FixOutcome, Optional[bytes]]:
    """What fixing a file's bytes does (``path`` decides the per-file settings and whether
    it is a notebook), and the bytes to write: None when nothing changed."""
    if path.endswith(".ipynb"):
        return _fix_notebook(path, data, config, unsafe)
    text, problem = decode_source(data)
    if text is None:
        assert problem is not None
        return FixOutcome(path, "", "", 0, problem.message), None
    outcome = fix_text(text, path, config, unsafe=unsafe)
    if not outcome.changed:
        return outcome, None
    try:
        return outcome, outcome.fixed.encode(encoding_of(data))
    except UnicodeEncodeError as error:
        return FixOutcome(path, text, text, 0, f"cannot write the fixed file: {error}"), None


def _fix_notebook(path: str, data: bytes, config: Config, unsafe: bool) -> tuple[FixOutcome, Optional[bytes]]:
    """Fix a notebook's code cells; only the sources of changed cells are written, in
    the notebook's own JSON layout (outputs and metadata untouched)."""
    from dropout_lint import notebook

    try:
        loaded = notebook.load(data)
    except notebook.NotebookError as error:
        return FixOutcome(path, "", "", 0, str(error)), None
    source = notebook.to_source(loaded)
    outcome = fix_text(source.text, path, config, unsafe=unsafe)
    before = notebook.split_back(source, source.text)
    after = notebook.split_back(source, outcome.fixed)
    fixed = notebook.with_sources(loaded, {n: text for n, text in after.items() if text != before.get(n)})
    cells = tuple(
        (number, notebook.cell_source(old) or "", notebook.cell_source(new) or "")
        for number, (old, new) in enumerate(zip(loaded["cells"], fixed["cells"]), start=1)
        if old is not new
    )
    if not cells:
        return FixOutcome(path, source.text, source.text, 0, outcome.error), None
    written = notebook.dumps_like(fixed, data)
    if written is None:
        reason = "its JSON layout cannot be reproduced, so writing it would reformat the whole file; fix it by hand"
        return FixOutcome(path, source.text, source.text, 0, f"not fixed: {reason}"), None
    return FixOutcome(path, source.text, outcome.fixed, outcome.applied, outcome.error, cells), written


def unified_diff(outcome: FixOutcome) -> str:
    """The change a fix makes, as a unified diff of the file (of each changed cell, for
    a notebook)."""
    if outcome.cells:
        return "".join(_diff(old, new, f"{outcome.path}:cell {number}") for number, old, new in outcome.cells)
    return _diff(outcome.original, outcome.fixed, outcome.path)


def _diff(old: str, new: str, label: str) -> str:
    import difflib

    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=label, tofile=label)
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)
