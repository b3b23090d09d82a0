"""The benchmark harness keeps working: ``benchmarks/run.py --smoke`` on fixture files.

dropout-lint alone (no peers, no downloads), one run per command; the numbers mean
nothing, the test only checks that the harness measures and reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "benchmarks" / "run.py"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _rows(markdown: str, width: int) -> list[list[str]]:
    """The dropout-lint rows of the measurement tables (those ``width`` cells wide)."""
    return [
        _cells(line)
        for line in markdown.splitlines()
        if line.startswith("| dropout-lint |") and len(_cells(line)) == width
    ]


@pytest.mark.slow  # the whole harness, in a child process
def test_smoke_run_reports_dropout_lint_rows(tmp_path: Path) -> None:
    out, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(HARNESS), "--smoke", "--out", str(out), "--json", str(raw)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    markdown = out.read_text(encoding="utf-8")
    header = next(line for line in markdown.splitlines() if line.startswith("| tool | version | variant"))
    columns = _cells(header)
    wall = columns.index("wall median (s)")
    rows = _rows(markdown, len(columns))
    labels = {row[columns.index("variant")] for row in rows}
    assert "cold, --jobs 1" in labels, labels
    assert len(rows) >= 4
    for row in rows:
        assert float(row[wall]) > 0, row
    assert "## Targets" in markdown and "## Findings identical?" in markdown

    data = json.loads(raw.read_text(encoding="utf-8"))
    assert data["mode"] == "smoke"
    samples = [
        sample
        for group in data["groups"]
        for variant in group["variants"]
        if variant["tool"] == "dropout-lint"
        for sample in variant["samples"]
    ]
    assert samples and all(s["wall"] > 0 and s["rc"] == 0 and s["maxrss_kb"] > 0 for s in samples)
    assert all(check["identical"] for check in data["checks"]), data["checks"]
