"""Where a cell's code stands in the notebook's JSON text, whatever the file's layout."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dropout_lint.notebook import cell_source
from dropout_lint.notebook_raw import cell_lines, column

TRICKY = [
    "import torch  # plain\n",
    'label = "drop\\tout"; path = "C:\\\\data"\n',  # quotes and backslashes, escaped in JSON
    "\tx = 1  # a tab\n",
    "name = 'ドロップアウト'  # wide characters\n",
    "emoji = '🎲'; y = F.dropout(x)  # a surrogate pair under ensure_ascii\n",
    "last = 'no newline'  # ends in a backslash, escaped before the closing quote \\",
]


def _notebook(*sources: Any) -> dict[str, Any]:
    cells: list[dict[str, Any]] = [{"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]}]
    for source in sources:
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}


LAYOUTS = [
    {"indent": 1},
    {"indent": 2, "ensure_ascii": False},
    {"indent": 4, "sort_keys": True},
    {"indent": None},
    {"indent": None, "ensure_ascii": False, "separators": (",", ":")},
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_line_and_column_maps_into_the_json(layout: dict[str, Any]) -> None:
    notebook = _notebook(TRICKY, "".join(TRICKY), [])
    text = json.dumps(notebook, **layout)
    mapped = dict(cell_lines(text.encode("utf-8"), {2, 3, 4}))
    assert set(mapped) == {2, 3, 4}
    raw_lines = text.split("\n")
    for number in (2, 3):
        source = cell_source(notebook["cells"][number - 1]) or ""
        lines = source.splitlines()
        assert len(mapped[number]) == len(lines)
        for line, raw in zip(lines, mapped[number]):
            row, start, written = raw
            assert raw_lines[row - 1][start : start + len(written)] == written
            assert json.loads(f'"{written}"').rstrip("\n") == line
            for index in range(len(line) + 1):
                end = column(raw, index) - start
                assert json.loads(f'"{written[:end]}"') == line[:index], (layout, line, index)
    assert mapped[4] == ()  # an empty cell has no lines


def test_one_string_source_puts_every_line_on_one_raw_line() -> None:
    text = json.dumps(_notebook("a = 1\nb = 2\n"), indent=1)
    ((_, lines),) = cell_lines(text.encode(), {2})
    assert [row for row, _, _ in lines] == [lines[0][0]] * 2
    first, second = lines
    assert second[1] == first[1] + len("a = 1\\n")


def test_a_line_split_over_two_strings_keeps_its_first_part() -> None:
    text = json.dumps(_notebook(["x = F.drop", "out(y)\n", "z = 1"]), indent=1)
    ((_, lines),) = cell_lines(text.encode(), {2})
    assert [written for _, _, written in lines] == ["x = F.drop", "z = 1"]
    assert column(lines[0], 20) == lines[0][1] + len("x = F.drop")  # clamped to what it holds


def test_only_wanted_cells_are_mapped_and_odd_cells_are_skipped() -> None:
    notebook = _notebook(["a\n"], ["b\n"])
    notebook["cells"].insert(1, "not a cell")
    notebook["cells"].append({"cell_type": "code", "source": 3})
    text = json.dumps(notebook, indent=1).encode()
    assert [number for number, _ in cell_lines(text, {3, 5})] == [3]
    assert [number for number, _ in cell_lines(text, {4})] == [4]


@pytest.mark.parametrize("data", [b"", b"not json", b'{"cells": [', b'{"cells": ["\\q"]}', b"\xff\xfe", b"[1, 2]"])
def test_what_cannot_be_scanned_maps_nothing(data: bytes) -> None:
    assert cell_lines(data, {1, 2}) == ()


def test_a_byte_order_mark_and_windows_line_ends() -> None:
    text = json.dumps(_notebook(["a = 1\n", "b = F.dropout(a)\n"]), indent=1).replace("\n", "\r\n")
    ((_, lines),) = cell_lines(b"\xef\xbb\xbf" + text.encode(), {2})
    raw_lines = text.split("\r\n")
    row, start, written = lines[1]
    assert raw_lines[row - 1][start:].startswith("b = F.dropout(a)")
