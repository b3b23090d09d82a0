"""The cache of a run's results, so that a second run re-reads only what changed.

Entries live under ``.dropout_lint_cache/`` beside the configuration (or where
``--cache-dir`` says), in a folder per tool version and configuration:

- one entry per file: what the first phase learned about it (findings and the summary
  for the cross-file rules), keyed by the file's content, its path and how it is shown;
- one entry per run: the final results, keyed by every file's key. A run in which no
  file changed reads that one entry; a run with a changed file reads the other files'
  entries and runs the cross-file rules again over all summaries (a finding in one file
  may depend on any other).

Writes are atomic (a temporary file renamed into place), so concurrent runs and
interrupted ones leave whole entries or none; an entry that cannot be read is ignored
and rewritten, never fatal. ``dropout-lint clean`` removes the cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from dropout_lint import __version__
from dropout_lint.atomic import write_atomic
from dropout_lint.config import Config

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
    return hashlib.sha256(f"{__version__}|{_code_stamp()}|{settings!r}".encode()).hexdigest()[:16]


class Cache:
    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = directory
        self.folder = directory / f"{__version__}-{_fingerprint(config)}"
        self._ready = False

    @staticmethod
    def file_key(path: str, shown: str, data: bytes) -> str:
        digest = hashlib.sha256()
        for part in (os.path.abspath(path).encode(), shown.encode()):
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

    def load(self, key: str) -> Optional[Any]:
        path = self._entry(key)
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a damaged entry (any unpickling error) is a miss
            try:
                path.unlink()
            except OSError:
                pass
            return None

    def store(self, key: str, value: Any) -> None:
        """Write an entry atomically; a cache that cannot be written is no error."""
        path = self._entry(key)
        try:
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(str(path), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), durable=False)
        except (OSError, pickle.PicklingError):
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
    """Remove a cache folder; whether there was one."""
    if not (directory / "CACHEDIR.TAG").exists():
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True
