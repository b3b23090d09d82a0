"""The pinned corpus: read ``packages.toml``, download each distribution once, unpack its code.

Distributions come from PyPI's JSON simple index and are checked against the SHA-256 in
``packages.toml`` before anything is unpacked. Only ``.py`` and ``.ipynb`` files below the
folders a package names are unpacked; an archive member that would land outside its folder
is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
PACKAGES = HERE / "packages.toml"
INDEX = "https://pypi.org/simple"
CODE_SUFFIXES = (".py", ".ipynb")
_STAMP = ".complete"


class CorpusError(Exception):
    """A package cannot be read, downloaded or unpacked; the message says which and why."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    file: str  # the distribution file on PyPI: a wheel, or an sdist where no pure wheel exists
    sha256: str
    lint: tuple[str, ...]  # folders inside the distribution, linted together as one run
    development: bool  # the rules were written against this code (not unseen code)

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


def default_cache() -> Path:
    configured = os.environ.get("DROPOUT_LINT_ECOSYSTEM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "dropout-lint" / "ecosystem"


def read_packages(path: Path = PACKAGES) -> list[Package]:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from None
    packages = []
    for number, entry in enumerate(table.get("package", []), start=1):
        try:
            package = Package(
                name=str(entry["name"]),
                version=str(entry["version"]),
                file=str(entry["file"]),
                sha256=str(entry["sha256"]).lower(),
                lint=tuple(str(folder) for folder in entry["lint"]),
                development=bool(entry.get("development", False)),
            )
        except KeyError as exc:
            raise CorpusError(f"{path}: package {number} has no {exc.args[0]!r}") from None
        if not package.lint:
            raise CorpusError(f"{path}: {package.key} names no folder to lint")
        packages.append(package)
    names = [package.name for package in packages]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise CorpusError(f"{path}: listed more than once: {', '.join(doubled)}")
    return packages


def _url_of(package: Package, index: str) -> str:
    request = urllib.request.Request(
        f"{index}/{package.name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        files = json.load(answer)["files"]
    for entry in files:
        if entry["filename"] == package.file:
            return str(entry["url"])
    raise CorpusError(f"{package.key}: {package.file} is not on {index}/{package.name}/")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(package: Package, cache: Path, index: str = INDEX) -> Path:
    """The distribution file, from the cache or from PyPI; its hash is checked either way."""
    target = cache / "downloads" / package.file
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            url = _url_of(package, index)
            with urllib.request.urlopen(url, timeout=300) as answer, tempfile.NamedTemporaryFile(
                dir=target.parent, delete=False
            ) as partial:
                shutil.copyfileobj(answer, partial)
        except OSError as exc:
            raise CorpusError(f"{package.key}: download failed: {exc}") from None
        os.replace(partial.name, target)
    found = _sha256(target)
    if found != package.sha256:
        target.unlink()
        raise CorpusError(f"{package.key}: {package.file} has SHA-256 {found}, packages.toml pins {package.sha256}")
    return target


def code_path(member: str, folders: tuple[str, ...]) -> Optional[PurePosixPath]:
    """The member's path if it is code below one of ``folders`` and stays there ("" holds all)."""
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or not member.endswith(CODE_SUFFIXES):
        return None
    for folder in folders:
        prefix = PurePosixPath(folder).parts
        if path.parts[: len(prefix)] == prefix:
            return path
    return None


def write_code(target: Path, path: PurePosixPath, data: bytes) -> None:
    destination = target.joinpath(*path.parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)


def _unpack_wheel(archive: Path, folders: tuple[str, ...], target: Path) -> int:
    count = 0
    with zipfile.ZipFile(archive) as wheel:
        for info in wheel.infolist():
            path = code_path(info.filename, folders)
            if path is not None and not info.is_dir():
                write_code(target, path, wheel.read(info))
                count += 1
    return count


def extract_code(archive: tarfile.TarFile, folders: tuple[str, ...], target: Path, strip_top: bool) -> int:
    """Write the code files of a tar below ``folders`` into ``target``; how many there were.

    ``strip_top`` drops the one folder an sdist wraps its contents in (``name-version/``).
    """
    count = 0
    for member in archive.getmembers():
        if not member.isfile():
            continue
        path = code_path(member.name.partition("/")[2] if strip_top else member.name, folders)
        stream = archive.extractfile(member) if path is not None else None
        if path is not None and stream is not None:
            write_code(target, path, stream.read())
            count += 1
    return count


def unpacked(package: Package, cache: Path, index: str = INDEX) -> Path:
    """The folder that holds the package's code to lint, unpacked once per pinned file."""
    target = cache / "src" / package.key
    stamp = target / _STAMP
    wanted = f"{package.sha256} {' '.join(package.lint)}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted:
        return target
    archive = download(package, cache, index)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        if package.file.endswith(".whl"):
            count = _unpack_wheel(archive, package.lint, target)
        else:
            with tarfile.open(archive) as sdist:
                count = extract_code(sdist, package.lint, target, strip_top=True)
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise CorpusError(f"{package.key}: cannot unpack {package.file}: {exc}") from None
    missing = [folder for folder in package.lint if not (target / folder).is_dir()]
    if missing or count == 0:
        raise CorpusError(f"{package.key}: {package.file} has no code in {', '.join(missing or package.lint)}")
    stamp.write_text(wanted, encoding="utf-8")
    return target
