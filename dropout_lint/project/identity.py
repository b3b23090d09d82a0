"""Which module a file is, for the project index.

Python knows a module by its dotted name below an entry of ``sys.path``:
``pkg/sub/models.py`` is ``pkg.sub.models`` below its root, the first folder above it
without an ``__init__.py``, and a script's root is its own folder. Two roots may hold
modules of one name (the ``main.py`` of every example folder), so the index knows a
file by its root and its dotted name together: ``@<token of the root>.<dotted name>``,
its ``module``. A notebook, which nothing imports, is ``...<stem>:ipynb``, apart from
the script of the same stem beside it.

A name that a file imports is written the same way (``Identity.prefix``) when Python would
find it in the file's own root (``from models import Net`` beside ``models.py``) or,
for a module of a package run as a script, in its own folder: the index then finds
that file and no other. Any other name stays as written (``plain``), and the index
looks it up by dotted name.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass

TAG = "@"  # the first character of a rooted name
NOTEBOOK = ":ipynb"


def token(folder: str) -> str:
    """The first part of the module names of the files whose root is ``folder``."""
    # (Two CRCs rather than a hashlib digest: a pre-commit run imports no hash library.)
    data = folder.encode("utf-8", "surrogateescape")
    return f"{TAG}{zlib.crc32(data):08x}{zlib.crc32(data[::-1]):08x}"


def is_rooted(name: str) -> bool:
    return name.startswith(TAG)


def plain(name: str) -> str:
    """The name without its root: ``@1f2e3d4c5b6a.models.Net`` is ``models.Net``."""
    return name.partition(".")[2] if name.startswith(TAG) else name


@dataclass(frozen=True)
class Identity:
    """A file as a module: the folder Python imports it from and its name there."""

    root: str
    dotted: str
    importable: bool  # False for a notebook
    package: str  # the dotted name of the package it is in ("" for none)
    folder: str  # the folder it is in

    @property
    def module(self) -> str:
        return f"{token(self.root)}.{self.dotted}" + ("" if self.importable else NOTEBOOK)

    def prefix(self, top: str) -> str:
        """What roots an absolute import of the module ``top`` where Python would find
        it: in the file's root, or else (a package's module run as a script) in its own
        folder; "" where neither holds it."""
        if _holds(self.root, top):
            return f"{token(self.root)}."
        if self.package and _holds(self.folder, top):
            return f"{token(self.root)}.{self.package}."
        return ""


def identify(path: str) -> Identity:
    """The identity of the file at ``path``."""
    folder, filename = os.path.split(os.path.abspath(path))
    stem, extension = os.path.splitext(filename)
    parts = [] if stem == "__init__" else [stem]
    root = folder
    while _is_package(root):
        parent, name = os.path.split(root)
        if not name:
            break
        parts.append(name)
        root = parent
    parts.reverse()
    dotted = ".".join(parts) or stem
    package = dotted if stem == "__init__" else dotted.rpartition(".")[0]
    return Identity(root, dotted, extension != ".ipynb", package, folder)


def _is_package(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "__init__.py"))


def _holds(folder: str, top: str) -> bool:
    """Whether ``import top`` finds a module or package in ``folder`` (a folder without
    ``__init__.py`` is a namespace package)."""
    return os.path.isfile(os.path.join(folder, top + ".py")) or os.path.isdir(os.path.join(folder, top))
