"""The gate: what a run reports, against what the labels say it should.

A run fails the gate when a finding has no label (a new finding nobody has read), when a
finding labelled ``TP`` is no longer reported (a lost true positive), or when the linter
crashed or failed to parse a file. Labels of false alarms that are no longer reported are
shown, and pass: the rule got better there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ecosystem.labels import Key, Label, Verdict
from ecosystem.lint import Finding, Run

CRASH_CODES = frozenset({"DL900", "DL901"})


@dataclass(frozen=True)
class Comparison:
    new: tuple[Finding, ...]  # reported, not labelled
    lost: tuple[Label, ...]  # labelled TP, no longer reported
    gone: tuple[Label, ...]  # labelled FP or deliberate, no longer reported
    crashes: tuple[Finding, ...]  # DL900 / DL901 on the corpus

    @property
    def passed(self) -> bool:
        return not (self.new or self.lost or self.crashes)


def labelled_findings(runs: Iterable[Run]) -> list[Finding]:
    """The findings that need a label: every one but the crash reports."""
    return [finding for run in runs for finding in run.findings if finding.code not in CRASH_CODES]


def compare(runs: Sequence[Run], labels: Iterable[Label]) -> Comparison:
    """Compare the runs with the labels of the same packages and versions."""
    ran = {(run.project, run.version) for run in runs}
    findings = labelled_findings(runs)
    reported: set[Key] = {finding.key for finding in findings}
    mine = [label for label in labels if (label.project, label.version) in ran]
    known = {label.key for label in mine}
    return Comparison(
        new=tuple(finding for finding in findings if finding.key not in known),
        lost=tuple(label for label in mine if label.verdict is Verdict.TP and label.key not in reported),
        gone=tuple(label for label in mine if label.verdict is not Verdict.TP and label.key not in reported),
        crashes=tuple(finding for run in runs for finding in run.findings if finding.code in CRASH_CODES),
    )


def table_cell(text: str) -> str:
    """Text that stays in one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def difference_table(comparison: Comparison) -> str:
    """The new, lost, gone and crashed findings as one Markdown table ("" when there are none)."""
    rows = [
        *(("new, not labelled", f, f.message) for f in comparison.new),
        *(("crash", f, f.message) for f in comparison.crashes),
    ]
    lines = [
        f"| {change} | {f.project} {f.version} | {f.path}:{f.line} | {f.code} | {table_cell(text)} |"
        for change, f, text in rows
    ]
    lines += [
        f"| {change} | {label.project} {label.version} | {label.path}:{label.line} | {label.code} | "
        f"{label.verdict.value}: {table_cell(label.reason)} |"
        for change, group in (("lost TP", comparison.lost), ("no longer reported", comparison.gone))
        for label in group
    ]
    if not lines:
        return ""
    header = ["| change | package | path:line | code | message, or the label's verdict and reason |", "|---|---|---|---|---|"]
    return "\n".join(header + lines)
