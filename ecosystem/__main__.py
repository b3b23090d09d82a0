"""``python -m ecosystem``: lint the pinned corpus, compare with the labels, write RESULTS.md."""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from ecosystem.corpus import CorpusError, default_cache, read_packages
from ecosystem.examples import lint_examples, read_examples, read_runs, write_runs
from ecosystem.gate import compare, difference_table
from ecosystem.historical import Outcome, measure, read_mirrors, read_outcomes, write_outcomes
from ecosystem.labels import LabelError, read_known_bugs, read_labels
from ecosystem.lint import LintError, lint_packages
from ecosystem.report import Check, render

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def checkout_revision() -> str:
    """The dropout-lint commit being measured, marked when the working tree has changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, timeout=30).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        from dropout_lint import __version__

        return __version__
    return f"{commit}+changes" if git("status", "--porcelain", "--", "..") else commit


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ecosystem", description=__doc__)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="Lint only these packages (RESULTS.md is not written).")
    parser.add_argument("--jobs", "-j", type=int, help="dropout-lint's --jobs (default: available cores).")
    parser.add_argument("--cache", type=Path, help="Download cache (default: $DROPOUT_LINT_ECOSYSTEM_CACHE or ~/.cache/dropout-lint/ecosystem).")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the results (default: ecosystem/RESULTS.md).")
    parser.add_argument("--no-write", action="store_true", help="Print the difference from the labels; write nothing.")
    parser.add_argument(
        "--github-mirrors",
        type=Path,
        metavar="FILE",
        help=(
            "owner/name<TAB>git dir lines: also lint the example repositories (examples.toml) and the "
            "historical rows at their commits; update examples.tsv and historical.tsv."
        ),
    )
    return parser.parse_args(argv)


def _log_changed(last: Sequence[Outcome], now: Sequence[Outcome]) -> None:
    """Say which historical bugs are found now and were not at the last measurement, and
    the other way round."""
    before = {(o.project, o.version, o.path, o.line, o.rule): o.found for o in last}
    for outcome in now:
        was = before.get((outcome.project, outcome.version, outcome.path, outcome.line, outcome.rule))
        if was is not None and was != outcome.found:
            state = "now found" if outcome.found else "no longer found"
            _log(f"historical {state}: {outcome.project} {outcome.path}:{outcome.line} {outcome.rule}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    cache = args.cache or default_cache()
    try:
        packages = read_packages()
        labels, bugs = read_labels(), read_known_bugs()
        if args.only:
            unknown = sorted(set(args.only) - {package.name for package in packages})
            if unknown:
                raise CorpusError(f"not in packages.toml: {', '.join(unknown)}")
            packages = [package for package in packages if package.name in args.only]
        runs, downloads = lint_packages(packages, cache, args.jobs, _log)
        measured_with = checkout_revision()
        examples, examples_with = read_runs()
        if args.github_mirrors:
            mirrors = read_mirrors(args.github_mirrors)
            if not args.only:
                examples, absent = lint_examples(read_examples(), mirrors, cache, args.jobs, _log)
                examples_with = measured_with
                for repository in absent:
                    _log(f"no mirror of {repository}: the example is not linted")
                runs += examples
                if not args.no_write:
                    write_runs(examples, measured_with)
            outcomes, missing = measure(bugs, mirrors, cache, measured_with, args.jobs)
            for repository in missing:
                _log(f"no mirror of {repository}: its historical rows keep their last outcome")
            last = read_outcomes()
            kept = [o for o in last if o.project in missing]
            outcomes = sorted(outcomes + kept, key=lambda o: (o.project, o.path, o.line))
            _log_changed(last, outcomes)
            if not args.no_write:
                write_outcomes(outcomes)
        else:
            outcomes = read_outcomes()
    except (CorpusError, LabelError, LintError, OSError, subprocess.SubprocessError) as exc:
        _log(f"ecosystem: {exc}")
        return 2
    comparison = compare(runs, labels)
    print(difference_table(comparison) or "No difference: every finding is labelled and every labelled TP is found.")
    if not (args.no_write or args.only):
        check = Check(
            runs=tuple(run for run in runs if run not in examples),
            examples=tuple(examples),
            examples_with=examples_with,
            development=frozenset(p.name for p in packages if p.development),
            labels=tuple(labels),
            bugs=tuple(bugs),
            outcomes=tuple(outcomes),
            comparison=comparison,
            seconds=time.perf_counter() - started,
            downloads=downloads,
            command=shlex.join(["python", "-m", "ecosystem", *(argv if argv is not None else sys.argv[1:])]),
            measured_with=measured_with,
            date=datetime.date.today().isoformat(),
            cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        )
        args.out.write_text(render(check), encoding="utf-8")
        _log(f"wrote {args.out}")
    return 0 if comparison.passed else 1


if __name__ == "__main__":
    sys.exit(main())
