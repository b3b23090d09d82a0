"""``--format json``: one JSON array of findings. Tools parse this; keep it stable."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from dropout_lint.diagnostics import Diagnostic
from dropout_lint.reporters.report import Report


def diagnostic_to_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    fix = diagnostic.fix
    return {
        "code": diagnostic.code,
        "name": diagnostic.name,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "path": diagnostic.path,
        "line": span.line,
        "column": span.column + 1,
        "end_line": span.end_line,
        "end_column": span.end_column + 1,
        "fix": None
        if fix is None
        else {
            "replacement": fix.replacement,
            "safety": fix.safety.value,
            "message": fix.description,
            # The region replaced, numbered like the finding's (columns 1-based, end exclusive).
            "line": fix.span.line,
            "column": fix.span.column + 1,
            "end_line": fix.span.end_line,
            "end_column": fix.span.end_column + 1,
        },
        "runtime": diagnostic.runtime,
        # In a notebook: the cell (1-based, Markdown cells counted), and the lines are the cell's.
        "cell": diagnostic.cell,
    }


def render_json(report: Report) -> str:
    return json.dumps([diagnostic_to_dict(d) for d in report.diagnostics], indent=2, ensure_ascii=False) + "\n"


def render_json_statistics(report: Report) -> str:
    counts = Counter((d.code, d.name) for d in report.diagnostics)
    rows = [{"code": code, "name": name, "count": count} for (code, name), count in sorted(counts.items())]
    return json.dumps(rows, indent=2) + "\n"
