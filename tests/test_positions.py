"""The lean position pass agrees with libcst's PositionProvider on every node we report."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from dropout_lint.analysis.syntax import iter_nodes
from dropout_lint.positions import locate

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "dropout_lint").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_positions_match_libcst(path: Path) -> None:
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    # Indented blocks are the one kind the provider places differently; nothing reports them.
    nodes = [n for n in iter_nodes(module) if not isinstance(n, (cst.Module, cst.IndentedBlock))]
    ours = locate(module, nodes)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in nodes:
        expected = reference[node]
        span = ours[id(node)]
        assert (span.line, span.column, span.end_line, span.end_column) == (
            expected.start.line,
            expected.start.column,
            expected.end.line,
            expected.end.column,
        ), type(node).__name__


def test_only_the_nodes_asked_for() -> None:
    module = cst.parse_module("x = f(1)\ny = (g(2))\n")
    calls = [n for n in iter_nodes(module) if isinstance(n, cst.Call)]
    spans = locate(module, calls[1:])
    assert list(spans.values())[0].line == 2 and spans[id(calls[1])].column == 5
    assert id(calls[0]) not in spans
    assert locate(module, []) == {}


@pytest.mark.parametrize("path", SOURCES[::3], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_code_after_the_last_node_asked_for_changes_nothing(path: Path) -> None:
    # locate stops generating code once every node asked for is placed: a node located
    # alone (or with the next one) lies where it lies when every node is located.
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    nodes = [n for n in iter_nodes(module) if not isinstance(n, (cst.Module, cst.IndentedBlock))]
    everything = locate(module, nodes)
    step = max(len(nodes) // 25, 1)
    for index in range(0, len(nodes), step):
        chosen = nodes[index : index + 2]
        alone = locate(module, chosen)
        assert {key: alone[key] for key in map(id, chosen)} == {key: everything[key] for key in map(id, chosen)}
