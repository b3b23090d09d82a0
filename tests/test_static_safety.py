"""The static pass reads code and never runs it: no import, exec or eval of linted files,
no torch, no tracer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dropout_lint"

# Calls and imports that would run code or start programs. The tracer (imports the
# user's model by design, only for `dropout-lint trace`/`--trace`) is the one exception.
_FORBIDDEN_CALLS = frozenset({"exec", "eval", "compile", "__import__", "execfile", "runfile"})
_FORBIDDEN_MODULES = ("importlib", "runpy", "subprocess", "pkgutil", "imp", "code", "pty")
_FORBIDDEN_ATTRIBUTES = frozenset({"system", "popen", "execv", "execve", "execvp", "spawnv", "startfile", "import_module", "exec_module"})

HOSTILE = """\
import os
import pathlib

pathlib.Path({marker!r}).write_text("imported")
os._exit(42)


def main():
    pathlib.Path({marker!r}).write_text("run")


if __name__ == "__main__":
    main()
"""


def _static_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "tracer" not in p.relative_to(PACKAGE).parts)


def _problems(source: str, where: str) -> list[str]:
    """The calls and imports in ``source`` that could run code or programs."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        at = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _FORBIDDEN_CALLS:
                problems.append(f"{at}: {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr in _FORBIDDEN_ATTRIBUTES:
                problems.append(f"{at}: .{func.attr}()")
        elif isinstance(node, ast.Import):
            problems.extend(f"{at}: import {a.name}" for a in node.names if a.name.split(".")[0] in _FORBIDDEN_MODULES)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
            problems.append(f"{at}: from {node.module} import ...")
    return problems


def test_no_module_of_the_static_pass_can_run_code() -> None:
    found = [p for path in _static_modules() for p in _problems(path.read_text(encoding="utf-8"), path.name)]
    assert len(_static_modules()) > 40
    # The one exception: the registry imports the checks that the catalog names, on
    # first use, and only modules of the linter's own `dropout_lint.checks` (below).
    assert [p for p in found if not p.startswith("registry.py:")] == []
    assert sorted(p.split(": ", 1)[1] for p in found) == [".import_module()", "import importlib"]


def test_the_registry_imports_only_the_linters_own_checks() -> None:
    tree = ast.parse((PACKAGE / "registry.py").read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "import_module"]
    assert len(calls) == 1 and len(calls[0].args) == 1
    (name,) = calls[0].args
    assert isinstance(name, ast.JoinedStr) and isinstance(name.values[0], ast.Constant)
    assert name.values[0].value == "dropout_lint.checks."
    from dropout_lint.registry import _load
    from dropout_lint.rule import Check

    for outside in ("..engine:Walker", "dl401_functional_dropout_always_on.x:Y", "/tmp/model:Net"):
        with pytest.raises(ValueError, match="not a module of dropout_lint.checks"):
            _load(outside, Check)
    with pytest.raises(ModuleNotFoundError, match="dropout_lint.checks.os"):
        _load("os:system", Check)  # looked for among the checks, not taken from elsewhere


def test_the_scan_sees_what_it_looks_for() -> None:
    sample = "import importlib\nfrom subprocess import run\nimportlib.import_module(name)\nexec(code)\nos.system('x')\nre.compile('x')\n"
    assert [p.split(": ", 1)[1] for p in _problems(sample, "m.py")] == [
        "import importlib",
        "from subprocess import ...",
        ".import_module()",
        "exec()",
        ".system()",
    ]


def test_linting_a_hostile_project_runs_none_of_it(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    project = tmp_path / "project"
    project.mkdir()
    for name in ("model.py", "setup.py", "conftest.py", "__main__.py", "__init__.py"):
        (project / name).write_text(HOSTILE.format(marker=str(marker)), encoding="utf-8")
    notebook = '{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["%run model.py\\n", "import model"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    (project / "nb.ipynb").write_text(notebook, encoding="utf-8")
    (project / "pyproject.toml").write_text("[tool.dropout-lint]\nselect = [\"ALL\"]\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from dropout_lint.cli import main\n"
        "try:\n"
        "    main(['check', '--fix', '--unsafe-fixes', '-j', '1', sys.argv[1]])\n"
        "except SystemExit as exit:\n"
        "    loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'dropout_lint.tracer')))\n"
        "    print('loaded:', loaded)\n"
        "    print('status:', exit.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True, text=True, timeout=300)
    assert "status: 0" in done.stdout, done.stdout + done.stderr  # the linter finished (no os._exit(42))
    assert "loaded: []" in done.stdout  # neither torch nor the tracer was imported
    assert not marker.exists()
