"""The real-corpus sweep: the Python sources of pinned transformers, timm and torchvision
wheels from PyPI, linted with every rule: no file fails to parse, no check crashes.

The wheels are downloaded once (``pip download``) and unpacked into a cache:
``$DROPOUT_LINT_CORPUS`` or ``~/.cache/dropout-lint/corpus``. The per-code counts are
printed, so that a change in what the rules report shows in the CI log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from dropout_lint.config import Config
from dropout_lint.prefilter import TOKENS, may_matter
from dropout_lint.runner import lint_files

CORPUS = (("transformers", "5.24.0"), ("timm", "1.0.31"), ("torchvision", "0.29.1"))


def _cache() -> Path:
    configured = os.environ.get("DROPOUT_LINT_CORPUS")
    return Path(configured) if configured else Path.home() / ".cache" / "dropout-lint" / "corpus"


def _unpacked(name: str, version: str) -> Path:
    target = _cache() / f"{name}-{version}"
    if (target / ".complete").exists():
        return target
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet", "-d", download, f"{name}=={version}"],
            check=True,
            timeout=600,
        )
        (wheel,) = Path(download).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith(".py"):
                    archive.extract(member, target)
    (target / ".complete").write_text("", encoding="utf-8")
    return target


@pytest.mark.slow
def test_real_corpus_lints_without_a_parse_failure_or_a_crash(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for name, version in CORPUS for p in _unpacked(name, version).rglob("*.py"))
    assert len(files) > 3000
    results = lint_files(files, Config(select=("ALL",)))
    found = [d for result in results for d in result.diagnostics]
    counts = Counter(d.code for d in found)
    with capsys.disabled():
        print(f"\ncorpus sweep: {len(files)} files of {', '.join(f'{n} {v}' for n, v in CORPUS)}")
        for code, count in sorted(counts.items()):
            print(f"  {code}: {count}")
    broken = [f"{d.path}:{d.span.line}: {d.code} {d.message}" for d in found if d.code in ("DL900", "DL901")]
    assert broken == []


@pytest.mark.slow
def test_the_prefilter_loses_no_finding_on_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    """With only the single-file rules selected (the cross-file ones read every file), the
    pre-filter skips files: the findings must be the same as without it."""
    files = sorted(str(p) for name, version in CORPUS for p in _unpacked(name, version).rglob("*.py"))
    local = tuple(sorted(TOKENS))
    skipped = sum(1 for path in files if not may_matter(Path(path).read_text(encoding="utf-8"), frozenset(local)))
    on = lint_files(files, Config(select=local))
    off = lint_files(files, Config(select=local, prefilter=False))
    with capsys.disabled():
        print(f"\nprefilter: {skipped} of {len(files)} files skipped with the single-file rules")
    assert skipped > len(files) // 8  # 543 of 3,401 when this was written
    assert on == off
