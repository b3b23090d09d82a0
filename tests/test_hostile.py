"""Hostile input: every odd, broken or pathological file gives a clear finding or none,
and the run goes on to the other files; nothing raises, hangs or eats the memory."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dropout_lint import runner
from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.engine import lint_file
from dropout_lint.phases import analyse, read
from dropout_lint.runner import lint_files

BUG = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)
"""

# name -> (bytes, what the file must give: None for no finding, else a piece of the DL900 message)
HOSTILE: dict[str, tuple[bytes, str | None]] = {
    "empty.py": (b"", None),
    "comments.py": (b"# only a comment\n# and another\n", None),
    "bom.py": (b"\xef\xbb\xbfimport torch\nx = 1\n", None),
    "crlf.py": (b"import torch\r\nx = 1\r\n\r\ny = 2\r\n", None),
    "mixed_endings.py": (b"import torch\r\nx = 1\ny = 2\rz = 3\n", None),
    "tabs.py": (b"def f():\n\tif True:\n\t\treturn 1\n", None),
    "latin1_cookie.py": ("# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1"), None),
    "newest_grammar.py": (
        b"type Pair[T] = tuple[T, T]\n\n\ndef first[T](pair: Pair[T]) -> T:\n"
        b"    match pair:\n        case (a, _) if (n := a):\n            return n\n"
        b"    return pair[0]\n\n\nx = f\"{f\"{1}\"}\"\n",
        None,
    ),
    "latin1_no_cookie.py": ("name = 'café'\n".encode("latin-1"), "cannot decode byte 0xe9"),
    "binary.py": (bytes(range(256)) * 4, "NUL byte"),
    "nul.py": (b"x = 1\x00\n", "NUL byte"),
    "python2.py": (b'print "hello"\nexec "x = 1"\n', "syntax error"),
    "deep_parens.py": (b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n", "too many nested parentheses"),
    "long_chain.py": (b"x = " + b"+".join([b"1"] * 10000) + b"\n", "nested too deeply to lint"),
    "broken.ipynb": (b'{"cells": [', "invalid JSON"),
    "no_cells.ipynb": (b'{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "no list of cells"),
}


def _write_all(folder: Path) -> None:
    for name, (data, _) in HOSTILE.items():
        (folder / name).write_bytes(data)
    (folder / "model.py").write_text(BUG, encoding="utf-8")


def _findings(folder: Path, *extra: str) -> tuple[int, dict[str, list[dict]], float]:
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["check", "--format", "json", str(folder), *extra])
    elapsed = time.perf_counter() - started
    rows: dict[str, list[dict]] = {}
    for row in json.loads(result.stdout):
        rows.setdefault(Path(row["path"]).name, []).append(row)
    return result.exit_code, rows, elapsed


def test_a_folder_of_hostile_files_with_one_real_bug(tmp_path: Path) -> None:
    _write_all(tmp_path)
    code, rows, elapsed = _findings(tmp_path)
    assert code == 1
    assert elapsed < 60  # a guard against hangs, not a measure of speed (the run takes about 1 s)
    assert [r["code"] for r in rows.pop("model.py")] == ["DL401"]
    for name, (_, expected) in HOSTILE.items():
        found = rows.pop(name, [])
        if expected is None:
            assert found == [], name
        else:
            assert [r["code"] for r in found] == ["DL900"], name
            assert expected in found[0]["message"], (name, found[0]["message"])
    assert rows == {}


def test_the_same_folder_in_worker_processes(tmp_path: Path) -> None:
    _write_all(tmp_path)
    files = sorted(str(p) for p in tmp_path.iterdir())
    alone = lint_files(files, Config(), jobs=1)
    pooled = runner.lint_files([*files, *_padding(tmp_path)], Config(), jobs=2)
    assert [r for r in pooled if r.path in files] == alone


def _padding(folder: Path) -> list[str]:
    """Enough clean files that the run uses a pool of workers."""
    out = []
    for number in range(runner._POOL_THRESHOLD):
        path = folder / "pad" / f"clean_{number}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")
        out.append(str(path))
    return out


def test_a_ten_megabyte_file_is_refused_before_parsing(tmp_path: Path) -> None:
    # (Parsing it would take libcst over a minute and 6 GB of memory.)
    path = tmp_path / "generated.py"
    block = "def f():\n" + "".join(f"    x{i} = {i}\n" for i in range(1000))
    path.write_text(block * (10_000_000 // len(block) + 1), encoding="utf-8")
    result = lint_file(str(path), Config())
    assert [d.code for d in result.diagnostics] == ["DL900"]
    assert "larger than max-file-size (2 MB)" in result.diagnostics[0].message


def test_a_ten_thousand_line_function_is_linted(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = F.dropout(x, 0.1, self.training)\n" for i in range(10_000))
    path = tmp_path / "long.py"
    path.write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
        "    def forward(self, x):\n" + body.replace("    x", "        x") + "        return F.dropout(x, 0.9)\n",
        encoding="utf-8",
    )
    result = lint_file(str(path), Config())
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("DL401", 10_007), ("DL202", 10_007)]


def test_a_file_that_takes_too_long_becomes_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "slow.py"
    path.write_text("def f():\n" + "".join(f"    x{i} = F.dropout(x, 0.1)\n" for i in range(20_000)), encoding="utf-8")
    other = tmp_path / "model.py"
    other.write_text(BUG, encoding="utf-8")
    config = Config(file_timeout=0.05)
    results = {Path(r.path).name: r for r in lint_files([str(path), str(other)], config, jobs=1)}
    (timed_out,) = results["slow.py"].diagnostics
    assert timed_out.code == "DL900" and "took longer than 0.05 s" in timed_out.message
    assert [d.code for d in results["model.py"].diagnostics] == ["DL401"]
    # The bound does not outlive the file: a later long computation is not interrupted.
    time.sleep(0.1)


def _slow_parse(monkeypatch: pytest.MonkeyPatch, wait: Callable[[], None]) -> None:
    """Make the engine's parse wait first (as a parse on a busy machine does)."""
    real_parse = analyse.parse_module

    def parse(source: str) -> object:
        wait()
        return real_parse(source)

    monkeypatch.setattr(analyse, "parse_module", parse)


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_bound_counts_the_files_cpu_time_not_time_spent_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model.py"
    model.write_text(BUG, encoding="utf-8")
    config = Config(file_timeout=0.3)
    _slow_parse(monkeypatch, lambda: time.sleep(0.6))  # off the CPU: a loaded machine
    assert [d.code for d in lint_file(str(model), config).diagnostics] == ["DL401"]
    _slow_parse(monkeypatch, lambda: _spin(0.6))  # on the CPU: the file's own work
    (timed_out,) = lint_file(str(model), config).diagnostics
    assert timed_out.code == "DL900" and "took longer than 0.3 s" in timed_out.message


def test_an_unreadable_file_and_a_deleted_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.py"
    locked.write_text("x = 1\n", encoding="utf-8")
    gone = tmp_path / "gone.py"
    gone.write_text("x = 1\n", encoding="utf-8")
    model = tmp_path / "model.py"
    model.write_text(BUG, encoding="utf-8")
    files = [str(locked), str(gone), str(model)]  # as discovery found them
    gone.unlink()  # deleted between discovery and reading

    def refuse(path: str, *args: object, **kwargs: object) -> object:
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(read, "open", refuse, raising=False)  # (root reads any file: chmod proves nothing)
    results = {Path(r.path).name: r for r in lint_files(files, Config(), jobs=1)}
    assert [(d.code, d.message) for d in results["locked.py"].diagnostics] == [
        ("DL900", "cannot read file: Permission denied")
    ]
    (missing,) = results["gone.py"].diagnostics
    assert missing.code == "DL900" and "No such file or directory" in missing.message
    assert [d.code for d in results["model.py"].diagnostics] == ["DL401"]


def test_a_symlink_loop_and_a_pipe(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "pkg" / "model.py").write_text(BUG, encoding="utf-8")
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    code, rows, elapsed = _findings(tmp_path / "pkg", str(fifo))
    assert code == 1 and elapsed < 60  # (a guard against reading the pipe forever)
    assert [r["code"] for r in rows["model.py"]] == ["DL401"]
    assert [r["code"] for r in rows["pipe.py"]] == ["DL900"]
    assert "not a regular file" in rows["pipe.py"][0]["message"]


def _crash_on_poison(args: tuple[str, Config]) -> object:
    """Stands in for the per-file work in the workers: dies like a native crash would,
    and notes which process linted each file."""
    if args[0].endswith("poison.py"):
        os._exit(139)
    Path(args[0] + ".pid").write_text(str(os.getpid()), encoding="utf-8")
    return runner._analyse_file_for_test(args)


def test_a_worker_that_dies_loses_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _padding(tmp_path)
    poison = tmp_path / "poison.py"
    poison.write_text("x = 1\n", encoding="utf-8")
    model = tmp_path / "model.py"
    model.write_text(BUG, encoding="utf-8")
    monkeypatch.setattr(runner, "_analyse_file_for_test", runner._analyse_one, raising=False)
    monkeypatch.setattr(runner, "_analyse_one", _crash_on_poison)
    results = {Path(r.path).name: r for r in runner.lint_files([*files, str(poison), str(model)], Config(), jobs=2)}
    (crash,) = results["poison.py"].diagnostics
    assert crash.code == "DL901" and "crashed while reading this file" in crash.message
    assert [d.code for d in results["model.py"].diagnostics] == ["DL401"]
    assert sorted(name for name, r in results.items() if r.diagnostics) == ["model.py", "poison.py"]


def test_after_a_worker_dies_the_rest_share_a_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _padding(tmp_path)
    poison = tmp_path / "poison.py"
    poison.write_text("x = 1\n" * 500, encoding="utf-8")  # the largest: linted first, the pool dies early
    monkeypatch.setattr(runner, "_analyse_file_for_test", runner._analyse_one, raising=False)
    monkeypatch.setattr(runner, "_analyse_one", _crash_on_poison)
    results = runner.lint_files([*files, str(poison)], Config(), jobs=2)
    assert [Path(r.path).name for r in results if r.diagnostics] == ["poison.py"]
    processes = {Path(path + ".pid").read_text(encoding="utf-8") for path in files}
    assert len(processes) <= 3  # the pool's two workers, then one for the rest


class _Panic(BaseException):
    """What a panic in libcst's native parser raises (pyo3's PanicException is no Exception)."""


@pytest.mark.parametrize("error", [RuntimeError("boom"), _Panic("boom")])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_crash_outside_the_checks_loses_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, jobs: int
) -> None:
    poison = tmp_path / "poison.py"
    poison.write_text("import torch  # poison\nx = 1\n", encoding="utf-8")
    model = tmp_path / "model.py"
    model.write_text(BUG, encoding="utf-8")
    real_parse = analyse.parse_module

    def parse(source: str) -> object:
        if "# poison" in source:
            raise error
        return real_parse(source)

    monkeypatch.setattr(analyse, "parse_module", parse)
    files = [str(poison), str(model)] + (_padding(tmp_path) if jobs > 1 else [])
    results = {Path(r.path).name: r for r in lint_files(files, Config(), jobs=jobs)}
    (crash,) = results["poison.py"].diagnostics
    assert crash.code == "DL901" and f"{type(error).__name__}: boom" in crash.message
    assert [d.code for d in results["model.py"].diagnostics] == ["DL401"]
