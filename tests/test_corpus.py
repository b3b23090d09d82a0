"""The real-corpus sweep: the code of the pinned transformers, timm and torchvision wheels
(the development packages of the ecosystem corpus, ``ecosystem/packages.toml``), linted with
every rule: no file fails to parse, no check crashes.

The wheels are downloaded once into the ecosystem check's cache
(``$DROPOUT_LINT_ECOSYSTEM_CACHE`` or ``~/.cache/dropout-lint/ecosystem``). The per-code
counts are printed, so that a change in what the rules report shows in the CI log.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dropout_lint.config import Config
from dropout_lint.prefilter import TOKENS, may_matter
from dropout_lint.runner import lint_files
from ecosystem.corpus import default_cache, read_packages, unpacked

CORPUS = [package for package in read_packages() if package.development]


def _files() -> list[str]:
    return sorted(
        str(path)
        for package in CORPUS
        for folder in package.lint
        for path in (unpacked(package, default_cache()) / folder).rglob("*.py")
    )


@pytest.mark.slow
def test_real_corpus_lints_without_a_parse_failure_or_a_crash(capsys: pytest.CaptureFixture[str]) -> None:
    files = _files()
    assert len(files) > 3000
    results = lint_files(files, Config(select=("ALL",)))
    found = [d for result in results for d in result.diagnostics]
    counts = Counter(d.code for d in found)
    with capsys.disabled():
        print(f"\ncorpus sweep: {len(files)} files of {', '.join(f'{p.name} {p.version}' for p in CORPUS)}")
        for code, count in sorted(counts.items()):
            print(f"  {code}: {count}")
    broken = [f"{d.path}:{d.span.line}: {d.code} {d.message}" for d in found if d.code in ("DL900", "DL901")]
    assert broken == []


@pytest.mark.slow
def test_the_prefilter_loses_no_finding_on_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    """With only the single-file rules selected (the cross-file ones read every file), the
    pre-filter skips files: the findings must be the same as without it."""
    files = _files()
    local = tuple(sorted(TOKENS))
    skipped = sum(1 for path in files if not may_matter(Path(path).read_text(encoding="utf-8"), frozenset(local)))
    on = lint_files(files, Config(select=local))
    off = lint_files(files, Config(select=local, prefilter=False))
    with capsys.disabled():
        print(f"\nprefilter: {skipped} of {len(files)} files skipped with the single-file rules")
    assert skipped > len(files) // 8  # 543 of 3,401 when this was written
    assert on == off
