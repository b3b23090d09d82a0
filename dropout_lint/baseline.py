"""A baseline: the findings a team has accepted for now, so that a run fails only on new
ones (what adopting a linter on a large code base needs).

A finding is recorded by its file (relative to the baseline's folder), its code and the
text of the line it starts on (stripped), never by its line number or message: code added
or removed elsewhere in the file, or a rule's reworded message, leaves it matched; editing
the line itself makes it new. Identical keys are counted, so a second copy of a recorded
line is new. Findings that mean a file was not linted (DL900, DL901) are never recorded
or hidden. The file is JSON, sorted, one entry per key, to be reviewed in diffs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dropout_lint.diagnostics import Diagnostic
from dropout_lint.engine import FileResult
from dropout_lint.selection import ALWAYS_REPORTED

VERSION = 1

Key = tuple[str, str, str]  # (path, code, source line)


class BaselineError(Exception):
    """A baseline file that cannot be read or written; a usage error."""


@dataclass(frozen=True)
class Filtered:
    """The results without the baselined findings, and how the baseline fared."""

    results: list[FileResult]
    matched: int  # findings hidden because the baseline holds them
    stale: int  # recorded findings that no longer occur


def _path(path: str, folder: Path) -> str:
    """A finding's path as the baseline records it: relative to its folder (stdin's
    ``-`` as it is)."""
    return path if path == "-" else Path(os.path.relpath(os.path.abspath(path), folder)).as_posix()


def _key(result: FileResult, diagnostic: Diagnostic, folder: Path) -> Key:
    line = result.source_line(diagnostic)
    return _path(diagnostic.path, folder), diagnostic.code, (line or "").strip()


def _keys(results: Sequence[FileResult], folder: Path) -> Counter[Key]:
    return Counter(
        _key(result, d, folder) for result in results for d in result.diagnostics if d.code not in ALWAYS_REPORTED
    )


def write(path: str, results: Sequence[FileResult]) -> int:
    """Record every finding of ``results`` in the baseline at ``path``; how many."""
    counts = _keys(results, Path(os.path.abspath(path)).parent)
    entries = [
        {"path": file, "code": code, "source": source, "count": count}
        for (file, code, source), count in sorted(counts.items())
    ]
    text = json.dumps({"version": VERSION, "findings": entries}, indent=2, ensure_ascii=False) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"cannot write the baseline {path}: {error.strerror or error}") from None
    return sum(counts.values())


def load(path: str) -> Counter[Key]:
    """The recorded findings of the baseline at ``path``, counted."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"no such baseline file: {path} (write one with --write-baseline)") from None
    except OSError as error:
        raise BaselineError(f"cannot read the baseline {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"the baseline {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"the baseline {path} is not a dropout-lint baseline (version {VERSION})")
    counts: Counter[Key] = Counter()
    for entry in data["findings"]:
        counts[_entry(entry, path)] += entry["count"]
    return counts


def _entry(entry: object, path: str) -> Key:
    if isinstance(entry, dict):
        file, code, source, count = (entry.get(name) for name in ("path", "code", "source", "count"))
        if isinstance(file, str) and isinstance(code, str) and isinstance(source, str):
            if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
                return file, code, source
    raise BaselineError(f"the baseline {path} has an invalid entry: {entry!r}")


def apply(path: str, results: Sequence[FileResult]) -> Filtered:
    """``results`` without the findings that the baseline at ``path`` records."""
    left = load(path)
    folder = Path(os.path.abspath(path)).parent
    kept: list[FileResult] = []
    matched = 0
    for result in results:
        shown = []
        for diagnostic in result.diagnostics:
            key = _key(result, diagnostic, folder)
            if diagnostic.code not in ALWAYS_REPORTED and left[key] > 0:
                left[key] -= 1
                matched += 1
                continue
            shown.append(diagnostic)
        kept.append(replace(result, diagnostics=tuple(shown)))
    # Only the files of this run can tell that a recorded finding is gone.
    linted = {_path(result.path, folder) for result in results}
    stale = sum(count for (file, _, _), count in left.items() if file in linted)
    return Filtered(kept, matched, stale)
