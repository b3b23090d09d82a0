"""Precision and recall of a run, from the labels and the known bugs: pure functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

from ecosystem.labels import Key, KnownBug, Label, Verdict
from ecosystem.lint import Finding


@dataclass(frozen=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> Optional[float]:
        return self.hits / self.total if self.total else None


@dataclass(frozen=True)
class CodeTally:
    code: str
    severity: str
    found: int
    verdicts: dict[Verdict, int]
    unlabelled: int

    @property
    def precision(self) -> Ratio:
        correct = sum(count for verdict, count in self.verdicts.items() if verdict.correct)
        return Ratio(correct, sum(self.verdicts.values()))


def _verdicts(findings: Iterable[Finding], labels: dict[Key, Label]) -> tuple[dict[Verdict, int], int]:
    counts = {verdict: 0 for verdict in Verdict}
    unlabelled = 0
    for finding in findings:
        label = labels.get(finding.key)
        if label is None:
            unlabelled += 1
        else:
            counts[label.verdict] += 1
    return counts, unlabelled


def by_code(findings: Sequence[Finding], labels: Iterable[Label]) -> list[CodeTally]:
    index = {label.key: label for label in labels}
    tallies = []
    for code in sorted({finding.code for finding in findings}):
        mine = [finding for finding in findings if finding.code == code]
        counts, unlabelled = _verdicts(mine, index)
        tallies.append(CodeTally(code, mine[0].severity, len(mine), counts, unlabelled))
    return tallies


def precision(
    findings: Iterable[Finding], labels: Iterable[Label], keep: Callable[[Finding], bool] = lambda _: True
) -> Ratio:
    """(TP + deliberate) over labelled findings, of the findings ``keep`` accepts."""
    index = {label.key: label for label in labels}
    verdicts = [index[f.key].verdict for f in findings if keep(f) and f.key in index]
    return Ratio(sum(1 for verdict in verdicts if verdict.correct), len(verdicts))


@dataclass(frozen=True)
class RuleRecall:
    rule: str
    claimed: Ratio  # found over the known bugs this rule claims


def recall_by_rule(bugs: Iterable[KnownBug], reported: set[Key]) -> list[RuleRecall]:
    claimed: dict[str, list[bool]] = {}
    for bug in bugs:
        if bug.rule is not None:
            claimed.setdefault(bug.rule, []).append(bug.key in reported)
    return [RuleRecall(rule, Ratio(sum(found), len(found))) for rule, found in sorted(claimed.items())]


def total_recall(recalls: Iterable[RuleRecall]) -> Ratio:
    recalls = list(recalls)
    return Ratio(sum(r.claimed.hits for r in recalls), sum(r.claimed.total for r in recalls))
