"""The catalog declares every rule once, and the checks that implement them agree with it;
what a run over cached summaries imports needs no libcst."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import dropout_lint.checks
from dropout_lint import catalog
from dropout_lint.catalog import RULES, TRACE_RULES, Rule
from dropout_lint.registry import PROJECT_CODES, _load, file_checks, project_checks
from dropout_lint.rule import Check, ProjectCheck
from dropout_lint.selection import RULES_BY_CODE

ENGINE_CODES = {"DL900", "DL901", "DL902"}


def _implementations() -> dict[type, str]:
    """Every check class defined in a module of ``dropout_lint.checks``, with its name as
    the catalog writes it (``module:Class``)."""
    found: dict[type, str] = {}
    for info in pkgutil.iter_modules(dropout_lint.checks.__path__):
        module = importlib.import_module(f"dropout_lint.checks.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__ and issubclass(value, (Check, ProjectCheck)):
                found[value] = f"{info.name}:{name}"
    return found


def test_every_rule_is_declared_once() -> None:
    declared = [value for value in vars(catalog).values() if isinstance(value, Rule)]
    assert set(declared) | set(TRACE_RULES) == set(RULES)
    assert len({rule.code for rule in RULES}) == len({rule.name for rule in RULES}) == len(RULES)
    assert [rule.code for rule in RULES] == sorted(rule.code for rule in RULES)


def test_the_implementations_agree_with_the_catalog() -> None:
    implementations = _implementations()
    named = {}
    for rule in RULES:
        for kind, where in ((Check, rule.file_check), (ProjectCheck, rule.project_check)):
            if where is None:
                continue
            cls = _load(where, kind)
            assert cls.rule is rule, f"{where} implements {cls.rule.code}, the catalog says {rule.code}"
            named[cls] = where
    # Every check class is named by the rule it implements: none is left out of a run.
    assert named == implementations


def test_what_implements_a_rule() -> None:
    implemented = {rule.code for rule in RULES if rule.file_check or rule.project_check}
    assert {rule.code for rule in RULES} - implemented == {rule.code for rule in TRACE_RULES} | ENGINE_CODES
    assert PROJECT_CODES == {rule.code for rule in RULES if rule.project_check}
    assert [c.rule.code for c in file_checks({"DL201", "DL401", "DL101"})] == ["DL201", "DL401"]
    assert [c.rule.code for c in project_checks({"DL201", "DL401", "DL101"})] == ["DL101", "DL201"]
    assert RULES_BY_CODE["DL201"].file_check != RULES_BY_CODE["DL201"].project_check


def test_a_name_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="is not a ProjectCheck"):
        _load("dl401_functional_dropout_always_on:FunctionalDropoutAlwaysOn", ProjectCheck)
    with pytest.raises(AttributeError):
        _load("dl401_functional_dropout_always_on:Missing", Check)


_PROBE = """
import sys
from dropout_lint import cache_format, catalog, engine, registry, reporters, runner
from dropout_lint.project.index import ProjectIndex
from dropout_lint.project import modes, modes_ir, summary
codes = {rule.code for rule in catalog.RULES}
project = registry.project_checks(codes)
cache_format.codec(engine.FileAnalysis)
print(len(project), "libcst" in sys.modules)
registry.file_checks(codes)
print("libcst" in sys.modules)
"""


def test_the_cross_file_rules_and_the_cache_need_no_libcst() -> None:
    # A fresh interpreter: this one has imported libcst long ago.
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)
    first, second = done.stdout.splitlines()
    assert first == f"{len(PROJECT_CODES)} False", done.stdout + done.stderr
    assert second == "True"  # the checks of the syntax tree do import it: the probe can see it
