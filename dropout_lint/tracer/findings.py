"""The tracer's findings as diagnostics: joined with the static pass's by span, and
filtered by the selection, ``# noqa`` comments and ``stochastic-modules``.

A static finding is confirmed by a trace finding that proves it (``PROOFS``) in the same
file (however either names it) and in the same statement (or, for a module built in
``forward`` or a hand-written dropout, the same function or class). A trace finding
that confirms one is not reported again; the others are reported on their own, unless
the rule is not selected for their file or the code declares them deliberate:

* ``# noqa: CODE`` on the line the finding points at, on the first line of its
  statement, or on the line that builds the module it is about (or a module holding
  it); CODE is the trace rule's, or that of a static rule it proves (``PROOFS``);
* the module it is about, or one holding it, matches ``stochastic-modules`` (for the
  rules about randomness in eval mode, ``STOCHASTIC``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any, Optional

from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Span
from dropout_lint.engine import FileResult
from dropout_lint.selection import RULES_BY_CODE
from dropout_lint.tracer.places import Place, place_of, real
from dropout_lint.tracer.process import TraceOutcome


@dataclass(frozen=True)
class Proof:
    """A trace finding of ``code`` within ``scope`` of a static finding proves it."""

    code: str
    scope: str  # "statement", "function" or "class"


# Static rules the tracer can confirm: what it checks for each, and what proves it.
CHECKABLE: dict[str, str] = {
    "DL101": "dropout applied to the raw input",
    "DL102": "dropout making the output",
    "DL104": "a dropout module that never runs",
    "DL401": "functional dropout active in eval",
    "DL402": "a dropout module built in forward dropping in eval",
    "DL404": "functional dropout active in eval",
    "DL405": "functional dropout inactive in training",
    "DL406": "attention dropout active in eval",
    "DL408": "randomness in eval mode",
}
# A random draw in eval mode (DL502) at the place of a static finding about dropout
# active in eval is that finding's draw, proved, not a second problem.
PROOFS: dict[str, tuple[Proof, ...]] = {
    "DL101": (Proof("DL101", "statement"),),
    "DL102": (Proof("DL102", "statement"),),
    "DL104": (Proof("DL104", "statement"),),
    "DL401": (Proof("DL401", "statement"), Proof("DL502", "statement")),
    "DL402": (Proof("DL501", "function"), Proof("DL502", "function")),
    "DL404": (Proof("DL401", "statement"), Proof("DL502", "statement")),
    "DL405": (Proof("DL405", "statement"),),
    "DL406": (Proof("DL406", "statement"), Proof("DL502", "statement")),
    "DL408": (Proof("DL502", "function"), Proof("DL503", "class")),
}
# Trace rules about randomness in eval mode, which a module meant to stay random has.
STOCHASTIC = frozenset({"DL401", "DL406", "DL501", "DL502", "DL503"})
# Trace rules about a dropout that drops in eval mode: the random draw (DL502) of that
# dropout at the same line is the same finding.
_DROPS_IN_EVAL = frozenset({"DL401", "DL406", "DL501"})


@dataclass
class _Item:
    """One trace finding, from one or more traced models."""

    finding: dict[str, Any]
    outcomes: list[int]  # indexes of the outcomes that found it
    file: Optional[str]  # real path
    line: Optional[int]
    used: bool = False


@dataclass
class _Places:
    """Each file read once per join."""

    read: dict[str, Place] = field(default_factory=dict)

    def __call__(self, path: str) -> Place:
        if path not in self.read:
            self.read[path] = place_of(path)
        return self.read[path]


@dataclass(frozen=True)
class TraceReport:
    """The diagnostics, how many findings each traced model had among them, and how
    many the code declared deliberate."""

    results: list[FileResult]
    counts: list[int]
    declared: int


def _items(outcomes: Sequence[TraceOutcome]) -> list[_Item]:
    """The findings of every outcome; one finding found by several models once, and the
    random draw (DL502) of a dropout reported at the same line left to that finding."""
    items: dict[tuple[Any, ...], _Item] = {}
    for index, outcome in enumerate(outcomes):
        for finding in outcome.findings:
            file = real(finding["file"]) if finding.get("file") else None
            key = (finding["code"], finding["message"], file, finding.get("line"))
            if key in items:
                if index not in items[key].outcomes:
                    items[key].outcomes.append(index)
            else:
                items[key] = _Item(finding, [index], file, finding.get("line"))
    dropping = {(item.file, item.line) for item in items.values() if item.finding["code"] in _DROPS_IN_EVAL}
    return [item for item in items.values() if item.finding["code"] != "DL502" or (item.file, item.line) not in dropping]


def _within(place: Place, diagnostic: Diagnostic, scope: str, line: int) -> bool:
    """Whether ``line`` lies in the statement (function, class) of the diagnostic."""
    first, last = diagnostic.span.line, diagnostic.span.end_line
    if scope == "statement":
        start, end = place.statement(first)
        at = place.statement(line)
        return min(first, start) <= at[1] and at[0] <= max(last, end)
    found = place.function(first) if scope == "function" else place.class_(first)
    return found is not None and found[0] <= line <= found[1]


def _status(diagnostic: Diagnostic, place: Place, items: list[_Item], ran: set[tuple[str, int]]) -> str:
    proofs = PROOFS[diagnostic.code]
    proving = [
        item
        for item in items
        if item.line is not None
        and item.file == place.path
        and any(p.code == item.finding["code"] and _within(place, diagnostic, p.scope, item.line) for p in proofs)
    ]
    for item in proving:
        item.used = True
    if proving:
        return "confirmed"
    what = CHECKABLE[diagnostic.code]
    if any(path == place.path and _within(place, diagnostic, "statement", line) for path, line in ran):
        return f"not reproduced: the line ran, but no {what} was seen"
    if all(p.scope == "statement" for p in proofs):
        return "not reproduced: the traced forward pass did not run this line"
    return f"not reproduced: no {what} was seen in the traced forward pass"


def join(static: Sequence[FileResult], outcomes: Sequence[TraceOutcome], config: Config) -> TraceReport:
    """Static findings marked confirmed, not reproduced or not checkable at run time;
    the tracer's own findings (DL5xx and confirmations without a static twin) added."""
    places = _Places()
    items = _items(outcomes)
    ran = {(real(c["file"]), c["line"]) for o in outcomes for c in o.calls if c.get("file") and c.get("line")}
    results: list[FileResult] = []
    for result in static:
        marked = []
        for d in result.diagnostics:
            if d.code not in CHECKABLE:
                status = "not checkable at run time"
            elif d.cell is not None:
                status = "not checkable at run time (a notebook cell)"
            else:
                status = _status(d, places(real(result.path)), items, ran)
            marked.append(replace(d, runtime=status))
        results.append(replace(result, diagnostics=tuple(marked)))
    shown = {real(r.path): r.path for r in static}
    report = _report([i for i in items if not i.used], outcomes, config, places, shown)
    merged: dict[str, FileResult] = {r.path: r for r in results}
    for result in report.results:
        previous = merged.get(result.path)
        if previous is None:
            merged[result.path] = result
        else:
            found = tuple(sorted({*previous.diagnostics, *result.diagnostics}, key=lambda d: d.sort_key))
            merged[result.path] = replace(previous, diagnostics=found, lines=previous.lines or result.lines)
    return TraceReport([merged[path] for path in sorted(merged)], report.counts, report.declared)


def trace_results(outcomes: Sequence[TraceOutcome], config: Config) -> TraceReport:
    """The tracer's findings alone (``dropout-lint trace``)."""
    return _report(_items(outcomes), outcomes, config, _Places(), {})


def _display(path: Optional[str], shown: dict[str, str]) -> str:
    if not path:
        return "<trace>"
    if path in shown:
        return shown[path]
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _report(
    items: list[_Item], outcomes: Sequence[TraceOutcome], config: Config, places: _Places, shown: dict[str, str]
) -> TraceReport:
    by_path: dict[str, list[Diagnostic]] = {}
    counts = [0] * len(outcomes)
    declared = 0
    for item in items:
        code = item.finding["code"]
        path = _display(item.file, shown)
        if code not in config.enabled_for(path):
            continue
        if _declared(item, config, places):
            declared += 1
            continue
        for index in item.outcomes:
            counts[index] += 1
        rule = RULES_BY_CODE[code]
        line = item.line or 1
        models = ", ".join(dict.fromkeys(f"`{outcomes[i].model}`" for i in item.outcomes))
        devices = ", ".join(sorted({outcomes[i].device for i in item.outcomes}))
        diagnostic = Diagnostic(
            rule.code,
            rule.name,
            rule.severity,
            f"{item.finding['message']} (found by tracing {models} on {devices})",
            path,
            Span(line, 0, line, 0),
        )
        by_path.setdefault(path, []).append(diagnostic)
    results = []
    for path, found in sorted(by_path.items()):
        place = places(real(path)) if path != "<trace>" else Place(path)
        diagnostics = tuple(sorted((_spanned(d, place.lines) for d in found), key=lambda d: d.sort_key))
        results.append(FileResult(path, diagnostics, place.lines))
    return TraceReport(results, counts, declared)


def _spanned(diagnostic: Diagnostic, lines: tuple[str, ...]) -> Diagnostic:
    """A runtime finding points at a whole line: mark the code on it."""
    line = diagnostic.span.line
    if not 1 <= line <= len(lines):
        return diagnostic
    text = lines[line - 1]
    start = len(text) - len(text.lstrip())
    return replace(diagnostic, span=Span(line, start, line, len(text.rstrip())))


def _silenced_by(code: str) -> frozenset[str]:
    """The codes whose ``# noqa`` silences a trace finding: its own, and the static rules
    it proves (``# noqa: DL404`` on ``F.dropout(x, p, training=True)`` also means the
    DL401 the trace makes of that line)."""
    return frozenset({code, *(static for static, proofs in PROOFS.items() if any(p.code == code for p in proofs))})


def _declared(item: _Item, config: Config, places: _Places) -> bool:
    """Whether the code says that this finding is deliberate (see the module's doc)."""
    code = item.finding["code"]
    codes = _silenced_by(code)
    modules = item.finding.get("modules") or []
    lines: list[tuple[str, int]] = []
    if item.file is not None and item.line is not None:
        lines += [(item.file, item.line), (item.file, places(item.file).statement(item.line)[0])]
    lines += [(real(m["built"][0]), m["built"][1]) for m in modules if m.get("built")]
    if any(places(path).suppresses(line, c) for path, line in lines for c in codes):
        return True
    if code in STOCHASTIC and config.stochastic_modules:
        return any(_matches(module, config.stochastic_modules) for module in modules)
    return False


def _matches(module: dict[str, Any], patterns: Iterable[str]) -> bool:
    """A module path (or one of its owners') or class name that a pattern matches."""
    names = [module["class"]]
    path = module.get("path")
    if path:
        parts = path.split(".")
        names += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatchcase(name, pattern) for name in names for pattern in patterns)
