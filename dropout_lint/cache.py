"""The cache of a run's results, so that a second run re-reads only what changed.

Entries live under ``.dropout_lint_cache/`` beside the configuration (or where
``--cache-dir`` says), in a folder per tool version and configuration:

- one entry per file: what the first phase learned about it (findings and the summary
  for the cross-file rules), keyed by the file's content, its path, how it is shown,
  and its module name (which the ``__init__.py`` files above it decide);
- one entry per run: the final results, keyed by every file's key. A run in which no
  file changed reads that one entry; a run with a changed file reads the other files'
  entries and runs the cross-file rules again over all summaries (a finding in one file
  may depend on any other).

Entries hold plain values in JSON, with a digest (``cache_format``): reading one runs
no code, whoever wrote it. Writes are atomic (a temporary file renamed into place), so
concurrent runs and interrupted ones leave whole entries or none; an entry that cannot
be read (damaged, of another format, or not one of ours) is ignored and rewritten, never
fatal. The key includes the tool's code and the installed libcst's version.
``dropout-lint clean`` removes the cache, and only a folder that this tool marked as its
own.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from dropout_lint.atomic import write_atomic
from dropout_lint.config import Config
from dropout_lint.version import __version__

if TYPE_CHECKING:
    from dropout_lint.engine import FileAnalysis, FileResult

CACHE_DIR_NAME = ".dropout_lint_cache"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This folder is a cache of dropout-lint.\n"


def default_directory(config: Config) -> Path:
    return config.root / CACHE_DIR_NAME


def _code_stamp() -> str:
    """The tool's own code (each module's size and time), so that an edited checkout, whose
    version number has not changed, does not read results of its former self."""
    package = Path(__file__).resolve().parent
    parts = []
    for path in sorted(package.rglob("*.py")):
        try:
            info = path.stat()
        except OSError:
            continue
        parts.append(f"{path.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _libcst_stamp() -> str:
    """The installed libcst's version: its ``_version.py``, found where the import system
    would find libcst (the first entry of ``sys.path`` that holds it), read without
    importing libcst or ``importlib.metadata``. Its private APIs are used, and its trees
    are what the summaries describe."""
    for entry in sys.path:
        try:
            return (Path(entry or ".") / "libcst" / "_version.py").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return "libcst not found"


def _fingerprint(config: Config) -> str:
    """What the results depend on besides the files: the tool and every setting."""
    settings = (
        config.select,
        config.extend_select,
        config.ignore,
        config.max_rate,
        config.per_file_ignores,
        config.evaluation_functions,
        config.file_timeout,
        config.max_file_size,
        config.prefilter,
        str(config.root),
    )
    stamp = f"{__version__}|{_code_stamp()}|{_libcst_stamp()}|{settings!r}"
    return hashlib.sha256(stamp.encode()).hexdigest()[:16]


class Cache:
    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = directory
        self.folder = directory / f"{__version__}-{_fingerprint(config)}"
        self._ready = False

    @staticmethod
    def file_key(path: str, shown: str, data: bytes, module: str = "") -> str:
        """``module``: the module the file is (``project.identity``), which its summary
        names its classes by."""
        digest = hashlib.sha256()
        for part in (os.path.abspath(path).encode(), shown.encode(), module.encode()):
            digest.update(part)
            digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    @staticmethod
    def run_key(keys: Sequence[str]) -> str:
        digest = hashlib.sha256(b"run\0")
        for key in keys:
            digest.update(key.encode())
        return "run-" + digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.folder / key[-2:] / key

    def load_file(self, key: str) -> Optional[FileAnalysis]:
        """A file's analysis, stored under its ``file_key``."""
        from dropout_lint.engine import FileAnalysis

        found = self._load(key, FileAnalysis)
        return found if isinstance(found, FileAnalysis) else None

    def load_run(self, key: str) -> Optional[list[FileResult]]:
        """A run's results, stored under its ``run_key``."""
        from dropout_lint.cache_format import RunResults

        found = self._load(key, RunResults)
        return list(found) if isinstance(found, tuple) else None

    def store_file(self, key: str, analysis: FileAnalysis) -> None:
        from dropout_lint.engine import FileAnalysis

        self._store(key, analysis, FileAnalysis)

    def store_run(self, key: str, results: Sequence[FileResult]) -> None:
        from dropout_lint.cache_format import RunResults

        self._store(key, tuple(results), RunResults)

    def _load(self, key: str, kind: object) -> Optional[object]:
        from dropout_lint import cache_format

        path = self._entry(key)
        try:
            with open(path, "rb") as handle:
                entry = handle.read()
        except OSError:
            return None
        found = cache_format.load(entry, kind)
        if found is None:  # damaged, of another format, or not ours: written again
            try:
                path.unlink()
            except OSError:
                pass
        return found

    def _store(self, key: str, value: object, kind: object) -> None:
        """Write an entry atomically; a cache that cannot be written is no error."""
        from dropout_lint import cache_format

        path = self._entry(key)
        try:
            entry = cache_format.dump(value, kind)
        except (ValueError, TypeError, KeyError, RecursionError):  # a value with no plain form is not cached
            return
        try:
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(str(path), entry, durable=False)
        except OSError:
            return

    def _prepare(self) -> None:
        """The cache folder, marked as a cache for backup tools and ignored by git."""
        if self._ready:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Created by dropout-lint.\n*\n")):
            target = self.directory / name
            if not target.exists():
                target.write_text(text, encoding="utf-8")
        self._ready = True


def clean(directory: Path) -> bool:
    """Remove a cache folder of this tool; whether there was one. A folder is ours when
    its ``CACHEDIR.TAG`` is the one this tool writes: other tools' caches (a Rust
    ``target/``) carry a tag too, and are left alone."""
    try:
        tag = (directory / "CACHEDIR.TAG").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if tag != _TAG:
        return False
    import shutil  # only `dropout-lint clean` needs it

    shutil.rmtree(directory, ignore_errors=True)
    return True
