"""The README's two commands are what a new user runs and what CI runs: keep them true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def _tracer_section() -> str:
    return README.split("## Runtime tracer", 1)[1].split("\n## ", 1)[0]


def test_readme_documents_every_option_of_trace() -> None:
    from click import Option

    from dropout_lint.cli import trace

    section = _tracer_section()
    options = [param.opts for param in trace.params if isinstance(param, Option)]
    missing = [names for names in options if not any(f"`{name}" in section for name in names)]
    assert missing == []


def _tracer_examples() -> list[list[str]]:
    """The commands of the tracer section that run in this repository (timm and
    transformers are optional and not installed for the tests)."""
    import shlex

    commands = []
    for block in re.findall(r"```sh\n(.+?)\n```", _tracer_section(), flags=re.DOTALL):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "dropout-lint" and not any(w.startswith(("timm:", "transformers:")) for w in words):
                commands.append(words)
    return commands


@pytest.mark.slow  # each example starts PyTorch in a child process
def test_the_tracer_examples_run_as_written() -> None:
    import os
    import subprocess
    import sys

    examples = _tracer_examples()
    assert len(examples) >= 6
    for words in examples:
        done = subprocess.run(
            [sys.executable, "-m", "dropout_lint", *words[1:]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=180,
        )
        assert done.returncode in (0, 1) and "error:" not in done.stderr, (words, done.stderr)
