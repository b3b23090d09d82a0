"""``--format sarif``: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from dropout_lint.catalog import RULES, Rule
from dropout_lint.diagnostics import Diagnostic, Severity, Span
from dropout_lint.reporters.report import Report
from dropout_lint.rulebook import first_paragraph, page_text
from dropout_lint.version import __version__

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


# The project's repository, as pyproject.toml's [project.urls] names it (a test keeps the
# two in step); None while its address is not settled. No address is made up: without
# one the log carries no links, and every rule's page is still in its ``help``.
REPOSITORY: Optional[str] = None


def help_uri(rule: Rule, base: str) -> str:
    """Where a rule's page is read online: ``{repository}/blob/main/rules/DL401-....md``."""
    return f"{base}/blob/main/rules/{rule.code}-{rule.name}.md"


def _rule_descriptor(rule: Rule, base: Optional[str]) -> dict[str, Any]:
    page = page_text(rule) or ""
    full = first_paragraph(page) or rule.summary
    # Without its page (an install that lacks it) a rule still gets help: code scanning
    # shows it beside every result.
    help_text = page or f"{rule.code} {rule.name}: {rule.summary}\n\nSee `dropout-lint explain {rule.code}`.\n"
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _LEVEL[rule.severity], "enabled": rule.default_enabled},
        "properties": {"severity": rule.severity.value},
    }
    if base is not None:
        descriptor["helpUri"] = help_uri(rule, base)
    return descriptor


def _artifact(path: str) -> dict[str, str]:
    """A location relative to the working directory where the file is under it.

    Relative paths are normalised too: ``../proj/a.py`` run from ``proj`` is ``a.py``,
    and a path that leaves the working directory becomes an absolute ``file:`` URI, since
    a relative URI must not climb out of %SRCROOT%."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path(os.path.abspath(os.getcwd())))
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": "%SRCROOT%"}


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column + 1,
        "endLine": span.end_line,
        "endColumn": span.end_column + 1,
    }


def _result(diagnostic: Diagnostic, index: dict[str, int]) -> dict[str, Any]:
    message = diagnostic.message
    physical: dict[str, Any] = {"artifactLocation": _artifact(diagnostic.path)}
    if diagnostic.cell is None:
        physical["region"] = _region(diagnostic.span)
    else:
        # The region is in the notebook's own text, its JSON: the line of the string
        # that holds the code. The cell and the line in it go in the message.
        message = f"cell {diagnostic.cell}, line {diagnostic.span.line}: {message}"
        if diagnostic.file_span is not None:
            physical["region"] = _region(diagnostic.file_span)
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "ruleIndex": index[diagnostic.code],
        "level": _LEVEL[diagnostic.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
    }
    fix = diagnostic.fix
    # A fix edits the code of a cell, not the JSON text that holds it: none for a notebook.
    if fix is not None and diagnostic.cell is None:
        result["fixes"] = [
            {
                "description": {"text": f"{fix.description} ({fix.safety.value} fix)"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(diagnostic.path),
                        "replacements": [
                            {
                                "deletedRegion": _region(fix.span),
                                "insertedContent": {"text": fix.replacement},
                            }
                        ],
                    }
                ],
            }
        ]
    properties: dict[str, Any] = {}
    if diagnostic.runtime is not None:
        properties["runtime"] = diagnostic.runtime
    if diagnostic.cell is not None:
        properties["cell"] = diagnostic.cell
    if properties:
        result["properties"] = properties
    return result


def render_sarif(report: Report) -> str:
    index = {rule.code: i for i, rule in enumerate(RULES)}
    base = REPOSITORY
    driver: dict[str, Any] = {
        "name": "dropout-lint",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_rule_descriptor(rule, base) for rule in RULES],
    }
    if base is not None:
        driver["informationUri"] = base
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, index) for d in report.diagnostics],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
