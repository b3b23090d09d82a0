"""Running the tracer from the command line, without importing torch here.

The trace runs in a child process with a time limit; its findings come back as JSON
(``findings`` makes them diagnostics, or marks the static pass's findings confirmed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class TraceRequest:
    target: str
    init: Optional[dict[str, Any]] = None  # keyword arguments of the class or factory
    model_config: Optional[dict[str, Any]] = None  # a Hugging Face config's fields
    inputs: tuple[str, ...] = ()
    shapes: tuple[str, ...] = ()
    dtype: str = "float32"
    vocab_size: Optional[int] = None
    dict_input: bool = False
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
