"""Historical bugs: public repositories at the commit before a fix, linted from local mirrors.

GitHub code cannot be downloaded in CI (and is never copied into the project), so these rows
are measured on a developer's machine from git mirrors (bare or not) and the outcome is kept
in ``historical.tsv``, with the dropout-lint commit that measured it; RESULTS.md shows it.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ecosystem.corpus import code_path, write_code
from ecosystem.labels import KnownBug, LabelError, Origin
from ecosystem.lint import lint_tree

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "historical.tsv"
COLUMNS = ("project", "version", "path", "line", "rule", "found", "measured_with")


@dataclass(frozen=True)
class Outcome:
    project: str
    version: str
    path: str
    line: int
    rule: str
    found: bool
    measured_with: str  # the dropout-lint commit (or version) that linted it


def read_mirrors(path: Path) -> dict[str, Path]:
    """``owner/name<TAB>git directory`` lines: where each repository's history lies."""
    mirrors = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        repository, _, folder = line.partition("\t")
        if not folder:
            raise LabelError(f"{path}:{number}: owner/name, a tab, then the git directory")
        mirrors[repository.strip()] = Path(folder.strip())
    return mirrors


def _git(git_dir: Path, *args: str, stdin: Optional[bytes] = None) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], input=stdin, capture_output=True, check=True, timeout=600
    ).stdout


def checkout(git_dir: Path, commit: str, target: Path) -> Path:
    """The code files of ``commit``, written once into ``target``.

    Blob by blob rather than ``git archive``: a snapshot may lack large blobs (weights),
    which would make an archive of the whole tree fail.
    """
    stamp = target / ".complete"
    if stamp.is_file():
        return target
    code = []
    for entry in _git(git_dir, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
        info, _, name = entry.partition(b"\t")
        path = code_path(name.decode("utf-8", "surrogateescape"), ("",))
        fields = info.split()  # mode, type, object; a link (mode 120000) is no code
        if path is not None and len(fields) == 3 and fields[0] in (b"100644", b"100755"):
            code.append((fields[2], path))
    batch = io.BytesIO(_git(git_dir, "cat-file", "--batch", stdin=b"".join(sha + b"\n" for sha, _ in code)))
    for _, path in code:
        header = batch.readline().split()  # object, type, size; or object, "missing"
        if len(header) == 3:
            write_code(target, path, batch.read(int(header[2])))
            batch.read(1)  # the newline after each object
    target.mkdir(parents=True, exist_ok=True)
    stamp.write_text(commit, encoding="utf-8")
    return target


def measure(
    bugs: Iterable[KnownBug], mirrors: dict[str, Path], cache: Path, measured_with: str, jobs: Optional[int] = None
) -> tuple[list[Outcome], list[str]]:
    """Lint each repository at each pre-fix commit once; the outcome of every claimed row.

    Returns the outcomes and the repositories that had no mirror.
    """
    rows = [bug for bug in bugs if bug.origin is Origin.GITHUB and bug.key is not None]
    outcomes: list[Outcome] = []
    missing = sorted({bug.project for bug in rows if bug.project not in mirrors})
    for project, version in sorted({(bug.project, bug.version) for bug in rows if bug.project in mirrors}):
        root = checkout(mirrors[project], version, cache / "github" / f"{project.replace('/', '+')}@{version}")
        reported = {finding.key for finding in lint_tree(project, version, root, (".",), jobs).findings}
        for bug in rows:
            if (bug.project, bug.version) == (project, version) and bug.rule is not None:
                outcomes.append(
                    Outcome(project, version, bug.path, bug.line, bug.rule, bug.key in reported, measured_with)
                )
    return outcomes, missing


def write_outcomes(outcomes: Sequence[Outcome], path: Path = RESULTS) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
    writer.writerow(COLUMNS)
    for o in outcomes:
        writer.writerow([o.project, o.version, o.path, o.line, o.rule, "yes" if o.found else "no", o.measured_with])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def read_outcomes(path: Path = RESULTS) -> list[Outcome]:
    if not path.is_file():
        return []
    reader = csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise LabelError(f"{path}:1: the header must be: {' '.join(COLUMNS)}")
    return [
        Outcome(project, version, file, int(line), rule, found == "yes", measured_with)
        for project, version, file, line, rule, found, measured_with in reader
    ]
