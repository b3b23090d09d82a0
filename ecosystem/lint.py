"""Lint one unpacked package as a user would: one ``dropout-lint check`` run over its folders."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

from dropout_lint.config import Config
from dropout_lint.discovery import discover
from ecosystem.corpus import Package, unpacked


class LintError(Exception):
    """The linter did not produce a report for a package."""


@dataclass(frozen=True)
class Finding:
    project: str  # a PyPI name, or owner/name of a GitHub repository
    version: str  # an exact version, or a commit
    path: str  # POSIX path inside the distribution or repository
    line: int
    column: int
    code: str
    severity: str
    message: str

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.project, self.version, self.path, self.line, self.code)


@dataclass(frozen=True)
class Run:
    project: str
    version: str
    files: int
    seconds: float
    findings: tuple[Finding, ...]


def lint_tree(
    project: str, version: str, root: Path, folders: tuple[str, ...], jobs: Optional[int] = None
) -> Run:
    """Run the default rules over ``folders`` of ``root`` in one process tree, as one project."""
    command = [
        sys.executable, "-m", "dropout_lint", "check", "--format", "json", "--no-cache",
        "--exit-zero", "--quiet", *folders,
    ]
    if jobs is not None:
        command[4:4] = ["--jobs", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=3600
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-20:])
        raise LintError(f"{project} {version}: dropout-lint exited {result.returncode}:\n{tail}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise LintError(f"{project} {version}: the JSON report does not parse: {exc}") from None
    findings = tuple(
        Finding(
            project=project,
            version=version,
            path=str(PurePosixPath(Path(item["path"]).as_posix())),  # "./a.py" is "a.py"
            line=int(item["line"]),
            column=int(item["column"]),
            code=str(item["code"]),
            severity=str(item["severity"]),
            message=str(item["message"]),
        )
        for item in report
    )
    files = len(discover([str(root / folder) for folder in folders], Config()).files)
    return Run(project, version, files, seconds, findings)


def lint_packages(
    packages: Sequence[Package], cache: Path, jobs: Optional[int] = None, log: Callable[[str], None] = lambda _: None
) -> tuple[list[Run], int]:
    """One run per package, downloading what the cache lacks; and how many were downloaded."""
    runs, downloads = [], 0
    for package in packages:
        downloads += not (cache / "downloads" / package.file).is_file()
        run = lint_tree(package.name, package.version, unpacked(package, cache), package.lint, jobs)
        log(f"{package.key}: {run.files} files, {len(run.findings)} findings, {run.seconds:.1f} s")
        runs.append(run)
    return runs, downloads
