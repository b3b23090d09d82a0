"""Configuration: ``[tool.dropout-lint]`` in pyproject.toml, merged with the command line
into one frozen ``Config``. Merging happens only here."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Optional

from dropout_lint.errors import ConfigError
from dropout_lint.selection import ALWAYS_REPORTED, expand_selectors, resolve_selection, validate_selectors

DEFAULT_MAX_RATE = 0.5
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".dropout_lint_cache",
    ".ipynb_checkpoints",
    "__pycache__",
    "__pypackages__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
)

# Functions whose names match these patterns evaluate the models they run (DL301).
# (Not `test_*`: pytest's tests build and run blocks on their own.)
DEFAULT_EVALUATION_FUNCTIONS: tuple[str, ...] = ("*eval*", "*valid*", "test", "*predict*", "*infer*")

_KEYS = frozenset(
    {
        "select",
        "ignore",
        "extend-select",
        "max-rate",
        "exclude",
        "extend-exclude",
        "per-file-ignores",
        "evaluation-functions",
        "file-timeout",
        "max-file-size",
        "stochastic-modules",
    }
)
DEFAULT_FILE_TIMEOUT = 60.0  # seconds of CPU time one file may take before it is skipped
# libcst's parser takes time and memory that grow faster than the file: about 10 s and
# 1.3 GB for 2 MB of code, 72 s and 6 GB for 10 MB. Larger files are skipped.
DEFAULT_MAX_FILE_SIZE = 2.0  # megabytes


def _codes(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of rule codes, got {value!r}")
    codes = tuple(v.strip().upper() for v in value if v.strip())
    # Checked here as well as in Config so that the message names the file.
    validate_selectors(codes, where)
    return codes


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of path patterns, got {value!r}")
    return tuple(value)


def _stochastic_modules(value: Any, where: str) -> tuple[str, ...]:
    """Module paths in the traced model (``head.mc_dropout``, ``*.sampler``) or class
    names (``MCDropout``); ``*``, ``?`` and ``[...]`` are globs."""
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or any(not v.strip() or any(c.isspace() for c in v) for v in value)
    ):
        raise ConfigError(
            f"{where} must be a list of module paths (head.mc_dropout, *.sampler) or class names (MCDropout), "
            f"without spaces, got {value!r}"
        )
    return tuple(value)


def _rate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError(f"{where} must be a number in (0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Config:
    """Everything that decides what a run reports. Immutable; passed down to each file."""

    select: Optional[tuple[str, ...]] = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    max_rate: float = DEFAULT_MAX_RATE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    evaluation_functions: tuple[str, ...] = DEFAULT_EVALUATION_FUNCTIONS
    file_timeout: float = DEFAULT_FILE_TIMEOUT
    max_file_size: float = DEFAULT_MAX_FILE_SIZE
    prefilter: bool = True  # skip files without a word the selected rules look for
    # Modules meant to stay random in eval (Monte Carlo dropout): the tracer does not
    # report their randomness. Paths in the traced model or class names, with globs.
    stochastic_modules: tuple[str, ...] = ()
    respect_gitignore: bool = True
    root: Path = field(default_factory=Path.cwd)
    source: Optional[Path] = None

    def __post_init__(self) -> None:
        validate_selectors(self.select or (), "select")
        validate_selectors(self.extend_select, "extend-select")
        validate_selectors(self.ignore, "ignore")
        for pattern, codes in self.per_file_ignores:
            validate_selectors(codes, f"per-file-ignores[{pattern!r}]")

    @cached_property
    def enabled(self) -> frozenset[str]:
        return resolve_selection(self.select, self.extend_select, self.ignore)

    @cached_property
    def _per_file_specs(self) -> tuple[tuple[Any, frozenset[str]], ...]:
        import pathspec

        return tuple(
            (pathspec.GitIgnoreSpec.from_lines([pattern]), expand_selectors(codes))
            for pattern, codes in self.per_file_ignores
        )

    def enabled_for(self, path: str) -> frozenset[str]:
        """The codes enabled for one file, after per-file ignores (which leave the
        always-reported codes on, see ``selection.ALWAYS_REPORTED``)."""
        if not self.per_file_ignores:
            return self.enabled
        relative = _relative_posix(path, self.root)
        enabled = set(self.enabled)
        for spec, codes in self._per_file_specs:
            if relative is not None and spec.match_file(relative):
                enabled -= codes - ALWAYS_REPORTED
        return frozenset(enabled)

    def merged(self, **overrides: Any) -> Config:
        """This configuration with command-line values laid over it (None = not given).

        Rule selection is layered: the file's selection is resolved first, and the command
        line applies on top of it, so ``--select DL202`` or ``--extend-select DL202`` turn
        DL202 on even when the file ignores it (a file's ``ignore`` must not veto an
        explicit request on the command line)."""
        changes: dict[str, Any] = {}
        for key in ("max_rate", "respect_gitignore", "file_timeout", "max_file_size", "prefilter"):
            if overrides.get(key) is not None:
                changes[key] = overrides[key]
        changes.update(self._selection_overrides(overrides))
        if overrides.get("extend_exclude"):
            changes["extend_exclude"] = self.extend_exclude + tuple(overrides["extend_exclude"])
        if overrides.get("exclude") is not None:
            changes["exclude"] = tuple(overrides["exclude"])
        if overrides.get("stochastic_modules"):
            changes["stochastic_modules"] = self.stochastic_modules + tuple(overrides["stochastic_modules"])
        return replace(self, **changes)

    def _selection_overrides(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        select = overrides.get("select")
        extend_select = tuple(overrides.get("extend_select") or ())
        ignore = tuple(overrides.get("ignore") or ())
        if select is None and not extend_select and not ignore:
            return {}
        if select is None:
            # Freeze the file's resolved selection into explicit codes, then layer the CLI.
            select = tuple(sorted(self.enabled))
        return {"select": tuple(select), "extend_select": extend_select, "ignore": ignore}


def _relative_posix(path: str, root: Path) -> Optional[str]:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def find_config_file(paths: Sequence[Path]) -> Optional[Path]:
    """The nearest pyproject.toml with a ``[tool.dropout-lint]`` table above the paths."""
    start = common_parent(paths)
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "dropout-lint" in _tool_table(_read_toml(candidate)):
            return candidate
    return None


def _tool_table(data: Mapping[str, Any]) -> Mapping[str, Any]:
    # A malformed `tool` (say `tool = 3`) in some unrelated pyproject.toml has no table of ours.
    tool = data.get("tool", {})
    return tool if isinstance(tool, Mapping) else {}


def common_parent(paths: Sequence[Path]) -> Path:
    """The innermost folder that holds every path (a file counts as its folder)."""
    resolved = []
    for p in paths or [Path.cwd()]:
        try:
            full = p.resolve()
        except OSError:
            continue
        resolved.append(full if full.is_dir() else full.parent)
    if not resolved:
        return Path.cwd()
    common = resolved[0]
    for other in resolved[1:]:
        while common != other and common not in other.parents:
            common = common.parent
    return common


def _read_toml(path: Path) -> dict[str, Any]:
    # Imported here: a run without a configuration file does not need a TOML parser.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11 only
        import tomli as tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_config(path: Path) -> Config:
    """Read ``[tool.dropout-lint]`` from a pyproject.toml (an empty table gives defaults)."""
    data = _read_toml(path)
    if not isinstance(data.get("tool", {}), Mapping):
        raise ConfigError(f"{path}: `tool` must be a table")
    table = _tool_table(data).get("dropout-lint", {})
    return config_from_table(table, root=path.parent, source=path)


def config_from_table(table: Mapping[str, Any], root: Path, source: Optional[Path] = None) -> Config:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [tool.dropout-lint] must be a table")
    where = f"{source}: " if source else ""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{where}unknown key(s) in [tool.dropout-lint]: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_KEYS))})"
        )
    kwargs: dict[str, Any] = {"root": root, "source": source}
    if "select" in table:
        kwargs["select"] = _codes(table["select"], f"{where}select")
    if "extend-select" in table:
        kwargs["extend_select"] = _codes(table["extend-select"], f"{where}extend-select")
    if "ignore" in table:
        kwargs["ignore"] = _codes(table["ignore"], f"{where}ignore")
    if "max-rate" in table:
        kwargs["max_rate"] = _rate(table["max-rate"], f"{where}max-rate")
    if "exclude" in table:
        kwargs["exclude"] = _patterns(table["exclude"], f"{where}exclude")
    if "extend-exclude" in table:
        kwargs["extend_exclude"] = _patterns(table["extend-exclude"], f"{where}extend-exclude")
    if "evaluation-functions" in table:
        kwargs["evaluation_functions"] = tuple(
            p.lower() for p in _patterns(table["evaluation-functions"], f"{where}evaluation-functions")
        )
    if "stochastic-modules" in table:
        kwargs["stochastic_modules"] = _stochastic_modules(table["stochastic-modules"], f"{where}stochastic-modules")
    for key, unit in (("file-timeout", "seconds"), ("max-file-size", "megabytes")):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{where}{key} must be a positive number of {unit}, got {value!r}")
            kwargs[key.replace("-", "_")] = float(value)
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}per-file-ignores must be a table of pattern = [codes]")
        kwargs["per_file_ignores"] = tuple(
            (pattern, _codes(codes, f"{where}per-file-ignores[{pattern!r}]"))
            for pattern, codes in value.items()
        )
    return Config(**kwargs)


def parse_code_list(values: Iterable[str]) -> tuple[str, ...]:
    """Codes from the command line: repeated options and comma-separated lists."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(out)
