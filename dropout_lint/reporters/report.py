"""What a run found, as the reporters receive it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dropout_lint.diagnostics import Diagnostic
from dropout_lint.engine import FileResult


@dataclass(frozen=True)
class Report:
    """What a run found, in the order reporters print it."""

    results: tuple[FileResult, ...]
    files_checked: int

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = [d for result in self.results for d in result.diagnostics]
        out.sort(key=lambda d: d.sort_key)
        return out


def make_report(results: Sequence[FileResult], files_checked: int) -> Report:
    ordered = tuple(sorted((r for r in results if r.diagnostics), key=lambda r: r.path))
    return Report(ordered, files_checked)
