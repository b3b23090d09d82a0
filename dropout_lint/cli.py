"""The command line: ``dropout-lint check``, ``rules`` and ``explain``.

A thin click shell over the library; heavy imports happen inside the commands so that
``dropout-lint --version`` starts fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import click

from dropout_lint import __version__

if TYPE_CHECKING:
    from dropout_lint.config import Config
    from dropout_lint.engine import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_PROGRESS_MIN_FILES = 50


def _fail(message: str) -> click.exceptions.Exit:
    click.echo(f"dropout-lint: error: {message}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="dropout-lint", message="%(prog)s %(version)s")
def main() -> None:
    """Find dropout misuse in PyTorch model and training code."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--select", multiple=True, help="Rules to enable: codes, prefixes (DL4) or ALL; comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to enable on top of the selection.")
@click.option("--ignore", multiple=True, help="Rules to disable: codes or prefixes.")
@click.option("--max-rate", type=float, help="Highest dropout rate DL202 accepts (default 0.5).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "concise", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str), help="pyproject.toml to read.")
@click.option("--extend-exclude", multiple=True, help="Path patterns to skip, on top of the configured ones.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None, help="Skip files ignored by .gitignore.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: available cores).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
@click.option("--statistics", is_flag=True, help="Print a count per rule instead of each finding.")
@click.option("--show-source/--no-show-source", default=True, help="Show the source line of each finding.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, no progress.")
def check(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    max_rate: Optional[float],
    output_format: str,
    output: Optional[str],
    config_path: Optional[str],
    extend_exclude: tuple[str, ...],
    respect_gitignore: Optional[bool],
    jobs: Optional[int],
    exit_zero: bool,
    statistics: bool,
    show_source: bool,
    quiet: bool,
) -> None:
    """Lint files and folders (default: the current folder)."""
    from dropout_lint.config import Config, ConfigError, find_config_file, load_config
    from dropout_lint.discovery import discover
    from dropout_lint.reporters import make_report, render

    targets = list(paths) or ["."]
    try:
        if max_rate is not None and not 0 < max_rate <= 1:
            raise ConfigError(f"--max-rate must be in (0, 1], got {max_rate}")
        selection = {
            "select": _cli_codes(select, "--select") or None,
            "extend_select": _cli_codes(extend_select, "--extend-select"),
            "ignore": _cli_codes(ignore, "--ignore"),
        }
        source = Path(config_path) if config_path else find_config_file([Path(p) for p in targets])
        if config_path and not Path(config_path).is_file():
            raise ConfigError(f"--config: no such file: {config_path}")
        base = load_config(source) if source is not None else Config()
        config = base.merged(
            **selection,
            max_rate=max_rate,
            extend_exclude=extend_exclude,
            respect_gitignore=respect_gitignore,
        )
    except ConfigError as exc:
        raise _fail(str(exc)) from None

    found = discover(targets, config)
    for missing in found.missing:
        click.echo(f"dropout-lint: error: no such file or directory: {missing}", err=True)

    results = _run(found.files, config, jobs, show_progress=output_format == "text" and not quiet)
    report = make_report(results, len(found.files))
    to_file = output is not None
    color = not to_file and output_format == "text" and _stdout_has_color()
    text = render(
        output_format, report, statistics=statistics, show_source=show_source, quiet=quiet, color=color
    )
    if to_file:
        assert output is not None
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot write {output}: {exc.strerror}") from None
    else:
        # click strips ANSI codes when stdout is not a terminal; FORCE_COLOR asked for them.
        click.echo(text, nl=False, color=color)

    if found.missing:
        sys.exit(EXIT_ERROR)
    if report.diagnostics and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _cli_codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """Codes of a repeatable, comma-separated option, checked so an error names the option."""
    from dropout_lint.config import parse_code_list
    from dropout_lint.registry import validate_selectors

    codes = parse_code_list(values)
    validate_selectors(codes, option)
    return codes


def _stdout_has_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def _run(files: list[str], config: Config, jobs: Optional[int], show_progress: bool) -> list[FileResult]:
    from dropout_lint.runner import lint_files

    if not (show_progress and len(files) >= _PROGRESS_MIN_FILES and sys.stderr.isatty()):
        return lint_files(files, config, jobs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("Linting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("lint", total=len(files))
        return lint_files(files, config, jobs, progress=lambda: bar.advance(task))


@main.command(name="rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_command(output_format: str) -> None:
    """List every rule: code, name, severity and whether it is on by default."""
    from dropout_lint.registry import RULES

    if output_format == "json":
        import json

        rows = [
            {
                "code": r.code,
                "name": r.name,
                "severity": r.severity.value,
                "default": r.default_enabled,
                "fix": r.fix_safety.value if r.fix_safety else None,
                "summary": r.summary,
            }
            for r in RULES
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r.name) for r in RULES)
    for r in RULES:
        default = "on" if r.default_enabled else "off"
        click.echo(f"{r.code}  {r.name:<{width}}  {r.severity.value:<7}  {default:<3}  {r.summary}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's page from the rule book."""
    from dropout_lint.registry import RULES_BY_CODE
    from dropout_lint.rulebook import page_text

    rule = RULES_BY_CODE.get(code.strip().upper())
    if rule is None:
        raise _fail(f"unknown rule {code!r} (see `dropout-lint rules`)")
    page = page_text(rule)
    if page is None:
        raise _fail(f"the rule book page of {rule.code} is missing from this installation")
    fix = rule.fix_safety.value if rule.fix_safety else "none"
    header = (
        f"{rule.code} {rule.name} | severity: {rule.severity.value} | "
        f"default: {'on' if rule.default_enabled else 'off'} | fix: {fix}\n\n"
    )
    if _stdout_has_color():
        from rich.console import Console
        from rich.markdown import Markdown

        console = Console()
        console.print(header.strip(), style="bold")
        console.print(Markdown(page))
    else:
        click.echo(header + page, nl=not page.endswith("\n"))
