"""The README's two commands are what a new user runs and what CI runs: keep them true."""

from __future__ import annotations

import re
from pathlib import Path

from dropout_lint.catalog import RULES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_readme_opens_with_two_commands() -> None:
    setup, tests = _commands()[:2]
    assert "torch==2.13.0" in setup
    assert setup.count("torch") == setup.count("torch==2.13.0"), "an unpinned torch pulls a CUDA build"
    assert "dropout-lint check fixtures/" in setup
    example = setup.split("dropout-lint check ", 1)[1].split()[0]
    assert (ROOT / example).is_file()
    assert "pytest" in tests


def test_ci_runs_the_readme_commands() -> None:
    setup, tests = _commands()[:2]
    install = setup.split(" && ")[1]
    assert install in CI
    assert tests in CI


def test_readme_lists_every_rule() -> None:
    for rule in RULES:
        row = f"| {rule.code} | {rule.name} | {rule.severity.value} | {'on' if rule.default_enabled else 'off'} |"
        assert row in README


def test_readme_documents_every_option_of_check() -> None:
    from click import Option

    from dropout_lint.cli import check, trace

    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    # The options that say how to build and feed a traced model are the trace command's,
    # documented with the tracer.
    traced = {name for param in trace.params for name in param.opts}
    names = [param.opts[-1] for param in check.params if isinstance(param, Option)]
    missing = [name for name in names if name not in traced and f"`{name}" not in section and f" {name}" not in section]
    assert missing == []


def test_installation_snippets_name_nothing_made_up() -> None:
    # No release and no settled address yet: no placeholder owner, tag or PyPI install.
    for made_up in ("OWNER", "<owner>", "pip install dropout-lint", "rev: v"):
        assert made_up not in README, made_up
