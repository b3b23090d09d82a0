"""The command line, end to end: exit codes, messages, rule selection, output options.

Most tests drive ``dropout-lint`` in-process through click's ``CliRunner``; the few that
need a real terminal, real environment variables or a fresh interpreter run a subprocess.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dropout_lint import __version__
from dropout_lint.catalog import RULES
from dropout_lint.cli import _spelled_out, main

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

GOOD = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(10, 2)

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.5, training=self.training)
        return self.out(self.drop(x))


model = Net()
model.eval()
"""

# DL404 (info) is off by default: it shows only when selected.
FORCED = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5, training=True)
"""

BAD_LOCATIONS = ["bad.py:8:34: DL202", "bad.py:11:13: DL401", "bad.py:15:1: DL304"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_colour_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI services often set FORCE_COLOR; the in-process runs here expect plain text.
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str) -> Result:
    """Run the CLI in-process, with stdout and stderr kept apart."""
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def codes_in(output: str) -> list[str]:
    return re.findall(r"^\S+:\d+:\d+: (DL\d{3}) ", output, re.MULTILINE)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding bad.py, good.py and forced.py."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "forced.py").write_text(FORCED, encoding="utf-8")
    return tmp_path


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess, without colour settings leaking in from CI."""
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"}}
    env.update(TERM="xterm-256color", COLUMNS="120", **extra)
    return env


# -- exit codes and the basic report ----------------------------------------------------


def test_clean_file_exits_0_with_a_summary(project: Path) -> None:
    result = invoke("check", "good.py")
    assert result.exit_code == 0
    assert result.stdout == "No problems found in 1 file.\n"
    assert result.stderr == ""


def test_findings_exit_1_in_text_format(project: Path) -> None:
    result = invoke("check", "bad.py")
    assert result.exit_code == 1
    locations = re.findall(r"^bad\.py:\d+:\d+: DL\d{3}", result.stdout, re.MULTILINE)
    assert locations == BAD_LOCATIONS
    assert result.stdout.rstrip("\n").splitlines()[-2:] == [
        "Found 3 problems (2 errors, 1 warning) in 1 of 1 file.",
        "[*] 1 fixable with `--fix`. 1 more fixable with `--fix --unsafe-fixes`.",
    ]
    # Each finding shows its source line, with the marker under `model.eval` (1-based col 1).
    assert "15 | model.eval" in result.stdout
    assert "   | ^^^^^^^^^^\n" in result.stdout


def test_default_path_is_the_current_folder(project: Path) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "more.py").write_text(BAD, encoding="utf-8")
    result = invoke("check", "--format", "concise")
    assert result.exit_code == 1
    files = sorted({line.split(":")[0] for line in result.stdout.splitlines()})
    assert files == ["bad.py", "sub/more.py"]


def test_findings_are_sorted_by_path_line_and_column(project: Path) -> None:
    (project / "a_first.py").write_text(BAD, encoding="utf-8")
    (project / "z").mkdir()
    (project / "z" / "last.py").write_text(BAD, encoding="utf-8")
    result = invoke("check", "z", "bad.py", "a_first.py", "--format", "json")
    rows = json.loads(result.stdout)
    keys = [(r["path"], r["line"], r["column"]) for r in rows]
    assert len(keys) == 9
    assert keys == sorted(keys)
    assert [k[0] for k in keys[::3]] == ["a_first.py", "bad.py", "z/last.py"]


def test_unknown_format_is_a_usage_error(project: Path) -> None:
    result = invoke("check", "--format", "xml", "bad.py")
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_missing_path_reports_exit_2_but_lints_the_others(project: Path) -> None:
    result = invoke("check", "nope.py", "bad.py")
    assert result.exit_code == 2
    assert "no such file or directory: nope.py" in result.stderr
    assert codes_in(result.stdout) == ["DL202", "DL401", "DL304"]


# -- rule selection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--select", "DL401"), ["DL401"]),
        (("--select", "dl401"), ["DL401"]),
        (("--select", "DL4"), ["DL401"]),
        (("--select", "DL202,DL304"), ["DL202", "DL304"]),
        (("--select", "DL202", "--select", "DL304"), ["DL202", "DL304"]),
        (("--ignore", "DL4"), ["DL202", "DL304"]),
        (("--ignore", "DL202,DL304"), ["DL401"]),
        (("--ignore", "DL202", "--ignore", "DL401"), ["DL304"]),
        (("--select", "DL2,DL3", "--ignore", "DL304"), ["DL202"]),
        (("--select", "ALL", "--ignore", "DL2"), ["DL401", "DL304"]),
    ],
)
def test_select_and_ignore(project: Path, args: tuple[str, ...], expected: list[str]) -> None:
    result = invoke("check", "bad.py", "--format", "concise", *args)
    assert codes_in(result.stdout) == expected
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "args",
    [("--select", "DL4"), ("--ignore", "DL900"), ("--select", "DL304", "--ignore", "DL9"), ("--ignore", "ALL")],
)
def test_a_file_that_does_not_parse_is_always_reported(project: Path, args: tuple[str, ...]) -> None:
    (project / "broken.py").write_text("def forward(self, x)\n    return x\n", encoding="utf-8")
    result = invoke("check", "broken.py", "good.py", "--format", "concise", *args)
    assert codes_in(result.stdout) == ["DL900"]
    assert "No problems found" not in result.stdout
    assert result.exit_code == 1


def test_a_file_that_parses_is_clean_under_the_same_selection(project: Path) -> None:
    result = invoke("check", "good.py", "--ignore", "DL900")
    assert result.exit_code == 0
    assert result.stdout == "No problems found in 1 file.\n"


def test_info_rules_are_off_until_selected(project: Path) -> None:
    assert codes_in(invoke("check", "forced.py").stdout) == []
    assert codes_in(invoke("check", "forced.py", "--select", "ALL").stdout) == ["DL404"]
    assert codes_in(invoke("check", "forced.py", "--extend-select", "DL404").stdout) == ["DL404"]
    extended = invoke("check", "forced.py", "bad.py", "--extend-select", "DL404", "--format", "concise")
    assert codes_in(extended.stdout) == ["DL202", "DL401", "DL304", "DL404"]


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_is_exit_2_with_a_message(project: Path, option: str) -> None:
    result = invoke("check", "bad.py", option, "DL401,DL999")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{option}: unknown rule code or prefix 'DL999'" in result.stderr
    assert "Traceback" not in result.stderr


# -- output options ---------------------------------------------------------------------


def test_statistics_counts_per_rule(project: Path) -> None:
    (project / "bad2.py").write_text(BAD, encoding="utf-8")
    result = invoke("check", "bad.py", "bad2.py", "--statistics")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "2  DL202  high-dropout-rate",
        "2  DL304  mode-method-not-called",
        "2  DL401  functional-dropout-always-on",
    ]
    assert "bad.py:" not in result.stdout  # counts instead of each finding
    assert lines[-1] == "Found 6 problems (4 errors, 2 warnings) in 2 of 2 files."
    as_json = json.loads(invoke("check", "bad.py", "bad2.py", "--statistics", "--format", "json").stdout)
    assert {row["code"]: row["count"] for row in as_json} == {"DL202": 2, "DL304": 2, "DL401": 2}


def test_quiet_prints_findings_only(project: Path) -> None:
    noisy = invoke("check", "bad.py")
    quiet = invoke("check", "bad.py", "--quiet")
    assert quiet.exit_code == 1
    assert codes_in(quiet.stdout) == ["DL202", "DL401", "DL304"]
    assert "Found 3 problems" in noisy.stdout
    assert "Found" not in quiet.stdout
    clean = invoke("check", "good.py", "-q")
    assert clean.exit_code == 0
    assert clean.stdout == ""


def test_output_writes_the_report_to_a_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # never colour in a file
    result = invoke("check", "bad.py", "--output", "report.txt")
    assert result.exit_code == 1
    assert result.stdout == ""
    report = (project / "report.txt").read_text(encoding="utf-8")
    assert codes_in(report) == ["DL202", "DL401", "DL304"]
    assert not ANSI.search(report)
    invoke("check", "bad.py", "--format", "json", "-o", "report.json")
    assert len(json.loads((project / "report.json").read_text(encoding="utf-8"))) == 3


def test_output_to_an_unwritable_place_is_exit_2(project: Path) -> None:
    result = invoke("check", "bad.py", "--output", str(project / "no" / "such" / "dir" / "r.txt"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr


def test_exit_zero_reports_but_succeeds(project: Path) -> None:
    result = invoke("check", "bad.py", "--exit-zero")
    assert result.exit_code == 0
    assert codes_in(result.stdout) == ["DL202", "DL401", "DL304"]


def test_exit_zero_does_not_hide_a_missing_path(project: Path) -> None:
    assert invoke("check", "bad.py", "nope.py", "--exit-zero").exit_code == 2


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_only_missing_paths_print_no_summary(project: Path, fmt: str) -> None:
    result = invoke("check", "nope.py", "gone/", "--format", fmt)
    assert result.exit_code == 2
    assert result.stdout == ""  # not "No problems found in 0 files."
    assert result.stderr.splitlines() == [
        "dropout-lint: error: no such file or directory: nope.py",
        "dropout-lint: error: no such file or directory: gone/",
    ]


def test_only_missing_paths_still_give_machine_formats_their_document(project: Path) -> None:
    result = invoke("check", "nope.py", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == []


def test_a_missing_path_beside_a_clean_file_counts_only_the_file(project: Path) -> None:
    result = invoke("check", "nope.py", "good.py")
    assert result.exit_code == 2
    assert result.stdout == "No problems found in 1 file.\n"


# -- the tracer without torch ------------------------------------------------------------


def test_trace_without_torch_says_to_install_the_extra(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # what an install without the extra finds
    result = invoke("trace", "bad.py:Net", "--input-shape", "2,10")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "dropout-lint: error: the tracer needs PyTorch: install the `trace` extra (pip install 'dropout-lint[trace]')\n"
    )


def test_check_with_a_trace_that_cannot_run_keeps_the_static_findings(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = invoke("check", "bad.py", "--trace", "bad.py:Net", "--input-shape", "2,10", "--format", "concise")
    assert codes_in(result.stdout) == ["DL202", "DL401", "DL304"]
    assert "install the `trace` extra" in result.stderr
    assert result.exit_code == 2


def test_trace_without_torch_in_a_fresh_process(project: Path) -> None:
    code = "import sys; sys.modules['torch'] = None; from dropout_lint.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "trace", "bad.py:Net"], capture_output=True, text=True, timeout=120, env=_clean_env()
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "`trace` extra" in done.stderr
    assert "Traceback" not in done.stderr


# bad.py: two errors and a warning; with --select DL202 a warning only; forced.py with
# --select ALL: an info finding only.
@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (("bad.py",), 1),
        (("bad.py", "--fail-on", "error"), 1),
        (("bad.py", "--select", "DL202"), 1),
        (("bad.py", "--select", "DL202", "--fail-on", "warning"), 1),
        (("bad.py", "--select", "DL202", "--fail-on", "error"), 0),
        (("forced.py", "--select", "ALL"), 1),  # the default: any finding fails, as before
        (("forced.py", "--select", "ALL", "--fail-on", "info"), 1),
        (("forced.py", "--select", "ALL", "--fail-on", "warning"), 0),
        (("bad.py", "--fail-on", "error", "--exit-zero"), 0),
        (("good.py", "--fail-on", "info"), 0),
    ],
)
def test_fail_on_sets_the_severity_that_fails(project: Path, args: tuple[str, ...], exit_code: int) -> None:
    result = invoke("check", "--format", "concise", *args)
    assert result.exit_code == exit_code
    if "good.py" not in args:
        assert codes_in(result.stdout)  # below the threshold is still reported


def test_fail_on_does_not_hide_a_missing_path_or_a_bad_value(project: Path) -> None:
    assert invoke("check", "good.py", "nope.py", "--fail-on", "error").exit_code == 2
    wrong = invoke("check", "good.py", "--fail-on", "fatal")
    assert wrong.exit_code == 2 and "fatal" in wrong.stderr


def test_fail_on_error_still_fails_on_a_file_that_does_not_parse(project: Path) -> None:
    (project / "broken.py").write_text("def f(:\n", encoding="utf-8")
    assert invoke("check", "broken.py", "--fail-on", "error").exit_code == 1


@pytest.mark.parametrize("fmt", ["json", "concise", "sarif"])
def test_output_format_is_another_name_of_format(project: Path, fmt: str) -> None:
    long = invoke("check", "bad.py", "--output-format", fmt)
    short = invoke("check", "bad.py", "--format", fmt)
    assert long.exit_code == short.exit_code == 1
    assert long.stdout == short.stdout


def test_max_rate(project: Path) -> None:
    assert codes_in(invoke("check", "bad.py", "--max-rate", "0.9").stdout) == ["DL401", "DL304"]
    lowered = invoke("check", "bad.py", "--max-rate", "0.7", "--format", "json")
    (finding,) = [f for f in json.loads(lowered.stdout) if f["code"] == "DL202"]
    assert "maximum 0.7" in finding["message"]
    strict = invoke("check", "good.py", "--max-rate", "0.05", "--format", "json")
    # nn.Dropout(0.1) and F.dropout(..., 0.5, ...) are now both too high.
    assert [(f["line"], f["code"]) for f in json.loads(strict.stdout)] == [(9, "DL202"), (13, "DL202")]


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "nan", "high"])
def test_invalid_max_rate_is_exit_2(project: Path, value: str) -> None:
    result = invoke("check", "bad.py", "--max-rate", value)
    assert result.exit_code == 2
    assert "max-rate" in result.stderr
    assert result.stdout == ""


def test_no_show_source(project: Path) -> None:
    result = invoke("check", "bad.py", "--no-show-source")
    assert "|" not in result.stdout
    assert codes_in(result.stdout) == ["DL202", "DL401", "DL304"]


# -- noqa through the command line ----------------------------------------------------------


def test_noqa_comments_suppress_findings(project: Path) -> None:
    source = """\
import torch.nn as nn

a = nn.Dropout(0.9)  # noqa: DL202
b = nn.Dropout(0.9)  # noqa: DL401
c = nn.Dropout(0.9)  # noqa
d = nn.Dropout(0.9)  # noqa: DL401,DL202
e = nn.Dropout(0.9)  # noqa:DL202
f = nn.Dropout(0.9)
"""
    (project / "noqa_cases.py").write_text(source, encoding="utf-8")
    result = invoke("check", "noqa_cases.py", "--format", "json")
    assert result.exit_code == 1
    assert [(f["line"], f["code"]) for f in json.loads(result.stdout)] == [(4, "DL202"), (8, "DL202")]


def test_unused_noqa_is_reported_when_selected(project: Path) -> None:
    (project / "unused.py").write_text("x = 1  # noqa: DL401\n", encoding="utf-8")
    assert invoke("check", "unused.py").exit_code == 0
    selected = invoke("check", "unused.py", "--extend-select", "DL902", "--format", "concise")
    assert codes_in(selected.stdout) == ["DL902"]


# -- jobs -----------------------------------------------------------------------------


def test_jobs_1_and_2_give_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(20):
        # Vary the files so that a reordering or a lost file shows.
        body = BAD if i % 3 else GOOD
        (folder / f"m{i:02d}.py").write_text(f"# file {i}\n" * (i % 4) + body, encoding="utf-8")

    pools: list[int] = []
    real_pool = concurrent.futures.ProcessPoolExecutor

    class CountingPool(real_pool):  # type: ignore[valid-type, misc]
        def __init__(self, max_workers: int | None = None, **kwargs: object) -> None:
            pools.append(max_workers or 0)
            super().__init__(max_workers=max_workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountingPool)
    outputs = {}
    for jobs in ("1", "2"):
        for fmt in ("json", "text"):
            result = invoke("check", "many", "--jobs", jobs, "--format", fmt, "--no-cache")
            assert result.exit_code == 1
            outputs[jobs, fmt] = result.stdout
    assert pools == [2, 2]  # the pool really ran, and only with --jobs 2
    assert outputs["1", "json"] == outputs["2", "json"]
    assert outputs["1", "text"] == outputs["2", "text"]
    findings = json.loads(outputs["2", "json"])
    assert len({f["path"] for f in findings}) == 13  # files 1, 2, 4, 5, ... (i % 3 != 0)
    assert "in 13 of 20 files." in outputs["2", "text"]


def test_jobs_must_be_positive(project: Path) -> None:
    assert invoke("check", "bad.py", "--jobs", "0").exit_code == 2


# -- version and rules ------------------------------------------------------------------


def test_version(project: Path) -> None:
    for flag in ("--version", "-V"):
        result = invoke(flag)
        assert result.exit_code == 0
        assert result.stdout == f"dropout-lint {__version__}\n"


_IMPORT_PROBE = """
import gc
import sys
from dropout_lint.cli import main
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m in {watched!r})
print("EXIT", code)
print("HEAVY", ",".join(heavy) or "-")
print("COLLECTOR", gc.isenabled(), gc.get_freeze_count())
"""


# Modules a one-file pre-commit run has no use for, each a few milliseconds of start-up.
_NEEDLESS = ("difflib", "hashlib", "tomllib", "tempfile", "dropout_lint.notebook")


def _probe(args: list[str], cwd: Path) -> tuple[str, str, str]:
    watched = ("torch", "libcst", "pathspec", *_NEEDLESS)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(args=args, watched=watched)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
    )
    exit_line = re.search(r"^EXIT (\S+)$", done.stdout, re.MULTILINE)
    heavy_line = re.search(r"^HEAVY (\S+)$", done.stdout, re.MULTILINE)
    assert exit_line and heavy_line, done.stdout + done.stderr
    return exit_line.group(1), heavy_line.group(1), done.stdout


def test_version_imports_neither_torch_nor_libcst(project: Path) -> None:
    code, heavy, stdout = _probe(["--version"], project)
    assert code == "0"
    assert f"dropout-lint {__version__}" in stdout
    assert heavy == "-"
    # The probe does see libcst when a command needs it, so the check above can fail.
    code, heavy, _ = _probe(["check", "good.py"], project)
    assert code == "0"
    assert "libcst" in heavy.split(",")


def test_naming_files_does_not_import_the_ignore_matcher(project: Path) -> None:
    # A pre-commit hook names the files: no folder is walked, so no pattern is matched.
    code, heavy, _ = _probe(["check", "good.py"], project)
    assert code == "0"
    assert "pathspec" not in heavy.split(",")
    # A walk matches plain excludes by hand too, and reads a .gitignore with pathspec.
    code, heavy, _ = _probe(["check", "."], project)
    assert "pathspec" not in heavy.split(",")
    (project / ".gitignore").write_text("*.log\n", encoding="utf-8")
    code, heavy, _ = _probe(["check", "."], project)
    assert "pathspec" in heavy.split(",")


def test_force_exclude_matches_plain_patterns_without_the_ignore_matcher(project: Path) -> None:
    # --force-exclude: the default excludes and plain names are matched by hand (here
    # without the project's other files, whose walk reads .gitignore files).
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-exclude = ["third_party/"]\n', encoding="utf-8")
    code, heavy, _ = _probe(["check", "--no-project-context", "--force-exclude", "good.py"], project)
    assert code == "0"
    assert "pathspec" not in heavy.split(",")
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-exclude = ["*_pb2.py"]\n', encoding="utf-8")
    code, heavy, _ = _probe(["check", "--no-project-context", "--force-exclude", "good.py"], project)
    assert code == "0"
    assert "pathspec" in heavy.split(",")


def test_a_pre_commit_run_imports_only_what_it_uses(project: Path) -> None:
    code, heavy, stdout = _probe(["check", "--no-cache", "-q", "-j", "1", "good.py"], project)
    assert code == "0"
    assert not set(heavy.split(",")) & set(_NEEDLESS), heavy
    # libcst and the rules were imported with the collector off, then frozen out of it.
    collector = re.search(r"^COLLECTOR (\w+) (\d+)$", stdout, re.MULTILINE)
    assert collector and collector.group(1) == "True" and int(collector.group(2)) > 10_000, stdout
    # Each of them is imported when it is needed, so the check above can fail.
    (project / "pyproject.toml").write_text("[tool.dropout-lint]\n", encoding="utf-8")
    cell = {"cell_type": "code", "metadata": {}, "source": ["x = 1\n"], "outputs": [], "execution_count": None}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (project / "cell.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    code, heavy, _ = _probe(["check", "-q", "good.py", "cell.ipynb"], project)
    assert {"hashlib", "tomllib", "dropout_lint.notebook"} <= set(heavy.split(",")), heavy
    code, heavy, _ = _probe(["check", "--quit", "good.py"], project)
    assert code == "2"
    assert "difflib" in heavy.split(","), heavy


def _findings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"\S+:\d+:\d+: DL\d{3} ", line)]


def test_a_warm_run_parses_nothing_and_imports_no_libcst(project: Path) -> None:
    # Nothing changed: the run's results come from the cache; or, when the set of files
    # differs, every file's analysis does, and the cross-file rules run again over the
    # cached summaries. Neither parses a file, so neither imports libcst (nor the checks
    # of the syntax tree, which need it).
    (project / "pyproject.toml").write_text("[tool.dropout-lint]\n", encoding="utf-8")
    (project / "train.py").write_text((REPO_ROOT / "fixtures" / "examples" / "train_mnist.py").read_text(encoding="utf-8"), encoding="utf-8")
    args = ["check", "-q", "--format", "concise", "."]
    code, heavy, cold = _probe(args, project)
    assert code == "1" and "libcst" in heavy.split(",")  # the probe sees it when files are parsed
    assert any(" DL301 " in line for line in _findings(cold))  # a finding of the cross-file rules
    code, heavy, warm = _probe(args, project)
    assert code == "1" and "libcst" not in heavy.split(","), heavy
    assert _findings(warm) == _findings(cold)
    (project / "forced.py").unlink()  # another run: its results are not cached, its files' analyses are
    code, heavy, fewer = _probe(args, project)
    assert code == "1" and "libcst" not in heavy.split(","), heavy
    assert _findings(fewer) == _findings(cold)
    # The pre-commit hook's run: one file named, the rest of its project read as context.
    code, heavy, hook = _probe(["check", "--force-exclude", "-q", "--format", "concise", "train.py"], project)
    assert code == "1" and "libcst" not in heavy.split(","), heavy
    assert _findings(hook) == [line for line in _findings(cold) if line.startswith("train.py:")]
    # One file changed: that one is parsed again.
    with (project / "good.py").open("a", encoding="utf-8") as handle:
        handle.write("# edited\n")
    code, heavy, edited = _probe(args, project)
    assert "libcst" in heavy.split(",") and _findings(edited) == _findings(cold)


def test_the_rule_catalog_needs_no_libcst(project: Path) -> None:
    for args in (["rules"], ["rules", "--format", "json"], ["explain", "DL401"]):
        code, heavy, _ = _probe(args, project)
        assert "libcst" not in heavy.split(","), (args, heavy)


def test_short_options_mean_what_their_long_names_mean() -> None:
    params = main.commands["check"].params
    assert _spelled_out(params, ["-q", "-j", "2", "a.py"]) == ["--quiet", "--jobs", "2", "a.py"]
    # An option's value is never taken for an option, nor is anything after "--".
    assert _spelled_out(params, ["-o", "-q", "a.py"]) == ["--output", "-q", "a.py"]
    assert _spelled_out(params, ["--", "-q"]) == ["--", "-q"]
    assert _spelled_out(params, ["a.py", "-j"]) == ["a.py", "-j"]
    # Grouped and attached forms are left to click, which still parses them.
    assert _spelled_out(params, ["-qj2", "-j2"]) == ["-qj2", "-j2"]


def _console_script() -> Path:
    folder = Path(sys.executable).parent
    for name in ("dropout-lint", "dropout-lint.exe"):
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(f"the dropout-lint console script is not installed beside {sys.executable}")


@pytest.mark.parametrize("how", ["console-script", "python -m"])
def test_version_import_time_in_a_fresh_interpreter(project: Path, how: str) -> None:
    # PYTHONPROFILEIMPORTTIME is `-X importtime` for a program we do not start ourselves.
    command = [str(_console_script())] if how == "console-script" else [sys.executable, "-m", "dropout_lint"]
    done = subprocess.run(
        [*command, "--version"],
        capture_output=True,
        text=True,
        env=_clean_env(PYTHONPROFILEIMPORTTIME="1"),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"dropout-lint {__version__}\n"
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "dropout_lint.cli" in imported  # the profile is real: it lists our own modules
    assert not {m for m in imported if m.split(".")[0] in ("torch", "libcst")}


def test_rules_lists_every_rule() -> None:
    result = invoke("rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(RULES)
    for rule, line in zip(RULES, lines):
        fields = line.split()
        assert fields[:4] == [
            rule.code,
            rule.name,
            rule.severity.value,
            "on" if rule.default_enabled else "off",
        ]
    by_code = {line.split()[0]: line.split() for line in lines}
    assert by_code["DL401"][2:4] == ["error", "on"]
    assert by_code["DL202"][2:4] == ["warning", "on"]
    assert by_code["DL404"][2:4] == ["info", "off"]


def test_rules_as_json() -> None:
    rows = json.loads(invoke("rules", "--format", "json").stdout)
    assert [r["code"] for r in rows] == [r.code for r in RULES]
    assert {r["code"]: r["default"] for r in rows}["DL902"] is False
    assert all({"code", "name", "severity", "default"} <= row.keys() for row in rows)


# -- colour and progress (a real terminal needs a subprocess) --------------------------------


def _run_cli(args: list[str], cwd: Path, env: dict[str, str], tty: str = "") -> tuple[int, str, str]:
    """Run ``python -m dropout_lint`` with stdout or stderr on a pseudo-terminal if asked."""
    command = [sys.executable, "-m", "dropout_lint", *args]
    if not tty:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    import pty

    master, slave = pty.openpty()
    streams = {"stdout": slave, "stderr": subprocess.PIPE} if tty == "stdout" else {"stdout": subprocess.PIPE, "stderr": slave}
    process = subprocess.Popen(command, cwd=cwd, env=env, **streams)  # type: ignore[call-overload]
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    piped = process.communicate(timeout=120)[0 if tty == "stderr" else 1].decode()
    terminal = b"".join(chunks).decode(errors="replace")
    if tty == "stdout":
        return process.returncode, terminal, piped
    return process.returncode, piped, terminal


needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX only")


def test_no_colour_when_piped(project: Path) -> None:
    code, stdout, _ = _run_cli(["check", "bad.py"], project, _clean_env())
    assert code == 1
    assert "DL401" in stdout
    assert not ANSI.search(stdout)


def test_force_color_colours_a_pipe(project: Path) -> None:
    code, stdout, _ = _run_cli(["check", "bad.py"], project, _clean_env(FORCE_COLOR="1"))
    assert code == 1
    assert ANSI.search(stdout)
    assert "DL401" in ANSI.sub("", stdout)


@needs_pty
def test_colour_on_a_terminal_unless_no_color(project: Path) -> None:
    code, stdout, _ = _run_cli(["check", "bad.py"], project, _clean_env(), tty="stdout")
    assert code == 1
    assert ANSI.search(stdout)
    code, stdout, _ = _run_cli(["check", "bad.py"], project, _clean_env(NO_COLOR="1"), tty="stdout")
    assert code == 1
    assert "DL401" in stdout
    assert not ANSI.search(stdout)


@needs_pty
def test_progress_bar_only_on_a_terminal_and_for_long_runs(tmp_path: Path) -> None:
    for i in range(60):
        (tmp_path / f"m{i:02d}.py").write_text(GOOD, encoding="utf-8")
    env = _clean_env()
    code, _, stderr = _run_cli(["check", ".", "--jobs", "1"], tmp_path, env)
    assert code == 0
    assert stderr == ""  # stderr is a pipe: no bar
    code, stdout, terminal = _run_cli(["check", ".", "--jobs", "1"], tmp_path, env, tty="stderr")
    assert code == 0
    assert "Linting" in terminal
    assert stdout == "No problems found in 60 files.\n"  # the bar never reaches stdout
    code, _, terminal = _run_cli(["check", ".", "--quiet"], tmp_path, env, tty="stderr")
    assert code == 0
    assert "Linting" not in terminal
    short = tmp_path / "short"
    short.mkdir()
    (short / "one.py").write_text(GOOD, encoding="utf-8")
    code, _, terminal = _run_cli(["check", "short"], tmp_path, env, tty="stderr")
    assert code == 0
    assert "Linting" not in terminal
