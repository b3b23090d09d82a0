"""Trace findings joined with the static pass's by span, and the Monte Carlo dropout a
model declares: ``# noqa`` on the right lines, ``stochastic-modules``, the selection."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dropout_lint.config import Config, config_from_table
from dropout_lint.diagnostics import Diagnostic, Severity, Span
from dropout_lint.engine import FileResult
from dropout_lint.errors import ConfigError
from dropout_lint.tracer.findings import join, trace_results
from dropout_lint.tracer.process import TraceOutcome
from tests.helpers import run_dropout_lint

ROOT = Path(__file__).resolve().parent.parent
TRACER = ROOT / "fixtures" / "tracer"
PACKAGE = TRACER / "tracer_pkg"

ATTENTION = """\
import torch.nn.functional as F


def attend(q, k, v):
    return F.scaled_dot_product_attention(
        q,
        k,
        v,
        dropout_p=0.1,
    )
"""


def _cli(*args: str, cwd: Path = TRACER) -> subprocess.CompletedProcess[str]:
    return run_dropout_lint(args, cwd, timeout=180)


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def _findings(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


# The join, on findings made by hand.


def _outcome(file: str, line: int, code: str = "DL406", **extra: Any) -> TraceOutcome:
    finding = {"code": code, "message": "drops attention weights in eval mode", "file": file, "line": line, **extra}
    return TraceOutcome("Net", "cpu", 0.1, [finding], [{"file": file, "line": line}])


def _static(path: str, line: int, end_line: int, code: str = "DL406") -> FileResult:
    diagnostic = Diagnostic(code, "attention-dropout-always-on", Severity.ERROR, "not gated", path, Span(line, 4, end_line, 5))
    return FileResult(path, (diagnostic,), ())


@pytest.mark.parametrize(("static_line", "trace_line"), [(5, 9), (9, 5), (5, 7), (9, 9)])
def test_a_multi_line_call_joins_whatever_line_each_side_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, static_line: int, trace_line: int
) -> None:
    (tmp_path / "attention.py").write_text(ATTENTION, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    report = join([_static("attention.py", static_line, static_line)], [_outcome(str(tmp_path / "attention.py"), trace_line)], Config())
    assert [(d.code, d.runtime) for r in report.results for d in r.diagnostics] == [("DL406", "confirmed")]


def test_a_finding_in_another_statement_is_not_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "attention.py").write_text(ATTENTION, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    report = join([_static("attention.py", 5, 5)], [_outcome(str(tmp_path / "attention.py"), 4)], Config())
    found = sorted((d.code, d.span.line, d.runtime or "") for r in report.results for d in r.diagnostics)
    assert found == [("DL406", 4, ""), ("DL406", 5, "not reproduced: the traced forward pass did not run this line")]


@pytest.mark.parametrize("shown", ["../src/attention.py", "ABSOLUTE", "./src/../src/attention.py"])
def test_files_outside_the_current_folder_join(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "work").mkdir()
    source = tmp_path / "src" / "attention.py"
    source.write_text(ATTENTION, encoding="utf-8")
    monkeypatch.chdir(tmp_path / ("work" if shown.startswith("..") else "."))
    path = str(source) if shown == "ABSOLUTE" else shown
    trace = _outcome(str(source), 9)
    report = join([_static(path, 5, 10)], [trace, _outcome(str(source), 4, "DL502")], Config())
    assert [(r.path, d.code, d.runtime) for r in report.results for d in r.diagnostics] == [
        (path, "DL502", None),  # the trace's own finding, under the name the static pass gave the file
        (path, "DL406", "confirmed"),
    ]


def test_one_finding_of_two_traced_models_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "attention.py").write_text(ATTENTION, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    first = _outcome(str(tmp_path / "attention.py"), 5)
    second = TraceOutcome("Other", "cpu", 0.1, first.findings, first.calls)
    report = trace_results([first, second], Config())
    [result] = report.results
    assert [d.message for d in result.diagnostics] == [
        "drops attention weights in eval mode (found by tracing `Net`, `Other` on cpu)"
    ]
    assert report.counts == [1, 1]


# The join, from the command line.


@pytest.mark.slow  # starts PyTorch in a child process
def test_check_trace_confirms_both_multi_line_attention_calls_once() -> None:
    done = _cli(
        "check", "tracer_pkg", "--trace", "tracer_pkg.models:TokenModel", "--input", "long[2,16]", "--format", "json",
    )
    layers = PACKAGE / "layers.py"
    found = [(f["code"], f["line"], f["runtime"]) for f in _findings(done) if f["path"].endswith("layers.py")]
    assert sorted(found) == [
        ("DL406", _line(layers, "dropout_p=self.p,"), "confirmed"),
        ("DL406", _line(layers, ".scaled_dot_product_attention(q, k, v"), "confirmed"),
    ]  # and the random draws (DL502) of both calls are theirs, not reported again


@pytest.mark.slow  # starts PyTorch in a child process
def test_check_trace_from_another_folder(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "tracer_pkg", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "work").mkdir()
    for path in ("../tracer_pkg/layers.py", str(tmp_path / "tracer_pkg" / "layers.py")):
        done = _cli(
            "check", path, "--trace", "../tracer_pkg/models.py:TokenModel", "--input", "long[2,16]",
            "--select", "DL406,DL502", "--format", "json", cwd=tmp_path / "work",
        )
        found = sorted((f["path"], f["code"], f["runtime"]) for f in _findings(done))
        assert found == [(path, "DL406", "confirmed"), (path, "DL406", "confirmed")]


@pytest.mark.slow  # starts PyTorch in a child process
def test_dl402_dl404_and_dl408_are_confirmed_by_the_run() -> None:
    done = _cli(
        "check", "tracer_pkg/mistakes.py", "--extend-select", "DL404", "--format", "json",
        "--trace", "tracer_pkg/mistakes.py:Mistakes", "--input", "float[64,16]",
    )
    mistakes = PACKAGE / "mistakes.py"
    assert sorted((f["code"], f["line"], f["runtime"]) for f in _findings(done)) == [
        ("DL402", _line(mistakes, "drop = nn.Dropout(0.2)"), "confirmed"),
        ("DL404", _line(mistakes, "training=True,"), "confirmed"),
        ("DL408", _line(mistakes, "mask = torch.rand"), "confirmed"),
    ]  # and the DL501, DL401 and DL502 that prove them are not reported again


@pytest.mark.slow  # starts PyTorch in a child process
def test_a_static_finding_the_run_does_not_prove() -> None:
    done = _cli(
        "check", "tracer_pkg/mistakes.py", "--select", "DL402,DL408", "--format", "json",
        "--trace", "tracer_pkg/models.py:Masked", "--input", "x=float[8,16]",
    )
    assert {(f["code"], f["runtime"]) for f in _findings(done)} == {
        ("DL402", "not reproduced: no a dropout module built in forward dropping in eval was seen in the traced forward pass"),
        ("DL408", "not reproduced: no randomness in eval mode was seen in the traced forward pass"),
    }


# Monte Carlo dropout on purpose.


def _trace_codes(*args: str, cwd: Path = TRACER) -> list[tuple[str, int]]:
    return sorted((f["code"], f["line"]) for f in _findings(_cli("trace", *args, "--format", "json", cwd=cwd)))


@pytest.mark.slow  # starts PyTorch in a child process
def test_noqa_on_the_line_that_builds_the_module_or_on_the_call() -> None:
    declared = PACKAGE / "declared.py"
    assert _trace_codes("tracer_pkg/declared.py:ListedMC", "tracer_pkg/declared.py:ForcedMC", "--input", "float[64,16]") == []
    assert _trace_codes("tracer_pkg/declared.py:Undeclared", "--input", "float[64,16]") == [
        ("DL401", _line(declared, "return self.fc(F.dropout(x, 0.2, training=True))")),
        ("DL501", _line(declared, "x = self.mc[0](F.relu(x))")),
    ]  # the random draws (DL502) of both dropouts are those findings


@pytest.mark.slow  # starts PyTorch in a child process
def test_the_text_report_counts_what_was_declared() -> None:
    done = _cli("trace", "tracer_pkg/declared.py:ListedMC", "--input", "float[64,16]")
    assert done.returncode == 0, done.stderr
    assert "1 finding is declared deliberate (# noqa or stochastic-modules) and not shown." in done.stdout


def _mc_outcome(tmp_path: Path) -> TraceOutcome:
    """A finding about the dropout `head.mc` (class MCDropout) of a model."""
    source = tmp_path / "heads.py"
    source.write_text("def forward(self, x):\n    return self.mc(x)\n", encoding="utf-8")
    modules = [{"path": "head.mc", "class": "MCDropout", "built": None}, {"path": "head", "class": "Head", "built": None}]
    return _outcome(str(source), 2, "DL501", modules=modules)


@pytest.mark.parametrize(
    ("patterns", "declared"),
    [
        (("head.mc",), True),
        (("head",), True),  # a module's submodules are declared with it
        (("MCDropout",), True),
        (("*.mc",), True),
        (("h?ad",), True),
        (("mc",), False),  # a path is the whole path from the model
        (("head.m",), False),
        (("encoder", "Dropout"), False),
    ],
)
def test_stochastic_modules_match_paths_owners_classes_and_globs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, patterns: tuple[str, ...], declared: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    report = trace_results([_mc_outcome(tmp_path)], Config(stochastic_modules=patterns))
    assert (report.declared, len(report.results)) == ((1, 0) if declared else (0, 1))


def test_stochastic_modules_leave_other_rules_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = _mc_outcome(tmp_path)
    outcome.findings[0]["code"] = "DL504"  # a rate that differs from p is not randomness in eval
    assert trace_results([outcome], Config(stochastic_modules=("head",))).declared == 0


def test_per_file_ignores_apply_to_trace_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_from_table({"per-file-ignores": {"heads.py": ["DL5"]}}, root=tmp_path)
    assert trace_results([_mc_outcome(tmp_path)], config).results == []
    other = config_from_table({"per-file-ignores": {"other.py": ["DL5"]}}, root=tmp_path)
    assert len(trace_results([_mc_outcome(tmp_path)], other).results) == 1


@pytest.mark.slow  # starts PyTorch in a child process
def test_stochastic_modules_and_selection_from_pyproject(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "tracer_pkg", ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = tmp_path / "pyproject.toml"
    build = ("tracer_pkg/models.py:build", "--input", "float[8,16]")
    pyproject.write_text('[tool.dropout-lint]\nstochastic-modules = ["MCHead"]\n', encoding="utf-8")
    assert _trace_codes(*build, cwd=tmp_path) == []
    pyproject.write_text('[tool.dropout-lint]\nignore = ["DL502"]\n', encoding="utf-8")
    assert [code for code, _ in _trace_codes(*build, cwd=tmp_path)] == ["DL401"]
    pyproject.write_text('[tool.dropout-lint]\nstochastic-modules = "head"\n', encoding="utf-8")
    bad = _cli("trace", *build, cwd=tmp_path)
    assert bad.returncode == 2 and "stochastic-modules must be a list of module paths" in bad.stderr


@pytest.mark.slow  # starts PyTorch in a child process
def test_check_trace_honours_stochastic_modules_and_ignore() -> None:
    common = ("check", "tracer_pkg/layers.py", "--trace", "tracer_pkg/models.py:build", "--input", "float[8,16]", "--format", "json")

    def traced(*more: str) -> list[str]:
        return sorted(f["code"] for f in _findings(_cli(*common, *more)) if f["runtime"] is None)

    assert traced() == ["DL401"]  # the draw of that F.dropout (DL502) is the same finding
    assert traced("--stochastic-module", "head") == []
    assert traced("--ignore", "DL401") == []


@pytest.mark.parametrize("value", ["head", ["head", ""], ["a b"], [3]])
def test_bad_stochastic_modules_are_a_configuration_error(value: object) -> None:
    with pytest.raises(ConfigError, match="stochastic-modules must be a list of module paths"):
        config_from_table({"stochastic-modules": value}, root=ROOT)


@pytest.mark.slow  # starts PyTorch in a child process
def test_noqa_of_trace_codes_is_never_called_unused() -> None:
    done = _cli("check", "tracer_pkg/declared.py", "--select", "DL902,DL404", "--format", "json")
    assert [(f["code"], f["line"]) for f in _findings(done)] == [
        ("DL404", _line(PACKAGE / "declared.py", "return self.fc(F.dropout(x, 0.2, training=True))"))
    ]
