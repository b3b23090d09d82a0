"""The command line: ``dropout-lint check``, ``rules`` and ``explain``.

A thin click shell over the library; heavy imports happen inside the commands so that
``dropout-lint --version`` starts fast.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import click

from dropout_lint import __version__

if TYPE_CHECKING:
    from dropout_lint.cache import Cache
    from dropout_lint.config import Config
    from dropout_lint.diagnostics import Diagnostic
    from dropout_lint.engine import FileResult
    from dropout_lint.scope import Scope
    from dropout_lint.tracer.process import TraceFailed, TraceOutcome, TraceRequest

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
_PROGRESS_MIN_FILES = 50


def _fail(message: str) -> click.exceptions.Exit:
    click.echo(f"dropout-lint: error: {message}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


def _spelled_out(params: list[click.Parameter], args: list[str]) -> list[str]:
    """``args`` with each lone short option (``-q``, ``-j 2``) replaced by its long name.

    click tries every argument that starts with one dash as a long option first; the
    "no such option" error it builds and catches on the way imports difflib and ranks
    every option name against the argument, about 15 ms of a 0.3 s one-file run.
    The values of options are left as they are (``-o -q`` writes to a file named
    ``-q``), as is everything after ``--`` and grouped (``-qj2``) or attached (``-j2``)
    short options, which click still parses."""
    long_of: dict[str, str] = {}
    values: dict[str, int] = {}
    for param in params:
        if not isinstance(param, click.Option):
            continue
        names = [name for name in param.opts if name.startswith("--")]
        for name in param.opts:
            values[name] = 0 if param.is_flag or param.count else param.nargs
            if len(name) == 2 and names:
                long_of[name] = names[0]
    out: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return out + args[index:]
        taken = values.get(arg, 0)
        # An option whose value is missing keeps its name for click's error message.
        out.append(long_of.get(arg, arg) if index + taken < len(args) else arg)
        out += args[index + 1 : index + 1 + taken]
        index += 1 + taken
    return out


class _Command(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _spelled_out(self.get_params(ctx), args))


class _Group(click.Group):
    command_class = _Command


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="dropout-lint", message="%(prog)s %(version)s")
def main() -> None:
    """Find dropout misuse in PyTorch model and training code."""


def _trace_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to build and feed the model a trace runs."""
    options = [
        click.option("--init", "init", metavar="JSON", help='Keyword arguments of the class or factory, as a JSON object: \'{"num_classes": 10}\'.'),
        click.option(
            "--model-config",
            metavar="JSON|FILE",
            help="For transformers:ClassName: the config's fields, as a JSON object or a config.json file.",
        ),
        click.option(
            "--input",
            "inputs",
            multiple=True,
            metavar="[NAME=]DTYPE[SHAPE]",
            help="An input tensor: float[8,3,32,32], input_ids=long[2,16]{0,30522} (a keyword argument), mask=bool[2,16].",
        ),
        click.option("--input-shape", "shapes", multiple=True, help="An input's shape, like 8,784 (with --dtype)."),
        click.option("--dtype", default="float32", show_default=True, help="The dtype of --input-shape inputs."),
        click.option(
            "--vocab-size",
            type=click.IntRange(min=1),
            help="Integer inputs without a {LOW,HIGH} range are drawn from [0, N) (default: the config's vocab_size, else 10).",
        ),
        click.option("--dict-input", is_flag=True, help="Pass the named --input tensors as one dict: model({...}), not as keywords."),
        click.option("--example-inputs", help="module:function returning the inputs (default: example_inputs() beside the model)."),
        click.option(
            "--weights",
            type=click.Path(dir_okay=False, path_type=str),
            help="A state dict or checkpoint to load (weights_only; .safetensors needs safetensors).",
        ),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda", "mps", "meta"]),
            default="auto",
            show_default=True,
            help="Where to run (auto: CUDA when available).",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the trace."),
        click.option("--conformance", is_flag=True, help="Check every dropout implementation against the reference."),
        click.option("--timeout", type=click.FloatRange(min=1), default=120.0, show_default=True, help="Seconds before a trace is stopped."),
        click.option(
            "--stochastic-module",
            "stochastic_modules",
            multiple=True,
            metavar="PATTERN",
            help="A module meant to stay random in eval (Monte Carlo dropout): its path in the model or class name, globs allowed.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _json_object(text: Optional[str], option: str, files: bool = False) -> Optional[dict[str, Any]]:
    """A JSON object given on the command line (or, with ``files``, the file it names)."""
    import json

    if text is None:
        return None
    if files and (Path(text).is_file() or not text.lstrip().startswith(("{", "["))):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as error:
            raise _fail(f"{option}: cannot read {text}: {error.strerror}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _fail(f"{option}: not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(value, dict):
        raise _fail(f"{option} must be a JSON object, like {{\"num_classes\": 10}}, not {type(value).__name__}")
    return value


def _requests(targets: tuple[str, ...], options: dict[str, Any]) -> list[TraceRequest]:
    from dropout_lint.tracer.process import TraceRequest

    init = _json_object(options["init"], "--init")
    model_config = _json_object(options["model_config"], "--model-config", files=True)
    return [
        TraceRequest(
            target=target,
            init=init,
            model_config=model_config,
            inputs=tuple(options["inputs"]),
            shapes=tuple(options["shapes"]),
            dtype=options["dtype"],
            vocab_size=options["vocab_size"],
            dict_input=options["dict_input"],
            example_inputs=options["example_inputs"],
            weights=options["weights"],
            device=options["device"],
            seed=options["seed"],
            conformance=options["conformance"],
            timeout=options["timeout"],
        )
        for target in targets
    ]


def _traces(requests: list[TraceRequest]) -> tuple[list[TraceOutcome], bool]:
    """Each target's trace; a failure is reported on stderr and the others go on."""
    from dropout_lint.tracer.process import TraceFailed, TracerMissing, run_trace

    outcomes, failed = [], False
    for request in requests:
        try:
            outcomes.append(run_trace(request))
        except TracerMissing as failure:
            click.echo(f"dropout-lint: error: {_trace_failure(request, failure)}", err=True)
            return outcomes, True
        except TraceFailed as failure:
            click.echo(f"dropout-lint: error: {_trace_failure(request, failure)}", err=True)
            failed = True
    return outcomes, failed


def _trace_failure(request: TraceRequest, failure: TraceFailed) -> str:
    from dropout_lint.tracer.process import TracerMissing

    if isinstance(failure, TracerMissing):
        return str(failure)
    return f"the trace of {request.target} failed ({failure.stage}): {failure}"


def _emit(text: str, output: Optional[str], color: bool, err: bool = False) -> None:
    if output is not None:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot write {output}: {exc.strerror}") from None
    else:
        # click strips ANSI codes when stdout is not a terminal; FORCE_COLOR asked for them.
        click.echo(text, nl=False, color=color, err=err)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--select", multiple=True, help="Rules to enable: codes, prefixes (DL4) or ALL; comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to enable on top of the selection.")
@click.option("--ignore", multiple=True, help="Rules to disable: codes or prefixes.")
@click.option("--max-rate", type=float, help="Highest dropout rate DL202 accepts (default 0.5).")
@click.option(
    "--format",
    "--output-format",
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
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply the configured excludes to paths named on the command line (and --stdin-filename) too.",
)
@click.option(
    "--no-project-context",
    is_flag=True,
    help="Analyse only the paths named, not the rest of their project (cross-file findings see only them).",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: available cores).")
@click.option(
    "--file-timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds of CPU time one file may take before it is skipped with a DL900 (default 60).",
)
@click.option(
    "--max-file-size",
    type=click.FloatRange(min=0, min_open=True),
    help="Megabytes above which a file is skipped with a DL900 (default 2).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="info",
    show_default=True,
    help="Exit 1 only for a finding of this severity or a higher one (info: any finding).",
)
@click.option("--statistics", is_flag=True, help="Print a count per rule instead of each finding.")
@click.option("--show-source/--no-show-source", default=True, help="Show the source line of each finding.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, no progress.")
@click.option("--no-cache", is_flag=True, help="Read no cached results and write none.")
@click.option(
    "--no-prefilter",
    is_flag=True,
    help="Parse every file, even one without any word the selected rules look for.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=str),
    envvar="DROPOUT_LINT_CACHE_DIR",
    help="Where to keep the cache (default: .dropout_lint_cache beside the configuration; "
    "also DROPOUT_LINT_CACHE_DIR).",
)
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what is left.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: apply unsafe fixes too.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option(
    "--trace",
    "trace_targets",
    metavar="TARGET",
    multiple=True,
    help="Also trace the model TARGET (path/to/file.py:Net, pkg.module:build, timm:NAME, transformers:Class) "
    "and mark findings confirmed or not; repeatable.",
)
@click.option(
    "--baseline",
    "baseline_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=str),
    help="Report only the findings that the baseline FILE does not record.",
)
@click.option("--write-baseline", is_flag=True, help="With --baseline: record this run's findings in FILE first.")
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="Read the source from stdin (the path `-`) as if it were the file PATH: its configuration, per-file ignores and name.",
)
@_trace_options
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
    force_exclude: bool,
    no_project_context: bool,
    jobs: Optional[int],
    file_timeout: Optional[float],
    max_file_size: Optional[float],
    exit_zero: bool,
    fail_on: str,
    statistics: bool,
    show_source: bool,
    quiet: bool,
    no_cache: bool,
    no_prefilter: bool,
    cache_dir: Optional[str],
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    trace_targets: tuple[str, ...],
    baseline_path: Optional[str],
    write_baseline: bool,
    stdin_filename: Optional[str],
    **trace_options: Any,
) -> None:
    """Lint files and folders (default: the current folder); `-` reads stdin."""
    from dropout_lint.config import Config, find_config_file, load_config
    from dropout_lint.discovery import discover
    from dropout_lint.errors import ConfigError
    from dropout_lint.reporters import render
    from dropout_lint.reporters.report import make_report

    stdin = paths == ("-",) or (not paths and stdin_filename is not None)
    if "-" in paths and not stdin:
        raise _fail("`-` (read stdin) cannot be combined with other paths")
    if stdin_filename is not None and not stdin:
        raise _fail("--stdin-filename names the source read from stdin: give `-` as the only path")
    if write_baseline and baseline_path is None:
        raise _fail("--write-baseline needs --baseline FILE: the file to write")
    targets = [stdin_filename or "."] if stdin else list(paths) or ["."]
    requests = _requests(trace_targets, trace_options) if trace_targets else []
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
            file_timeout=file_timeout,
            max_file_size=max_file_size,
            prefilter=False if no_prefilter else None,
            stochastic_modules=trace_options["stochastic_modules"],
        )
    except ConfigError as exc:
        raise _fail(str(exc)) from None

    fixing = _Fixing(fix, diff, unsafe_fixes, output, quiet, exit_zero)
    if stdin:
        from dropout_lint.discovery import Discovery, is_excluded
        from dropout_lint.scope import Scope, in_context, without

        shown = os.path.normpath(stdin_filename) if stdin_filename else "-"
        skipped = force_exclude and stdin_filename is not None and is_excluded(stdin_filename, config)
        found = Discovery([] if skipped else [shown])
        around = Scope(())
        if stdin_filename is not None and not skipped and not no_project_context:
            around = without(shown, in_context([shown], [shown], config))
        cache = _cache(config, no_cache, cache_dir) if around.files else None
        results = _check_stdin(shown, config, fixing, skipped=skipped, context=_Context(around, jobs, cache))
    else:
        from dropout_lint.scope import Scope, in_context

        found = discover(targets, config, force_exclude)
        for missing in found.missing:
            click.echo(f"dropout-lint: error: no such file or directory: {missing}", err=True)
        scope = Scope(tuple(found.files)) if no_project_context else in_context(found.files, targets, config)
        progress = output_format == "text" and not quiet
        context = _Context(scope, jobs, _cache(config, no_cache, cache_dir))
        results = _check_files(context, config, progress, fixing, missing=bool(found.missing))
    trace_failed = False
    if requests:
        from dropout_lint.tracer.findings import join

        outcomes, trace_failed = _traces(requests)
        if outcomes:
            results = join(results, outcomes, config).results
    if baseline_path is not None:
        results = _baselined(baseline_path, results, write_baseline, quiet)
    if found.missing and not found.files and output_format in ("text", "concise"):
        sys.exit(EXIT_ERROR)  # nothing was linted: no summary that reads as a clean run
    report = make_report(results, len(found.files))
    # With --fix, stdout carries the fixed source read from stdin: the report goes to stderr.
    to_stderr = stdin and fix and output is None
    color = output is None and output_format == "text" and (_stderr_has_color() if to_stderr else _stdout_has_color())
    text = render(
        output_format,
        report,
        statistics=statistics,
        show_source=show_source,
        quiet=quiet,
        color=color,
        unsafe_fixes=unsafe_fixes,
    )
    _emit(text, output, color, err=to_stderr)

    if found.missing or trace_failed:
        sys.exit(EXIT_ERROR)
    if not exit_zero and _fails(report.diagnostics, fail_on):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _cache(config: Config, no_cache: bool, cache_dir: Optional[str]) -> Optional[Cache]:
    """The cache a run reads and writes (None with ``--no-cache``)."""
    if no_cache:
        return None
    from dropout_lint.cache import Cache, default_directory

    return Cache(Path(cache_dir) if cache_dir else default_directory(config), config)


def _baselined(path: str, results: list[FileResult], write: bool, quiet: bool) -> list[FileResult]:
    """The results without the findings the baseline records (written first with
    ``--write-baseline``)."""
    from dropout_lint import baseline

    try:
        if write:
            count = baseline.write(path, results)
            if not quiet:
                click.echo(f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {path}.", err=True)
        filtered = baseline.apply(path, results)
    except baseline.BaselineError as error:
        raise _fail(str(error)) from None
    if not quiet and not write and (filtered.matched or filtered.stale):
        note = f"{filtered.matched} finding{'s' if filtered.matched != 1 else ''} in the baseline not shown"
        if filtered.stale:
            note += f"; {filtered.stale} it records no longer occur (record the rest with --write-baseline)"
        click.echo(f"dropout-lint: {note}.", err=True)
    return filtered.results


def _fails(diagnostics: list[Diagnostic], fail_on: str) -> bool:
    """Whether a finding is of severity ``fail_on`` or above (``--fail-on``)."""
    return any(_SEVERITY_RANK[d.severity.value] >= _SEVERITY_RANK[fail_on] for d in diagnostics)


@dataclass(frozen=True)
class _Fixing:
    """The options of ``check`` that say what to do with fixes."""

    fix: bool
    diff: bool
    unsafe: bool
    output: Optional[str]
    quiet: bool
    exit_zero: bool


@dataclass(frozen=True)
class _Context:
    """What a run analyses besides the source it reports, and how."""

    scope: Scope
    jobs: Optional[int]
    cache: Optional[Cache]


def _check_files(context: _Context, config: Config, progress: bool, fixing: _Fixing, *, missing: bool) -> list[FileResult]:
    """Lint the files; ``--fix`` fixes them and lints them again, ``--diff`` prints the
    change and exits."""
    results = _run(context, config, progress)
    if fixing.diff:
        changed = _show_diff(results, config, fixing.unsafe, fixing.output, fixing.quiet)
        sys.exit(EXIT_ERROR if missing else EXIT_FINDINGS if changed and not fixing.exit_zero else EXIT_CLEAN)
    if fixing.fix and _apply_fixes(results, config, fixing.unsafe, fixing.quiet):
        results = _run(context, config, False)
    return results


def _check_stdin(path: str, config: Config, fixing: _Fixing, *, skipped: bool, context: _Context) -> list[FileResult]:
    """Lint the source on stdin as the file ``path``, as an editor asks for it, with the
    ``context`` files of its project. ``--fix`` prints the fixed source to stdout (all of
    it, changed or not); ``--diff`` prints the change and exits. A ``skipped``
    (excluded) source is not linted: ``--fix`` gives it back as it came."""
    from dropout_lint.engine import analyse_data, lint_data
    from dropout_lint.runner import prepare

    data = sys.stdin.buffer.read()
    if skipped:
        if fixing.fix:
            _write_stdout(data)
        if fixing.diff:
            sys.exit(EXIT_CLEAN)
        return []
    prepare(config)
    if fixing.diff or fixing.fix:
        from dropout_lint.fixer import fix_data, unified_diff

        outcome, written = fix_data(data, path, config, unsafe=fixing.unsafe)
        _fix_errors([outcome])
        if fixing.diff:
            _emit(unified_diff(outcome) if outcome.changed else "", fixing.output, False)
            if not fixing.quiet:
                click.echo(_fix_summary("Would fix", outcome.applied, 1), err=True)
            sys.exit(EXIT_FINDINGS if outcome.changed and not fixing.exit_zero else EXIT_CLEAN)
        data = written if written is not None else data
        _write_stdout(data)
        if not fixing.quiet and written is not None:
            click.echo(_fix_summary("Fixed", outcome.applied, 1), err=True)
    if not context.scope.files:
        return [lint_data(data, path, config)]
    from dropout_lint.runner import lint_files

    analysis = analyse_data(data, path, config)
    return lint_files(context.scope.files, config, context.jobs, cache=context.cache, reported=(), extra=[analysis])


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _fixable(results: list[FileResult], unsafe: bool) -> list[str]:
    from dropout_lint.fixer import applicable

    return [r.path for r in results if any(applicable(d, unsafe) for d in r.diagnostics)]


def _show_diff(results: list[FileResult], config: Config, unsafe: bool, output: Optional[str], quiet: bool) -> bool:
    """``--diff``: print what the fixes would change; whether they change anything."""
    from dropout_lint.fixer import fix_file, unified_diff

    outcomes = [fix_file(path, config, unsafe=unsafe, write=False) for path in _fixable(results, unsafe)]
    _fix_errors(outcomes)
    changed = [o for o in outcomes if o.changed]
    _emit("".join(unified_diff(o) for o in changed), output, False)
    if not quiet:
        count = sum(o.applied for o in changed)
        click.echo(_fix_summary("Would fix", count, len(changed)), err=True)
    return bool(changed)


def _apply_fixes(results: list[FileResult], config: Config, unsafe: bool, quiet: bool) -> bool:
    """``--fix``: fix the files in place; whether any changed."""
    from dropout_lint.fixer import fix_file

    outcomes = [fix_file(path, config, unsafe=unsafe) for path in _fixable(results, unsafe)]
    _fix_errors(outcomes)
    changed = [o for o in outcomes if o.changed]
    if not quiet and changed:
        click.echo(_fix_summary("Fixed", sum(o.applied for o in changed), len(changed)), err=True)
    return bool(changed)


def _fix_errors(outcomes: list[Any]) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            click.echo(f"dropout-lint: warning: {outcome.path}: {outcome.error}", err=True)


def _fix_summary(verb: str, count: int, files: int) -> str:
    if not count:
        return "No fixes to apply."
    return f"{verb} {count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}."


def _cli_codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """Codes of a repeatable, comma-separated option, checked so an error names the option."""
    from dropout_lint.config import parse_code_list
    from dropout_lint.selection import validate_selectors

    codes = parse_code_list(values)
    validate_selectors(codes, option)
    return codes


def _stdout_has_color() -> bool:
    return _has_color(sys.stdout)


def _stderr_has_color() -> bool:
    return _has_color(sys.stderr)


def _has_color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"


def _run(context: _Context, config: Config, show_progress: bool) -> list[FileResult]:
    from dropout_lint.runner import lint_files

    files, jobs, cache, reported = context.scope.files, context.jobs, context.cache, context.scope.reported
    if not (show_progress and len(files) >= _PROGRESS_MIN_FILES and sys.stderr.isatty()):
        return lint_files(files, config, jobs, cache=cache, reported=reported)
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
        return lint_files(files, config, jobs, progress=lambda: bar.advance(task), cache=cache, reported=reported)


@main.command()
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@_trace_options
@click.option("--select", multiple=True, help="Rules to report: codes, prefixes (DL5) or ALL; comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to report on top of the selection.")
@click.option("--ignore", multiple=True, help="Rules not to report: codes or prefixes.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str), help="pyproject.toml to read.")
@click.option(
    "--format",
    "--output-format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
def trace(
    targets: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: Optional[str],
    output_format: str,
    output: Optional[str],
    exit_zero: bool,
    **options: Any,
) -> None:
    """Run each model TARGET forward in train and eval mode and report what dropout
    actually does. TARGET is path/to/file.py:Name, package.module:Name (a module class
    or a function returning one), timm:model_name or transformers:ClassName."""
    from dropout_lint.reporters import render
    from dropout_lint.reporters.report import make_report
    from dropout_lint.tracer.findings import trace_results

    requests = _requests(targets, options)
    config = _trace_config(targets, config_path, select, extend_select, ignore, options["stochastic_modules"])
    outcomes, failed = _traces(requests)
    if not outcomes:
        sys.exit(EXIT_ERROR)
    traced = trace_results(outcomes, config)
    report = make_report(traced.results, len({r.path for r in traced.results}))
    color = output is None and output_format == "text" and _stdout_has_color()
    text = render(output_format, report, quiet=True, color=color)
    if output_format == "text":
        tables = "".join(_trace_table(outcome, len(outcomes) > 1) for outcome in outcomes)
        summaries = "".join(_trace_summary(o, count) for o, count in zip(outcomes, traced.counts))
        text = tables + text + summaries + _declared_note(traced.declared)
    _emit(text, output, color)
    if failed:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if report.diagnostics and not exit_zero else EXIT_CLEAN)


def _trace_config(
    targets: tuple[str, ...],
    config_path: Optional[str],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    stochastic_modules: tuple[str, ...],
) -> Config:
    """The configuration of a trace: the pyproject.toml found from the targets' files
    (or the current folder), with the command line's selection over it."""
    from dropout_lint.config import Config, find_config_file, load_config
    from dropout_lint.errors import ConfigError

    files = [Path(t.rpartition(":")[0]) for t in targets if t.rpartition(":")[0].endswith(".py")]
    try:
        if config_path and not Path(config_path).is_file():
            raise ConfigError(f"--config: no such file: {config_path}")
        source = Path(config_path) if config_path else find_config_file(files or [Path(".")])
        base = load_config(source) if source is not None else Config()
        return base.merged(
            select=_cli_codes(select, "--select") or None,
            extend_select=_cli_codes(extend_select, "--extend-select"),
            ignore=_cli_codes(ignore, "--ignore"),
            stochastic_modules=stochastic_modules,
        )
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _declared_note(count: int) -> str:
    if not count:
        return ""
    verb = "is" if count == 1 else "are"
    return f"{count} finding{'s' if count != 1 else ''} {verb} declared deliberate (# noqa or stochastic-modules) and not shown.\n"


def _trace_table(outcome: TraceOutcome, named: bool = False) -> str:
    """The dropout modules of the traced model, with what they did (after its name,
    when several models are traced)."""
    heading = f"`{outcome.model}`:\n" if named else ""
    rows = [("module", "class", "p", "dropped in training", "calls", "in eval")]
    for row in outcome.modules:
        measured = "-" if row["measured"] is None else f"{row['measured']:.3f}"
        rows.append((row["name"], row["class"], f"{row['p']:g}", measured, str(row["calls"]), row["eval"]))
    if len(rows) == 1:
        return f"`{outcome.model}` has no registered dropout modules.\n\n"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return heading + "\n".join(lines) + "\n\n"


def _trace_summary(outcome: TraceOutcome, count: int) -> str:
    verdict = "no problems" if count == 0 else f"{count} problem{'s' if count != 1 else ''}"
    return f"Traced `{outcome.model}` on {outcome.device} in {outcome.seconds:.2f} s: {verdict}.\n"


@main.command(name="rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_command(output_format: str) -> None:
    """List every rule: code, name, severity and whether it is on by default."""
    from dropout_lint.catalog import RULES

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
    from dropout_lint.rulebook import page_text
    from dropout_lint.selection import RULES_BY_CODE

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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=str),
    envvar="DROPOUT_LINT_CACHE_DIR",
    help="The cache folder to remove (also DROPOUT_LINT_CACHE_DIR).",
)
def clean(paths: tuple[str, ...], cache_dir: Optional[str]) -> None:
    """Remove the cache (of the configuration found from PATHS, default: here)."""
    from dropout_lint.cache import clean as remove
    from dropout_lint.cache import default_directory
    from dropout_lint.config import Config, find_config_file, load_config
    from dropout_lint.errors import ConfigError

    if cache_dir is not None:
        folder = Path(cache_dir)
    else:
        try:
            source = find_config_file([Path(p) for p in paths or (".",)])
            folder = default_directory(load_config(source) if source is not None else Config())
        except ConfigError as exc:
            raise _fail(str(exc)) from None
    removed = remove(folder)
    click.echo(f"Removed {folder}." if removed else f"No cache at {folder}.")
