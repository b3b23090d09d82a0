"""Running the tracer from the command line, without importing torch here.

The trace runs in a child process with a time limit; its findings come back as JSON
and become diagnostics like the static pass's, or mark the static pass's findings as
confirmed at run time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from dropout_lint.diagnostics import Diagnostic, Span
from dropout_lint.engine import FileResult
from dropout_lint.registry import RULES_BY_CODE

# Static rules the tracer can confirm, and what it checks for each.
CHECKABLE = {
    "DL101": "dropout applied to the raw input",
    "DL102": "dropout making the output",
    "DL104": "a dropout module that never runs",
    "DL401": "functional dropout active in eval",
    "DL405": "functional dropout inactive in training",
    "DL406": "attention dropout active in eval",
}


@dataclass(frozen=True)
class TraceRequest:
    target: str
    inputs: tuple[str, ...] = ()
    shapes: tuple[str, ...] = ()
    dtype: str = "float32"
    example_inputs: Optional[str] = None
    weights: Optional[str] = None
    device: str = "auto"
    seed: int = 0
    conformance: bool = False
    timeout: float = 120.0


class TraceFailed(Exception):
    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


class TracerMissing(TraceFailed):
    """PyTorch is not installed: the static linter does not need it, the tracer does."""

    def __init__(self) -> None:
        super().__init__("setup", "the tracer needs PyTorch: install the `trace` extra (pip install 'dropout-lint[trace]')")


@dataclass
class TraceOutcome:
    model: str
    device: str
    seconds: float
    findings: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    modules: list[dict[str, Any]] = field(default_factory=list)


def run_trace(request: TraceRequest) -> TraceOutcome:
    """Trace in a child process; raise TraceFailed with a clear message on any failure."""
    import importlib.util

    # Found, not imported: the child imports it (a missing torch would only show there
    # as a traceback's last lines).
    if importlib.util.find_spec("torch") is None:
        raise TracerMissing
    payload = {k: v for k, v in request.__dict__.items() if k != "timeout"}
    payload["inputs"], payload["shapes"] = list(request.inputs), list(request.shapes)
    with tempfile.TemporaryDirectory(prefix="dropout-lint-trace-") as folder:
        result_path = os.path.join(folder, "result.json")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "dropout_lint.tracer.child", result_path],
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                timeout=request.timeout,
            )
        except subprocess.TimeoutExpired:
            raise TraceFailed(
                "timeout", f"the trace did not finish within {request.timeout:g} s (--timeout); it was stopped"
            ) from None
        if not os.path.exists(result_path):
            tail = (done.stderr or "").strip().splitlines()[-3:]
            detail = f": {' '.join(tail)}" if tail else ""
            raise TraceFailed("crash", f"the tracer process ended with status {done.returncode}{detail}")
        with open(result_path, encoding="utf-8") as handle:
            answer = json.load(handle)
    if not answer.get("ok"):
        raise TraceFailed(answer.get("stage", "tracer"), answer.get("message", "the trace failed"))
    return TraceOutcome(
        model=answer["model"],
        device=answer["device"],
        seconds=answer["seconds"],
        findings=answer["findings"],
        calls=answer["calls"],
        modules=answer.get("modules", []),
    )


def _display(path: Optional[str]) -> str:
    if not path:
        return "<trace>"
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def trace_results(outcome: TraceOutcome) -> list[FileResult]:
    """The tracer's findings as diagnostics, grouped by file."""
    by_path: dict[str, list[Diagnostic]] = {}
    for finding in outcome.findings:
        rule = RULES_BY_CODE[finding["code"]]
        path = _display(finding.get("file"))
        line = finding.get("line") or 1
        diagnostic = Diagnostic(
            rule.code,
            rule.name,
            rule.severity,
            f"{finding['message']} (found by tracing `{outcome.model}` on {outcome.device})",
            path,
            Span(line, 0, line, 0),
        )
        by_path.setdefault(path, []).append(diagnostic)
    return [_with_lines(path, sorted(found, key=lambda d: d.sort_key)) for path, found in sorted(by_path.items())]


def _with_lines(path: str, diagnostics: list[Diagnostic]) -> FileResult:
    lines: tuple[str, ...] = ()
    try:
        with open(path, encoding="utf-8") as handle:
            lines = tuple(handle.read().splitlines())
        diagnostics = [_spanned(d, lines) for d in diagnostics]
    except (OSError, UnicodeDecodeError):
        pass
    return FileResult(path, tuple(diagnostics), lines)


def _spanned(diagnostic: Diagnostic, lines: tuple[str, ...]) -> Diagnostic:
    """A runtime finding points at a whole line: mark the code on it."""
    line = diagnostic.span.line
    if not 1 <= line <= len(lines):
        return diagnostic
    text = lines[line - 1]
    start = len(text) - len(text.lstrip())
    return replace(diagnostic, span=Span(line, start, line, len(text.rstrip())))


def join(static: Sequence[FileResult], outcome: TraceOutcome) -> list[FileResult]:
    """Static findings marked confirmed, not reproduced or not checkable at run time;
    the tracer's own findings (DL5xx and confirmations without a static twin) added."""
    confirmed = {(_display(f.get("file")), f.get("line"), f["code"]) for f in outcome.findings}
    executed = {(_display(c.get("file")), c.get("line")) for c in outcome.calls}
    used: set[tuple[str, Any, str]] = set()
    results: list[FileResult] = []
    for result in static:
        marked = []
        for d in result.diagnostics:
            key = (d.path, d.span.line, d.code)
            if d.code not in CHECKABLE:
                status = "not checkable at run time"
            elif key in confirmed:
                status = "confirmed"
                used.add(key)
            elif (d.path, d.span.line) in executed:
                status = f"not reproduced: the line ran, but no {CHECKABLE[d.code]} was seen"
            else:
                status = "not reproduced: the traced forward pass did not run this line"
            marked.append(replace(d, runtime=status))
        results.append(replace(result, diagnostics=tuple(marked)))
    extra = TraceOutcome(
        outcome.model,
        outcome.device,
        outcome.seconds,
        [f for f in outcome.findings if (_display(f.get("file")), f.get("line"), f["code"]) not in used],
        outcome.calls,
    )
    merged: dict[str, FileResult] = {r.path: r for r in results}
    for result in trace_results(extra):
        previous = merged.get(result.path)
        if previous is None:
            merged[result.path] = result
        else:
            found = tuple(sorted({*previous.diagnostics, *result.diagnostics}, key=lambda d: d.sort_key))
            merged[result.path] = replace(previous, diagnostics=found, lines=previous.lines or result.lines)
    return [merged[path] for path in sorted(merged)]
