"""The package's import graph, read from the source: no cycle, and no module imports a
module of a higher layer. Every import counts, wherever it stands (at module level, in
a function, under ``TYPE_CHECKING``), and so does a module that ``importlib`` loads by a
name the code spells out."""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dropout_lint"

# From the top down: a module may import modules of its own layer and of the layers below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # What a user runs: the command line, the flake8 plugin and the library's front door.
    ("interface", ("dropout_lint", "dropout_lint.__main__", "dropout_lint.cli", "dropout_lint.flake8_plugin")),
    # Runs over many files: the runner, its cache, the reporters, fixes, the tracer.
    (
        "runner",
        (
            "dropout_lint.runner",
            "dropout_lint.cache",
            "dropout_lint.cache_format",
            "dropout_lint.plain",
            "dropout_lint.baseline",
            "dropout_lint.fixer",
            "dropout_lint.scope",
            "dropout_lint.discovery",
            "dropout_lint.excludes",
            "dropout_lint.reporters",
            "dropout_lint.reporters.*",
            "dropout_lint.tracer",
            "dropout_lint.tracer.*",
        ),
    ),
    # The phases of linting files: read, check and summarise each, then finish them all.
    ("engine phases", ("dropout_lint.engine", "dropout_lint.phases", "dropout_lint.phases.*")),
    # The checks, their base classes and the registry that loads them.
    ("rules", ("dropout_lint.registry", "dropout_lint.rule", "dropout_lint.checks", "dropout_lint.checks.*")),
    # What the checks read: one file's context, the summaries and the project index.
    ("facts", ("dropout_lint.context", "dropout_lint.project", "dropout_lint.project.*")),
    # What a run is asked for: the configuration and the rules it names.
    (
        "settings",
        (
            "dropout_lint.config",
            "dropout_lint.catalog",
            "dropout_lint.selection",
            "dropout_lint.rulebook",
            "dropout_lint.prefilter",
        ),
    ),
    # Pure helpers that reason about syntax trees.
    ("analysis", ("dropout_lint.analysis", "dropout_lint.analysis.*")),
    # Source text and syntax trees: decoding, parsing, positions, the shared traversal.
    (
        "syntax",
        (
            "dropout_lint.source",
            "dropout_lint.notebook",
            "dropout_lint.notebook_raw",
            "dropout_lint.positions",
            "dropout_lint.noqa",
            "dropout_lint.walker",
            "dropout_lint.unchecked",
        ),
    ),
    # Leaves: value types and small utilities that import nothing of the package.
    (
        "base",
        (
            "dropout_lint.diagnostics",
            "dropout_lint.records",
            "dropout_lint.blobs",
            "dropout_lint.atomic",
            "dropout_lint.budget",
            "dropout_lint.memory",
            "dropout_lint.errors",
            "dropout_lint.version",
        ),
    ),
)
# ``analysis.syntax`` belongs with the syntax, below the other analyses that use it.
EXCEPTIONS = {"dropout_lint.analysis.syntax": "syntax"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    names = [name for name, _ in LAYERS]
    if module in EXCEPTIONS:
        return names.index(EXCEPTIONS[module])
    for rank, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return rank
    raise AssertionError(f"{module} is in no layer: give it one in tests/test_layers.py")


def _known(name: str) -> str | None:
    """The module of the package that ``name`` (a module, or a name in one) is."""
    while name not in MODULES:
        if "." not in name:
            return None
        name = name.rpartition(".")[0]
    return name


def _imported(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """The modules of the package that ``module`` imports, with the line of each import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
            names = _dynamic(node.args[0])
        for name in names:
            found = _known(name)
            if found is not None and found != module:
                yield found, node.lineno


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )


def _dynamic(argument: ast.expr) -> list[str]:
    """The modules an ``import_module`` call may load: the one named by a constant, or
    every module whose name starts with an f-string's constant head."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return [argument.value]
    if isinstance(argument, ast.JoinedStr) and argument.values:
        head = argument.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return [name for name in MODULES if name.startswith(head.value) and name != head.value.rstrip(".")]
    return []


def _graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, {})
        for target, line in _imported(module, path):
            edges.setdefault(target, line)
    return graph


def _cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle of the graph, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found is not None:
                    return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found is not None:
                return found
    return None


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = _graph()
    # A function-level import, one under TYPE_CHECKING and the registry's import_module.
    assert "dropout_lint.notebook" in graph["dropout_lint.cache_format"]
    assert "dropout_lint.project.index" in graph["dropout_lint.rule"]
    assert "dropout_lint.checks.dl401_functional_dropout_always_on" in graph["dropout_lint.registry"]


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_the_package_has_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for module, edges in sorted(_graph().items()):
        for target, line in sorted(edges.items()):
            if _layer(target) < _layer(module):
                own, theirs = LAYERS[_layer(module)][0], LAYERS[_layer(target)][0]
                upward.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} ({own}) imports {target} ({theirs})")
    assert not upward, "\n".join(upward)
