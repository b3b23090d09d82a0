from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from collections.abc import Collection
from pathlib import Path

import libcst as cst
import pytest
from helpers import findings

from dropout_lint import engine
from dropout_lint.catalog import Rule
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Severity
from dropout_lint.engine import lint_file, lint_source
from dropout_lint.phases import analyse
from dropout_lint.registry import file_checks
from dropout_lint.rule import Check

BUGGY = textwrap.dedent(
    """\
    import torch.nn as nn
    import torch.nn.functional as F

    class M(nn.Module):
        def forward(self, x):
            x = F.dropout(x, 0.1)
            return nn.Dropout(0.9)(x)
    """
)


def test_lint_source_is_a_library_call() -> None:
    diagnostics = lint_source(BUGGY)
    assert [(d.span.line, d.code) for d in diagnostics] == [(6, "DL401"), (7, "DL402"), (7, "DL202")]
    first = diagnostics[0]
    assert isinstance(first, Diagnostic)
    assert first.path == "<string>"
    assert first.severity is Severity.ERROR
    assert (first.span.line, first.span.column, first.span.end_line, first.span.end_column) == (6, 12, 6, 29)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.code = "DL999"  # type: ignore[misc]


def test_sorted_by_position_and_deterministic() -> None:
    runs = [lint_source(BUGGY, "m.py", Config(select=("ALL",))) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    keys = [(d.span.line, d.span.column) for d in runs[0]]
    assert keys == sorted(keys)


def test_selection_limits_checks() -> None:
    assert [d.code for d in lint_source(BUGGY, config=Config(select=("DL401",)))] == ["DL401"]
    assert [d.code for d in lint_source(BUGGY, config=Config(ignore=("DL4",)))] == ["DL202"]


def test_default_selection_leaves_info_rules_off() -> None:
    source = "import torch.nn.functional as F\ny = F.dropout(x, 0.1, training=True)\n"
    assert lint_source(source) == []
    assert [d.code for d in lint_source(source, config=Config(extend_select=("DL404",)))] == ["DL404"]


@pytest.mark.parametrize(
    ("source", "line", "column", "text"),
    [
        ("def f(:\n    pass\n", 1, 6, "invalid syntax"),
        ("x = 1\nprint 'hello'\n", 2, 0, "Missing parentheses"),
        ("x = (1,\ny = 2\n", 1, 4, "never closed"),
        ("if x\n    pass\n", 1, 4, "expected ':'"),
    ],
)
def test_parse_error_has_the_parser_position(source: str, line: int, column: int, text: str) -> None:
    (diagnostic,) = lint_source(source, "bad.py")
    assert diagnostic.code == "DL900"
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)
    assert text in diagnostic.message


@pytest.mark.parametrize(
    "config",
    [
        Config(ignore=("DL900",)),
        Config(ignore=("DL9",)),
        Config(select=("DL4",)),
        Config(select=("DL304",), ignore=("ALL",)),
        Config(per_file_ignores=(("*.py", ("ALL",)),)),
    ],
)
def test_a_parse_error_is_reported_whatever_the_selection(config: Config) -> None:
    # A file that was not linted must not pass as clean (ruff shows syntax errors always).
    assert [d.code for d in lint_source("def f(:\n", "bad.py", config)] == ["DL900"]
    assert [d.code for d in lint_source("def f(:  # noqa\n", "bad.py", config)] == ["DL900"]


def test_only_the_file_level_codes_survive_an_ignore() -> None:
    assert lint_source(BUGGY, "m.py", Config(select=("DL4",), ignore=("DL4",))) == []
    assert Config(ignore=("ALL",)).enabled == {"DL900", "DL901"}


class _Crashing(Check):
    rule = Rule("DL401", "functional-dropout-always-on", Severity.ERROR, "test double")

    def visit_Call(self, node: cst.Call) -> None:
        raise ValueError("boom")


def _crashing_dl401(codes: Collection[str]) -> tuple[type[Check], ...]:
    return tuple(_Crashing if c.rule.code == "DL401" else c for c in file_checks(codes))


def test_a_crashing_check_is_reported_and_the_others_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyse, "file_checks", _crashing_dl401)
    diagnostics = lint_source(BUGGY, "m.py")
    assert [d.code for d in diagnostics] == ["DL901", "DL402", "DL202"]
    crash = diagnostics[0]
    assert "DL401" in crash.message and "ValueError: boom" in crash.message
    assert crash.span.line == 6  # the first call the check saw


def test_a_crash_is_reported_even_when_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyse, "file_checks", _crashing_dl401)
    diagnostics = lint_source(BUGGY, "m.py", Config(select=("DL401",), ignore=("DL901",)))
    assert [d.code for d in diagnostics] == ["DL901"]


@pytest.mark.parametrize(
    ("comment", "remaining"),
    [
        ("  # noqa: DL401", []),
        ("  # noqa:DL401,DL202", []),
        ("  # NOQA: dl401", []),
        ("  # noqa", []),
        ("  # noqa: DL202", [(6, "DL401")]),
        ("  # noqa: E501", [(6, "DL401")]),
        ("  # some comment", [(6, "DL401")]),
    ],
)
def test_noqa(comment: str, remaining: list[tuple[int, str]]) -> None:
    source = BUGGY.replace("F.dropout(x, 0.1)", "F.dropout(x, 0.1)" + comment)
    assert findings(source, select=("DL401",)) == remaining


def test_noqa_inside_a_string_is_not_a_directive() -> None:
    source = BUGGY.replace("F.dropout(x, 0.1)", "F.dropout(x, 0.1); note = '# noqa'")
    assert findings(source, select=("DL401",)) == [(6, "DL401")]


def test_noqa_on_first_line_of_a_multiline_finding() -> None:
    source = BUGGY.replace("F.dropout(x, 0.1)", "F.dropout(  # noqa: DL401\n                x, 0.1)")
    assert findings(source, select=("DL401",)) == []


def test_unused_noqa() -> None:
    source = BUGGY.replace("F.dropout(x, 0.1)", "F.dropout(x, 0.1)  # noqa: DL401, DL202, DL999").replace(
        "return nn.Dropout(0.9)(x)", "return x  # noqa: DL402"
    )
    result = lint_source(source, config=Config(select=("DL401", "DL402", "DL902")))
    messages = [(d.span.line, d.code, d.message) for d in result]
    assert messages == [
        (6, "DL902", "`# noqa` suppresses nothing here (unknown: DL999)"),
        (7, "DL902", "`# noqa` suppresses nothing here (unused: DL402)"),
    ]


def test_unused_noqa_is_off_by_default() -> None:
    assert lint_source("x = 1  # noqa: DL401\n") == []


def test_lint_file_decodes_like_python(tmp_path: Path) -> None:
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfimport torch.nn as nn\nd = nn.Dropout(1.5)\n")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nimport torch.nn as nn\nname = '\xe9'\nd = nn.Dropout(1.5)\n")
    assert [(d.span.line, d.code) for d in lint_file(str(bom), Config()).diagnostics] == [(2, "DL201")]
    assert [(d.span.line, d.code) for d in lint_file(str(latin), Config()).diagnostics] == [(4, "DL201")]


@pytest.mark.parametrize(
    ("data", "text", "line"),
    [
        (b"x = 1\ny = '\xff\xfe'\n", "cannot decode byte 0xff", 2),
        (b"x = 1\x00\n", "NUL byte", 1),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "NUL byte", 3),
        (b"# -*- coding: klingon -*-\nx = 1\n", "encoding", 1),
    ],
)
def test_lint_file_undecodable(tmp_path: Path, data: bytes, text: str, line: int) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(data)
    (diagnostic,) = lint_file(str(path), Config()).diagnostics
    assert diagnostic.code == "DL900" and text in diagnostic.message and diagnostic.span.line == line


def test_lint_file_missing(tmp_path: Path) -> None:
    (diagnostic,) = lint_file(str(tmp_path / "gone.py"), Config()).diagnostics
    assert diagnostic.code == "DL900" and "cannot read file" in diagnostic.message


def test_lint_file_keeps_lines_only_when_needed(tmp_path: Path) -> None:
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    buggy = tmp_path / "buggy.py"
    buggy.write_text(BUGGY)
    assert lint_file(str(clean), Config()).lines == ()
    assert lint_file(str(buggy), Config()).lines[5].strip() == "x = F.dropout(x, 0.1)"


def test_linting_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from dropout_lint.engine import lint_source\n"
        f"lint_source({BUGGY!r})\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_source_lines_split_where_python_does(tmp_path: Path) -> None:
    path = tmp_path / "ff.py"
    path.write_text("# page one\x0c page two\nimport torch.nn as nn\nd = nn.Dropout(1.5)\n")
    result = lint_file(str(path), Config())
    (diagnostic,) = result.diagnostics
    assert diagnostic.span.line == 3
    assert result.lines[diagnostic.span.line - 1] == "d = nn.Dropout(1.5)"


def test_node_classes_tested_by_type_have_no_subclasses() -> None:
    # The analysis tests concrete node classes with `type(node) is cst.X` or `type(node)
    # in SET` for a frozenset of them (see dropout_lint.analysis.syntax); that agrees with
    # isinstance only while libcst subclasses none of them.
    import re

    package = Path(engine.__file__).parent
    names = set()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r"type\([^)]*\) is (?:not )?cst\.(\w+)", text))
        for members in re.findall(r"frozenset\(\{((?:\s*cst\.\w+,?)+)\s*\}\)", text):
            names.update(re.findall(r"cst\.(\w+)", members))
    assert {"Name", "Attribute", "Call", "FunctionDef", "Lambda", "CompFor"} <= names
    for name in sorted(names):
        cls = getattr(cst, name)
        assert issubclass(cls, cst.CSTNode), name
        assert not cls.__subclasses__(), f"libcst subclasses cst.{name}: use isinstance for it"


def test_children_are_the_nodes_of_the_walked_fields() -> None:
    # syntax.children trusts libcst's sequence fields to hold nodes only; check that on
    # every node of the fixtures against a plain reading of the fields.
    from dropout_lint.analysis.syntax import _walked_fields, children, iter_nodes
    from dropout_lint.source import parse_module

    fixtures = Path(__file__).parent.parent / "fixtures"
    checked = 0
    for path in sorted(fixtures.rglob("*.py")):
        try:
            module = parse_module(path.read_text(encoding="utf-8"))
        except (cst.ParserSyntaxError, UnicodeDecodeError):
            continue  # the hostile fixtures
        for node in iter_nodes(module):
            expected = []
            for name in _walked_fields(type(node)):
                value = getattr(node, name)
                values = value if isinstance(value, (list, tuple)) else [value]
                expected.extend(v for v in values if isinstance(v, cst.CSTNode))
            assert children(node) == expected
            checked += 1
    assert checked > 10_000
