"""The labelled findings (``labels.tsv``) and the known real bugs (``known-bugs.tsv``).

Both are tab-separated with a header row, so that a reviewer reads them in a diff and a
spreadsheet opens them. A row that does not fit is an error naming its file and line.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, TypeVar

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels.tsv"
KNOWN_BUGS = HERE / "known-bugs.tsv"

LABEL_COLUMNS = ("package", "version", "path", "line", "code", "verdict", "reason")
BUG_COLUMNS = ("origin", "project", "version", "path", "line", "class", "rule", "note")
_CODE = re.compile(r"DL\d{3}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_Choice = TypeVar("_Choice", bound=enum.Enum)


class LabelError(Exception):
    """A labels or known-bugs file has a row that does not fit; the message says where."""


class Verdict(enum.Enum):
    TP = "TP"  # a real bug for the user
    FP = "FP"  # the rule is wrong here
    DELIBERATE = "deliberate"  # the author meant it: right for the rule

    @property
    def correct(self) -> bool:
        return self is not Verdict.FP


class Origin(enum.Enum):
    PYPI = "pypi"  # a package of packages.toml, linted by the check and its gate
    GITHUB = "github"  # a repository at the commit before a fix: linted from a local mirror
    EXAMPLE = "example"  # an example repository of examples.toml, at its pinned commit


class BugClass(enum.Enum):
    FUNCTIONAL_DROPOUT_UNGATED = "functional-dropout-ungated"
    ATTENTION_DROPOUT_UNGATED = "attention-dropout-ungated"
    DEAD_DROPOUT = "dead-dropout"
    DROPOUT_ARGUMENT_IGNORED = "dropout-argument-ignored"
    KEEP_PROB_AS_RATE = "keep-prob-as-rate"
    MISSING_EVAL = "missing-eval"
    MISSING_TRAIN = "missing-train"
    TRAINING_FLAG_ASSIGNED = "training-flag-assigned"
    MODE_METHOD_NOT_CALLED = "mode-method-not-called"
    TRAIN_OVERRIDE_SKIPS_CHILDREN = "train-override-skips-children"
    RANDOM_IN_EVAL = "random-in-eval"
    MODE_READ_AT_CONSTRUCTION = "mode-read-at-construction"
    HAND_ROLLED_FLAG = "hand-rolled-flag"
    INVALID_RATE = "invalid-rate"
    DROPOUT_BEFORE_BATCHNORM = "dropout-before-batchnorm"
    DROPOUT_DIMENSION_MISMATCH = "dropout-dimension-mismatch"
    OTHER = "other"


Key = tuple[str, str, str, int, str]  # project, version, path, line, code


@dataclass(frozen=True)
class Label:
    project: str
    version: str
    path: str
    line: int
    code: str
    verdict: Verdict
    reason: str

    @property
    def key(self) -> Key:
        return (self.project, self.version, self.path, self.line, self.code)


@dataclass(frozen=True)
class KnownBug:
    origin: Origin
    project: str  # a PyPI name, or owner/name on GitHub
    version: str  # the pinned version, or the commit before the fix
    path: str
    line: int  # where the rule that claims it reports (the bug's line when none does)
    bug_class: BugClass
    rule: Optional[str]  # the code that should report it; None: no rule claims it yet
    note: str

    @property
    def key(self) -> Optional[Key]:
        if self.rule is None:
            return None
        return (self.project, self.version, self.path, self.line, self.rule)


def _rows(path: Path, columns: tuple[str, ...]) -> Iterable[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabelError(f"{path}: {exc.strerror}") from None
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None or tuple(header) != columns:
        raise LabelError(f"{path}:1: the header must be: {' '.join(columns)}")
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(columns) or any(not cell.strip() for cell in row):
            raise LabelError(f"{path}:{number}: {len(columns)} non-empty tab-separated cells wanted, got {len(row)}")
        yield number, dict(zip(columns, row))


def _line(path: Path, number: int, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise LabelError(f"{path}:{number}: line {text!r} is not a positive number")
    return int(text)


def _choice(path: Path, number: int, kind: type[_Choice], text: str) -> _Choice:
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise LabelError(f"{path}:{number}: {text!r} is not one of: {allowed}") from None


def _code(path: Path, number: int, text: str) -> str:
    if not _CODE.fullmatch(text):
        raise LabelError(f"{path}:{number}: {text!r} is not a rule code like DL401")
    return text


def read_labels(path: Path = LABELS) -> list[Label]:
    labels: list[Label] = []
    seen: dict[Key, int] = {}
    for number, row in _rows(path, LABEL_COLUMNS):
        label = Label(
            project=row["package"],
            version=row["version"],
            path=row["path"],
            line=_line(path, number, row["line"]),
            code=_code(path, number, row["code"]),
            verdict=_choice(path, number, Verdict, row["verdict"]),
            reason=row["reason"],
        )
        if label.key in seen:
            raise LabelError(f"{path}:{number}: the same finding is labelled on line {seen[label.key]}")
        seen[label.key] = number
        labels.append(label)
    return labels


def read_known_bugs(path: Path = KNOWN_BUGS) -> list[KnownBug]:
    bugs: list[KnownBug] = []
    for number, row in _rows(path, BUG_COLUMNS):
        origin = _choice(path, number, Origin, row["origin"])
        if origin in (Origin.GITHUB, Origin.EXAMPLE) and not _COMMIT.fullmatch(row["version"]):
            raise LabelError(f"{path}:{number}: a GitHub row's version is the full commit (before the fix)")
        if origin in (Origin.GITHUB, Origin.EXAMPLE) and row["project"].count("/") != 1:
            raise LabelError(f"{path}:{number}: a GitHub row's project is owner/name")
        bugs.append(
            KnownBug(
                origin=origin,
                project=row["project"],
                version=row["version"],
                path=row["path"],
                line=_line(path, number, row["line"]),
                bug_class=_choice(path, number, BugClass, row["class"]),
                rule=None if row["rule"] == "none" else _code(path, number, row["rule"]),
                note=row["note"],
            )
        )
    return bugs
