"""The flake8 plugin: ``flake8 --select DL`` reports what ``dropout-lint check`` reports.

flake8 runs for real, as a subprocess with ``--isolated`` (no user or project flake8
settings), and is compared with ``dropout-lint check --format concise`` on the same single
file (the plugin lints one file at a time, so cross-file rules see only that file).
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dropout_lint.config import Config
from dropout_lint.engine import lint_file
from dropout_lint.flake8_plugin import Flake8Plugin

ROOT = Path(__file__).resolve().parent.parent

# The fixture files that have findings of their own when linted alone.
FIXTURES_WITH_FINDINGS = (
    "fixtures/examples/train_mnist.py",
    "fixtures/local/attention.py",
    "fixtures/local/discarded.py",
    "fixtures/local/functional_dropout.py",
    "fixtures/local/mode_switching.py",
    "fixtures/local/modules_in_forward.py",
    "fixtures/local/rate_schedule.py",
    "fixtures/local/rates.py",
    "fixtures/local/training_flags.py",
    "fixtures/projects/modes/train.py",
    "fixtures/projects/rate_flow/models.py",
    "fixtures/projects/stochastic/layers.py",
    "fixtures/projects/tutorial/models.py",
    "fixtures/projects/tutorial/train.py",
    "fixtures/tracer/models.py",
)

_FINDING = re.compile(r"^(?P<key>.+?:\d+:\d+: (?P<code>[A-Z]+\d+)) ", re.MULTILINE)

DROPOUTS = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(p=0.8)

    def forward(self, x):
        y = F.dropout(x, 0.5)
        return self.drop(y)
"""


def _flake8(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _check(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``dropout-lint check`` on the named files alone, as flake8 sees one file at a time."""
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", "check", "--no-project-context", "--format", "concise", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _keys(output: str) -> set[str]:
    """``path:line:col: CODE`` of each finding in flake8 or concise output."""
    return {match["key"] for match in _FINDING.finditer(output)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with its own (empty) configuration, so that nothing above it applies."""
    (tmp_path / "pyproject.toml").write_text("[tool.dropout-lint]\n", encoding="utf-8")
    return tmp_path


def test_the_plugin_is_registered() -> None:
    result = _flake8("--version")
    assert result.returncode == 0, result.stderr
    assert "dropout-lint: " in result.stdout, "reinstall: pip install -e '.[trace,test]' torch==2.13.0"


def test_importing_the_plugin_is_cheap() -> None:
    code = (
        "import sys, dropout_lint.flake8_plugin; "
        "print(sorted(m for m in ('libcst', 'torch', 'dropout_lint.engine') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[set[str], set[str]]]:
    """Per fixture file: (flake8's findings, dropout-lint's findings on that file alone)."""
    flake8 = _flake8("--select", "DL", *FIXTURES_WITH_FINDINGS)
    assert flake8.returncode == 1, flake8.stderr
    assert not flake8.stderr, flake8.stderr
    with ThreadPoolExecutor(max_workers=4) as pool:
        checks = dict(zip(FIXTURES_WITH_FINDINGS, pool.map(_check, FIXTURES_WITH_FINDINGS)))
    out = {}
    for path, check in checks.items():
        assert check.returncode == 1, check.stdout + check.stderr
        flake8_keys = {key for key in _keys(flake8.stdout) if key.startswith(f"{path}:")}
        out[path] = (flake8_keys, _keys(check.stdout))
    return out


@pytest.mark.parametrize("path", FIXTURES_WITH_FINDINGS)
def test_flake8_reports_what_dropout_lint_reports(runs: dict[str, tuple[set[str], set[str]]], path: str) -> None:
    from_flake8, from_check = runs[path]
    assert from_check, f"{path} has no findings: update FIXTURES_WITH_FINDINGS"
    assert from_flake8 == from_check


def test_flake8_prints_dropout_lints_messages() -> None:
    """Not only the places: each line has the library's code and message."""
    path = "fixtures/examples/train_mnist.py"
    expected = [
        f"{path}:{d.span.line}:{d.span.column + 1}: {d.code} {d.message}"
        for d in lint_file(str(ROOT / path), Config(), display_path=path).diagnostics
    ]
    assert len(expected) == 5
    assert _flake8("--select", "DL", path).stdout.splitlines() == expected


def test_a_clean_file_gives_nothing() -> None:
    path = "fixtures/local/clean_model.py"
    result = _flake8("--select", "DL", path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert _check(path).returncode == 0


def test_column_of_a_finding_not_at_column_0(project: Path) -> None:
    (project / "net.py").write_text(DROPOUTS, encoding="utf-8")
    flake8 = _flake8("--select", "DL401", "net.py", cwd=project)
    # `F.dropout` starts at the 13th character of `        y = F.dropout(x, 0.5)`.
    assert flake8.stdout.startswith("net.py:11:13: DL401 "), flake8.stdout
    check = _check("--select", "DL401", "net.py", cwd=project)
    assert _keys(flake8.stdout) == _keys(check.stdout) == {"net.py:11:13: DL401"}


def test_flake8_select_chooses_among_the_codes(project: Path) -> None:
    (project / "net.py").write_text(DROPOUTS, encoding="utf-8")
    everything = _keys(_flake8("--select", "DL", "net.py", cwd=project).stdout)
    assert everything == {"net.py:8:34: DL202", "net.py:11:13: DL401"}
    assert _keys(_flake8("--select", "DL401", "net.py", cwd=project).stdout) == {"net.py:11:13: DL401"}
    assert _keys(_flake8("--select", "DL", "--ignore", "DL401", "net.py", cwd=project).stdout) == {
        "net.py:8:34: DL202"
    }
    # Without --select, flake8 reports the plugin's codes along with its own.
    default = _flake8("--max-line-length", "120", "net.py", cwd=project)
    assert _keys(default.stdout) == everything


def test_the_configuration_of_the_file_applies(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nmax-rate = 0.9\nper-file-ignores = { "tests/**" = ["DL401"] }\n', encoding="utf-8"
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_net.py").write_text(DROPOUTS, encoding="utf-8")
    (project / "net.py").write_text(DROPOUTS, encoding="utf-8")
    # Run from elsewhere: the configuration is found from each file, not from the cwd.
    flake8 = _flake8("--select", "DL", str(project / "net.py"), str(project / "tests" / "test_net.py"))
    assert _keys(flake8.stdout) == {f"{project / 'net.py'}:11:13: DL401"}
    assert _keys(_check(str(project / "net.py")).stdout) == {f"{project / 'net.py'}:11:13: DL401"}


def test_an_invalid_configuration_stops_flake8(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nselect = ["DL999"]\n', encoding="utf-8")
    (project / "net.py").write_text(DROPOUTS, encoding="utf-8")
    result = _flake8("--select", "DL", "net.py", cwd=project)
    assert result.returncode != 0
    assert "DL999" in result.stdout + result.stderr
    assert _check("net.py", cwd=project).returncode == 2


NOQA = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        a = F.dropout(x, 0.5)  # noqa: DL401
        b = F.dropout(x, 0.5)
        c = F.dropout(x, 0.5)  #noqa: DL401
        return a + b + c
"""

# Comments that flake8 honours and dropout-lint does not: a prefix, and a comment at the
# end of a statement continued with a backslash; and one that suppresses nothing.
FLAKE8_STYLE_NOQA = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        e = F.dropout(x, 0.5)  # noqa: DL4
        f = F.dropout(x, \\
                      0.5)  # noqa: DL401
        d = x  # noqa: DL202
        return d + e + f
"""


def test_noqa_is_honoured(project: Path) -> None:
    (project / "noqa.py").write_text(NOQA, encoding="utf-8")
    flake8 = _flake8("--select", "DL", "noqa.py", cwd=project)
    # Line 9's comment, with no space after the `#`, is dropout-lint's: flake8's pattern misses it.
    assert _keys(flake8.stdout) == _keys(_check("noqa.py", cwd=project).stdout) == {"noqa.py:8:13: DL401"}
    disabled = _flake8("--select", "DL", "--disable-noqa", "noqa.py", cwd=project)
    assert _keys(disabled.stdout) == {"noqa.py:7:13: DL401", "noqa.py:8:13: DL401", "noqa.py:9:13: DL401"}


def test_the_plugin_applies_dropout_lints_noqa_itself(project: Path) -> None:
    plugin = Flake8Plugin(None, str(project / "noqa.py"), NOQA.splitlines(keepends=True))  # type: ignore[arg-type]
    found = list(plugin.run())
    assert [(line, column, text.split()[0]) for line, column, text, _ in found] == [(8, 12, "DL401")]
    assert all(kind is Flake8Plugin for *_, kind in found)


def test_unused_noqa_is_not_reported_under_flake8(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-select = ["DL902"]\n', encoding="utf-8")
    (project / "noqa.py").write_text(FLAKE8_STYLE_NOQA, encoding="utf-8")
    # dropout-lint's own view: no comment here suppresses anything.
    assert _keys(_check("noqa.py", cwd=project).stdout) == {
        "noqa.py:7:13: DL401",
        "noqa.py:7:32: DL902",  # unknown: DL4
        "noqa.py:8:13: DL401",
        "noqa.py:9:29: DL902",  # unused: DL401
        "noqa.py:10:16: DL902",  # unused: DL202
    }
    # flake8 honours the first two comments, so DL902 saying they suppress nothing would be
    # wrong there (and removing them would bring the DL401 back): the plugin leaves DL902 out.
    flake8 = _flake8("--select", "DL", "noqa.py", cwd=project)
    assert (flake8.returncode, flake8.stdout, flake8.stderr) == (0, "", "")
    # The same comments are no longer "used" with --disable-noqa; DL902 still stays out.
    disabled = _flake8("--select", "DL", "--disable-noqa", "noqa.py", cwd=project)
    assert _keys(disabled.stdout) == {"noqa.py:7:13: DL401", "noqa.py:8:13: DL401"}


def test_a_file_that_does_not_parse(project: Path) -> None:
    (project / "broken.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    result = _flake8("--select", "DL,E999", "broken.py", cwd=project)
    # flake8 reports E999 and does not run the plugin; nothing crashed.
    assert result.stdout.startswith("broken.py:1:") and " E999 SyntaxError" in result.stdout, result.stdout
    assert "DL" not in result.stdout and not result.stderr
    # The plugin itself, given text that libcst cannot parse, reports DL900 and does not raise.
    plugin = Flake8Plugin(None, str(project / "broken.py"), ["def f(:\n", "    pass\n"])  # type: ignore[arg-type]
    found = list(plugin.run())
    assert [(line, column, text.split()[0]) for line, column, text, _ in found] == [(1, 6, "DL900")]
