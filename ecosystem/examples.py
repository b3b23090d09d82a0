"""Tutorial, course and example repositories: training scripts and notebooks, pinned.

Libraries hold model code; the train/eval mode rules are about training scripts, which
live in tutorials and examples. These repositories are GitHub code, which CI cannot reach,
so they are linted from local git mirrors (as the historical rows are) and the last
measurement is kept in ``examples.tsv``, with the dropout-lint commit that made it.
Their findings are labelled in ``labels.tsv`` like the packages' (project ``owner/name``,
version the commit).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import tomllib

from ecosystem.corpus import CorpusError
from ecosystem.historical import checkout
from ecosystem.labels import LabelError
from ecosystem.lint import Finding, Run, lint_tree

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples.toml"
RESULTS = HERE / "examples.tsv"
COLUMNS = ("repository", "commit", "files", "seconds", "path", "line", "column", "code", "severity", "measured_with")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
UNPARSED = "DL900"


@dataclass(frozen=True)
class Example:
    repo: str  # owner/name
    commit: str
    lint: tuple[str, ...]
    about: str


def read_examples(path: Path = EXAMPLES) -> list[Example]:
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8")).get("repository", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from None
    examples = []
    for number, table in enumerate(tables, start=1):
        try:
            example = Example(str(table["repo"]), str(table["commit"]), tuple(table["lint"]), str(table["about"]))
        except KeyError as exc:
            raise CorpusError(f"{path}: repository {number} has no {exc.args[0]!r}") from None
        if not _COMMIT.match(example.commit):
            raise CorpusError(f"{path}: {example.repo}: the commit must be 40 hexadecimal digits")
        examples.append(example)
    return examples


def lint_examples(
    examples: Sequence[Example],
    mirrors: dict[str, Path],
    cache: Path,
    jobs: Optional[int] = None,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[list[Run], list[str]]:
    """One run per repository that has a mirror; and the repositories without one."""
    runs, missing = [], []
    for example in examples:
        if example.repo not in mirrors:
            missing.append(example.repo)
            continue
        started = time.perf_counter()
        root = checkout(mirrors[example.repo], example.commit, cache / "github" / f"{example.repo.replace('/', '+')}@{example.commit}")
        run = lint_tree(example.repo, example.commit, root, example.lint, jobs)
        # Notebooks hold cells that are not Python (templates with `???`) and outputs that
        # make a file too large: DL900 there is the code's, not a parser failure.
        skipped = sum(f.code == UNPARSED for f in run.findings)
        run = replace(run, findings=tuple(f for f in run.findings if f.code != UNPARSED))
        log(
            f"{example.repo}@{example.commit[:12]}: {run.files} files, {len(run.findings)} findings, "
            f"{skipped} cells or files not linted (DL900), {time.perf_counter() - started:.1f} s"
        )
        runs.append(run)
    return runs, missing


def write_runs(runs: Sequence[Run], measured_with: str, path: Path = RESULTS) -> None:
    """The runs as rows: one per finding, and one with an empty path per repository."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
    writer.writerow(COLUMNS)
    for run in runs:
        head = [run.project, run.version, run.files, f"{run.seconds:.1f}"]
        writer.writerow([*head, "", 0, 0, "", "", measured_with])
        for f in sorted(run.findings, key=lambda f: (f.path, f.line, f.column, f.code)):
            writer.writerow([*head, f.path, f.line, f.column, f.code, f.severity, measured_with])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def read_runs(path: Path = RESULTS) -> tuple[list[Run], str]:
    """The last measurement (without the messages), and the commit that made it."""
    if not path.is_file():
        return [], ""
    reader = csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise LabelError(f"{path}:1: the header must be: {' '.join(COLUMNS)}")
    order: list[tuple[str, str]] = []
    heads: dict[tuple[str, str], tuple[int, float]] = {}
    found: dict[tuple[str, str], list[Finding]] = {}
    measured_with = ""
    for repo, commit, files, seconds, file, line, column, code, severity, measured_with in reader:
        key = (repo, commit)
        if key not in heads:
            order.append(key)
            heads[key] = (int(files), float(seconds))
        if file:
            found.setdefault(key, []).append(Finding(repo, commit, file, int(line), int(column), code, severity, ""))
    runs = [Run(repo, commit, *heads[(repo, commit)], tuple(found.get((repo, commit), ()))) for repo, commit in order]
    return runs, measured_with
