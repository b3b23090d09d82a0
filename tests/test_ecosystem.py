"""The ecosystem check: its labelled corpus is consistent, its gate compares as it says, and
(slow) the whole PyPI corpus gives exactly the labelled findings."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from ecosystem.corpus import (
    PACKAGES,
    CorpusError,
    Package,
    _unpack_wheel,
    default_cache,
    extract_code,
    read_packages,
    unpacked,
)
from ecosystem.examples import read_examples, read_runs, write_runs
from ecosystem.gate import compare, difference_table
from ecosystem.historical import checkout, read_outcomes
from ecosystem.labels import LabelError, Origin, Verdict, read_known_bugs, read_labels
from ecosystem.lint import Finding, Run, lint_packages, lint_tree

UNSEEN = (
    "espnet", "nemo-toolkit", "fairseq", "peft", "torchtune", "speechbrain", "sentence-transformers",
    "x-transformers", "flair", "allennlp", "torch-geometric", "monai", "segmentation-models-pytorch",
    "open-clip-torch", "ultralytics", "pytorch-forecasting", "pytorch-tabnet", "denoising-diffusion-pytorch",
    "torchgeo", "pyro-ppl", "x-clip", "reformer-pytorch", "performer-pytorch", "perceiver-pytorch",
)  # fmt: skip


def _finding(path: str, line: int, code: str = "DL401", project: str = "pkg") -> Finding:
    return Finding(project, "1.0", path, line, 5, code, "error", f"{code} message at {path}:{line}")


def _run(*findings: Finding, project: str = "pkg") -> Run:
    return Run(project, "1.0", 10, 1.0, findings)


def _labels(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "labels.tsv"
    path.write_text("package\tversion\tpath\tline\tcode\tverdict\treason\n" + "".join(r + "\n" for r in rows))
    return path


# ------------------------------------------------------------------ the committed corpus


def test_the_corpus_holds_the_named_libraries_and_the_development_ones() -> None:
    packages = {package.name: package for package in read_packages()}
    assert len(packages) >= 30
    assert set(UNSEEN) <= set(packages)
    assert {name for name, package in packages.items() if package.development} == {"transformers", "timm", "torchvision"}
    assert all(len(package.sha256) == 64 for package in packages.values())


def test_every_label_and_known_bug_names_a_pinned_package() -> None:
    pinned = {(package.name, package.version) for package in read_packages()}
    pinned |= {(example.repo, example.commit) for example in read_examples()}
    labels = read_labels()
    bugs = read_known_bugs()
    assert {(label.project, label.version) for label in labels} <= pinned
    assert {(bug.project, bug.version) for bug in bugs if bug.origin in (Origin.PYPI, Origin.EXAMPLE)} <= pinned
    assert len(bugs) >= 40
    assert all(label.reason.count(" ") >= 4 for label in labels), "a reason is a sentence"


def test_a_true_positive_is_a_known_bug_and_a_known_bug_found_is_a_true_positive() -> None:
    labels = {label.key: label for label in read_labels()}
    bug_keys = {bug.key for bug in read_known_bugs() if bug.origin in (Origin.PYPI, Origin.EXAMPLE) and bug.key is not None}
    tp = {key for key, label in labels.items() if label.verdict is Verdict.TP}
    assert sorted(tp - bug_keys) == [], "a finding labelled TP needs its row in known-bugs.tsv"
    misjudged = sorted(key for key in bug_keys if key in labels and labels[key].verdict is not Verdict.TP)
    assert misjudged == [], "a known bug is labelled other than TP where it is reported"


def test_the_historical_outcomes_belong_to_known_bug_rows() -> None:
    rows = {bug.key for bug in read_known_bugs() if bug.origin is Origin.GITHUB}
    for outcome in read_outcomes():
        assert (outcome.project, outcome.version, outcome.path, outcome.line, outcome.rule) in rows


# ------------------------------------------------------------------ reading the files


def test_a_bad_verdict_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = _labels(tmp_path, "pkg\t1.0\ta.py\t3\tDL401\tTP\tok it is a bug", "pkg\t1.0\ta.py\t4\tDL401\tmaybe\tnot sure at all here")
    with pytest.raises(LabelError, match=r"labels\.tsv:3: 'maybe' is not one of: TP, FP, deliberate"):
        read_labels(path)


def test_a_finding_labelled_twice_is_an_error(tmp_path: Path) -> None:
    row = "pkg\t1.0\ta.py\t3\tDL401\tTP\tthe dropout is on at eval"
    with pytest.raises(LabelError, match=r"labels\.tsv:3: the same finding is labelled on line 2"):
        read_labels(_labels(tmp_path, row, row))


def test_a_github_row_needs_the_full_commit(tmp_path: Path) -> None:
    path = tmp_path / "known-bugs.tsv"
    path.write_text(
        "origin\tproject\tversion\tpath\tline\tclass\trule\tnote\n"
        "github\towner/repo\tabc123\tm.py\t5\tfunctional-dropout-ungated\tDL401\ton at eval\n"
    )
    with pytest.raises(LabelError, match="full commit"):
        read_known_bugs(path)


def test_packages_toml_without_a_field_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "packages.toml"
    path.write_text('[[package]]\nname = "x"\nversion = "1"\nfile = "x-1.whl"\nlint = ["x"]\n')
    with pytest.raises(Exception, match="package 1 has no 'sha256'"):
        read_packages(path)
    assert PACKAGES.is_file()


# ------------------------------------------------------------------ unpacking


def test_a_wheel_member_outside_its_folder_is_not_unpacked(tmp_path: Path) -> None:
    wheel = tmp_path / "x-1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("x/model.py", "import torch\n")
        archive.writestr("x/../../escaped.py", "boom\n")
        archive.writestr("x/README.md", "not code\n")
        archive.writestr("y/other.py", "not linted\n")
    target = tmp_path / "out"
    assert _unpack_wheel(wheel, ("x",), target) == 1
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == ["x/model.py"]
    assert not (tmp_path / "escaped.py").exists()


def test_an_sdist_is_unpacked_without_its_top_folder(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in (("x-1/x/nn.py", b"import torch\n"), ("x-1/setup.py", b"setup()\n"), ("x-1/x/data.bin", b"\0")):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as archive:
        assert extract_code(archive, ("x",), tmp_path, strip_top=True) == 1
    assert (tmp_path / "x" / "nn.py").read_text() == "import torch\n"


def test_a_download_with_the_wrong_hash_is_refused(tmp_path: Path) -> None:
    package = Package("x", "1", "x-1-py3-none-any.whl", "0" * 64, ("x",), False)
    (tmp_path / "downloads").mkdir()
    with zipfile.ZipFile(tmp_path / "downloads" / package.file, "w") as archive:
        archive.writestr("x/a.py", "")
    with pytest.raises(Exception, match="SHA-256"):
        unpacked(package, tmp_path)
    assert not (tmp_path / "downloads" / package.file).exists()


def test_a_commit_is_checked_out_code_only_from_a_git_mirror(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "model.py").write_text("import torch\n")
    (repo / "notes.txt").write_text("not code\n")
    (repo / "link.py").symlink_to("pkg/model.py")

    def git(*args: str) -> str:
        command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    first = git("rev-parse", "HEAD")
    (repo / "pkg" / "model.py").write_text("import torch.nn\n")
    git("commit", "-q", "-am", "second")
    target = checkout(repo / ".git", first, tmp_path / "out")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [".complete", "pkg/model.py"]
    assert (target / "pkg" / "model.py").read_text() == "import torch\n"


def test_the_examples_are_at_least_ten_pinned_repositories_and_their_measurement_reads_back() -> None:
    examples = read_examples()
    assert len({example.repo for example in examples}) >= 10
    runs, measured_with = read_runs()
    if runs:  # examples.tsv belongs to the same pins
        assert {(run.project, run.version) for run in runs} <= {(e.repo, e.commit) for e in examples}
        assert measured_with


def test_an_example_needs_a_full_commit(tmp_path: Path) -> None:
    path = tmp_path / "examples.toml"
    path.write_text('[[repository]]\nrepo = "a/b"\ncommit = "abc123"\nlint = ["."]\nabout = "x"\n')
    with pytest.raises(CorpusError, match="40 hexadecimal"):
        read_examples(path)


def test_example_runs_round_trip_through_their_table(tmp_path: Path) -> None:
    commit = "0" * 40
    found = Finding("a/b", commit, "train.py", 12, 5, "DL301", "warning", "")
    runs = [Run("a/b", commit, 7, 1.5, (found,)), Run("c/d", commit, 3, 0.5, ())]
    write_runs(runs, "abc1234", tmp_path / "examples.tsv")
    assert read_runs(tmp_path / "examples.tsv") == (runs, "abc1234")


# ------------------------------------------------------------------ the gate


def test_the_gate_passes_when_the_findings_match_the_labels(tmp_path: Path) -> None:
    labels = read_labels(_labels(tmp_path, "pkg\t1.0\ta.py\t3\tDL401\tTP\tF.dropout with no training argument"))
    comparison = compare([_run(_finding("a.py", 3))], labels)
    assert comparison.passed
    assert difference_table(comparison) == ""


def test_the_gate_fails_on_a_new_finding_and_shows_it(tmp_path: Path) -> None:
    labels = read_labels(_labels(tmp_path, "pkg\t1.0\ta.py\t3\tDL401\tTP\tF.dropout with no training argument"))
    comparison = compare([_run(_finding("a.py", 3), _finding("b.py", 7, "DL104"))], labels)
    assert not comparison.passed
    table = difference_table(comparison)
    assert "| new, not labelled | pkg 1.0 | b.py:7 | DL104 | DL104 message at b.py:7 |" in table


def test_the_gate_fails_on_a_lost_true_positive_and_passes_a_fixed_false_alarm(tmp_path: Path) -> None:
    labels = read_labels(
        _labels(
            tmp_path,
            "pkg\t1.0\ta.py\t3\tDL401\tTP\tF.dropout with no training argument",
            "pkg\t1.0\tb.py\t9\tDL301\tFP\tthe caller switches the model to eval first",
        )
    )
    lost = compare([_run()], labels)
    assert [label.path for label in lost.lost] == ["a.py"] and not lost.passed
    assert "| lost TP | pkg 1.0 | a.py:3 | DL401 | TP: F.dropout with no training argument |" in difference_table(lost)
    fixed = compare([_run(_finding("a.py", 3))], labels)
    assert fixed.passed and [label.path for label in fixed.gone] == ["b.py"]


def test_the_gate_fails_on_a_crash_and_ignores_packages_not_run(tmp_path: Path) -> None:
    labels = read_labels(_labels(tmp_path, "other\t1.0\ta.py\t3\tDL401\tTP\tF.dropout with no training argument"))
    comparison = compare([_run(_finding("a.py", 1, "DL901"))], labels)
    assert comparison.lost == () and comparison.new == ()
    assert [f.code for f in comparison.crashes] == ["DL901"] and not comparison.passed


def test_a_tree_is_linted_as_one_project(tmp_path: Path) -> None:
    """The model class in one file, the evaluation in another: the cross-file rule sees both."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "models.py").write_text(
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n        self.drop = nn.Dropout(0.2)\n\n"
        "    def forward(self, x):\n        return self.fc(self.drop(x))\n"
    )
    (tmp_path / "pkg" / "infer.py").write_text(
        "import torch\nfrom pkg.models import Net\n\n\ndef predict(path, batch):\n    model = Net()\n"
        "    model.load_state_dict(torch.load(path))\n    with torch.no_grad():\n        return model(batch)\n"
    )
    run = lint_tree("pkg", "1.0", tmp_path, ("pkg",), jobs=1)
    assert run.files == 3
    assert ("pkg/infer.py", "DL301") in {(f.path, f.code) for f in run.findings}


# ------------------------------------------------------------------ the corpus itself


@pytest.mark.slow
def test_every_finding_on_the_pypi_corpus_is_labelled_and_no_true_positive_is_lost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, _ = lint_packages(read_packages(), default_cache())
    comparison = compare(runs, read_labels())
    counts = Counter(f.code for run in runs for f in run.findings)
    with capsys.disabled():
        print(f"\necosystem: {sum(r.files for r in runs)} files of {len(runs)} packages, findings {dict(sorted(counts.items()))}")
        print(difference_table(comparison) or "ecosystem: every finding is labelled, every labelled TP is found")
    assert comparison.passed, "\n" + difference_table(comparison)
