"""RESULTS.md: what the check measured, as tables a reviewer reads in a diff."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ecosystem.gate import Comparison, difference_table, labelled_findings, table_cell
from ecosystem.historical import Outcome
from ecosystem.labels import Key, KnownBug, Label, Origin, Verdict
from ecosystem.lint import Run
from ecosystem.measure import Ratio, by_code, precision, recall_by_rule, total_recall

PRECISION_TARGET = 0.95
ERROR_PRECISION_TARGET = 1.0
RECALL_TARGET = 0.90
SECONDS_TARGET = 15 * 60


@dataclass(frozen=True)
class Check:
    """Everything one run of the check knows."""

    runs: tuple[Run, ...]  # the PyPI packages
    examples: tuple[Run, ...]  # the example repositories, as last measured
    examples_with: str  # the dropout-lint commit that measured them
    development: frozenset[str]  # packages the rules were written against
    labels: tuple[Label, ...]
    bugs: tuple[KnownBug, ...]
    outcomes: tuple[Outcome, ...]  # historical rows, as last measured
    comparison: Comparison
    seconds: float  # the whole command, downloads included
    downloads: int  # distributions fetched in this run (0: a warm cache)
    command: str
    measured_with: str
    date: str
    cores: int


def _percent(ratio: Ratio) -> str:
    value = ratio.value
    return "n/a" if value is None else f"{100 * value:.1f} % ({ratio.hits} of {ratio.total})"


def _met(ratio: Ratio, target: float) -> str:
    value = ratio.value
    return "n/a" if value is None else ("yes" if value >= target else "**no**")


def _targets(check: Check) -> list[str]:
    findings = labelled_findings(check.runs)
    labels = check.labels
    reported = {finding.key for finding in findings}
    pypi = total_recall(recall_by_rule((b for b in check.bugs if b.origin is Origin.PYPI), reported))
    history = Ratio(sum(o.found for o in check.outcomes), len(check.outcomes))
    rows = [
        ("precision of warning/error findings, all packages", precision(findings, labels), PRECISION_TARGET),
        (
            "precision, packages the rules were not written against",
            precision(findings, labels, lambda f: f.project not in check.development),
            PRECISION_TARGET,
        ),
        (
            "precision, transformers, timm and torchvision",
            precision(findings, labels, lambda f: f.project in check.development),
            PRECISION_TARGET,
        ),
        ("precision of error-level findings", precision(findings, labels, lambda f: f.severity == "error"), ERROR_PRECISION_TARGET),
        ("recall on the PyPI known bugs a rule claims", pypi, RECALL_TARGET),
        ("recall on the historical known bugs a rule claims (last measured)", history, RECALL_TARGET),
    ]
    lines = ["| measure | result | target | met |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {_percent(ratio)} | {'' if target == 1 else '≥ '}{100 * target:.0f} % | {_met(ratio, target)} |"
        for name, ratio, target in rows
    ]
    lines.append(
        f"| whole check, {check.cores} cores, {'warm' if check.downloads == 0 else 'cold'} download cache | "
        f"{check.seconds:.0f} s | ≤ {SECONDS_TARGET // 60} min | {'yes' if check.seconds <= SECONDS_TARGET else '**no**'} |"
    )
    everything = findings + labelled_findings(check.examples)
    index = {label.key: label for label in labels}
    mode_errors = [f for f in everything if f.code in ("DL302", "DL305") and f.key in index]
    wrong = sum(index[f.key].verdict is Verdict.FP for f in mode_errors)
    lines.append(f"| DL302 and DL305 false positives, packages and examples | {wrong} of {len(mode_errors)} | 0 | {'yes' if wrong == 0 else '**no**'} |")
    dl301 = precision(everything, labels, lambda f: f.code == "DL301")
    lines.append(f"| precision of DL301, packages and examples | {_percent(dl301)} | ≥ {100 * PRECISION_TARGET:.0f} % | {_met(dl301, PRECISION_TARGET)} |")
    gate = "passed" if check.comparison.passed else "**failed**"
    lines.append(f"| the gate (every finding labelled, no TP lost, no crash) | {gate} | passed | {'yes' if check.comparison.passed else '**no**'} |")
    return lines


def _verdict_cells(run: Run, index: dict[Key, Label]) -> str:
    """A run's findings, TP, deliberate, FP and unlabelled, as table cells."""
    found = labelled_findings([run])
    verdicts = Counter(index[f.key].verdict for f in found if f.key in index)
    unlabelled = sum(1 for f in found if f.key not in index)
    return f"{len(found)} | {verdicts[Verdict.TP]} | {verdicts[Verdict.DELIBERATE]} | {verdicts[Verdict.FP]} | {unlabelled}"


def _packages(check: Check) -> list[str]:
    index = {label.key: label for label in check.labels}
    lines = [
        "| package | version | files | seconds | files/s | findings | TP | deliberate | FP | unlabelled |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in check.runs:
        rate = run.files / run.seconds if run.seconds else 0.0
        lines.append(f"| {run.project} | {run.version} | {run.files} | {run.seconds:.1f} | {rate:.0f} | {_verdict_cells(run, index)} |")
    files = sum(run.files for run in check.runs)
    seconds = sum(run.seconds for run in check.runs)
    lines.append(f"| **all** | | {files} | {seconds:.1f} | {files / seconds if seconds else 0:.0f} | {len(labelled_findings(check.runs))} | | | | |")
    return lines


def _examples(check: Check) -> list[str]:
    if not check.examples:
        return ["Not measured: run with `--github-mirrors FILE` (see the README)."]
    index = {label.key: label for label in check.labels}
    lines = [
        f"Measured with dropout-lint {check.examples_with} (examples.tsv); each repository is linted as one run "
        "with the default rules.",
        "",
        "| repository | commit | files | findings | TP | deliberate | FP | unlabelled |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in check.examples:
        lines.append(f"| {run.project} | {run.version[:12]} | {run.files} | {_verdict_cells(run, index)} |")
    listed = labelled_findings(check.examples)
    if listed:
        lines += ["", "| repository | path:line | code | verdict | reason |", "|---|---|---|---|---|"]
        for f in listed:
            label = index.get(f.key)
            verdict, reason = (label.verdict.value, table_cell(label.reason)) if label else ("unlabelled", "")
            lines.append(f"| {f.project} | {f.path}:{f.line} | {f.code} | {verdict} | {reason} |")
    return lines


def _codes(check: Check) -> list[str]:
    lines = [
        "| code | severity | findings | TP | deliberate | FP | unlabelled | precision |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tally in by_code(labelled_findings(check.runs), check.labels):
        v = tally.verdicts
        lines.append(
            f"| {tally.code} | {tally.severity} | {tally.found} | {v[Verdict.TP]} | {v[Verdict.DELIBERATE]} | "
            f"{v[Verdict.FP]} | {tally.unlabelled} | {_percent(tally.precision)} |"
        )
    return lines


def _recall(check: Check) -> list[str]:
    reported = {finding.key for finding in labelled_findings(check.runs)}
    pypi = {r.rule: r.claimed for r in recall_by_rule((b for b in check.bugs if b.origin is Origin.PYPI), reported)}
    history: dict[str, list[bool]] = {}
    for outcome in check.outcomes:
        history.setdefault(outcome.rule, []).append(outcome.found)
    lines = [
        "| rule | PyPI: known bugs it claims | found | historical: known bugs it claims | found |",
        "|---|---|---|---|---|",
    ]
    for rule in sorted(set(pypi) | set(history)):
        mine = pypi.get(rule, Ratio(0, 0))
        past = history.get(rule, [])
        lines.append(f"| {rule} | {mine.total} | {mine.hits} | {len(past)} | {sum(past)} |")
    unclaimed = Counter(bug.bug_class.value for bug in check.bugs if bug.rule is None)
    if unclaimed:
        lines += ["", "Known bugs that no rule claims yet, by class: " + ", ".join(f"{name} {count}" for name, count in sorted(unclaimed.items())) + "."]
    return lines


def _false_positives(check: Check) -> list[str]:
    reported = {finding.key for finding in labelled_findings(check.runs)}
    wrong = [label for label in check.labels if label.verdict is Verdict.FP and label.key in reported]
    if not wrong:
        return ["None."]
    lines = ["| package | path:line | code | why the finding is wrong |", "|---|---|---|---|"]
    lines += [f"| {l.project} {l.version} | {l.path}:{l.line} | {l.code} | {table_cell(l.reason)} |" for l in wrong]
    return lines


def _historical(check: Check) -> list[str]:
    if not check.outcomes:
        return ["Not measured: run with `--github-mirrors FILE` (see the README)."]
    bugs = {(b.project, b.version, b.path, b.line, b.rule): b for b in check.bugs if b.origin is Origin.GITHUB}
    lines = ["| repository | commit before the fix | path:line | class | rule | found | measured with |", "|---|---|---|---|---|---|---|"]
    for o in check.outcomes:
        bug = bugs.get((o.project, o.version, o.path, o.line, o.rule))
        kind = bug.bug_class.value if bug else "(no longer in known-bugs.tsv)"
        lines.append(
            f"| {o.project} | {o.version[:12]} | {o.path}:{o.line} | {kind} | {o.rule} | {'yes' if o.found else 'no'} | {o.measured_with} |"
        )
    return lines


def render(check: Check) -> str:
    files = sum(run.files for run in check.runs)
    sections: Sequence[tuple[str, list[str]]] = (
        ("Targets", _targets(check)),
        ("Packages", _packages(check)),
        ("Tutorial, course and example repositories (examples.toml)", _examples(check)),
        ("Findings per code (warning and error rules, the default selection)", _codes(check)),
        ("Recall on the known bugs (known-bugs.tsv)", _recall(check)),
        ("False positives still reported", _false_positives(check)),
        ("Historical bugs: GitHub repositories at the commit before the fix", _historical(check)),
        ("Difference from the labels", [difference_table(check.comparison) or "None: every finding is labelled and every labelled TP is found."]),
    )
    out = [
        "# Ecosystem check results",
        "",
        f"Written by `{check.command}` at dropout-lint {check.measured_with} on {check.date}: "
        f"{len(check.runs)} packages, {files} files, {check.seconds:.0f} s on {check.cores} cores "
        f"({check.downloads} distributions downloaded in this run).",
    ]
    for title, body in sections:
        out += ["", f"## {title}", "", *body]
    return "\n".join(out) + "\n"
