"""Pickled data that can wait in a temporary file: the parts of the file summaries that
the cross-file rules read one at a time.

A ``Blob`` holds the pickle of one object, made by this run (in this process or one of
its workers); it is never read from anywhere another program could write (the cache
keeps the object's plain values, see ``cache_format``). In a large run the runner moves the blobs
into a ``SpillFile`` (an unnamed temporary file) as the files' summaries arrive, so that
the memory of the run does not grow with the number of files; the blob then keeps
only where its bytes are. A blob pickles as its bytes wherever they are, so blobs
travel to and from workers as they are.
"""

from __future__ import annotations

import os
import pickle
from typing import IO, Generic, Optional, TypeVar

T = TypeVar("T")


class SpillFile:
    """An unnamed temporary file that blobs are appended to and read back from."""

    def __init__(self) -> None:
        import tempfile  # only large runs spill; it imports shutil and random in turn

        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="dropout-lint-")
        self._end = 0

    def append(self, data: bytes) -> int:
        """Writes the bytes at the end of the file; returns where they start."""
        offset = self._end
        self._file.seek(offset)
        self._file.write(data)
        self._end += len(data)
        return offset

    def read(self, offset: int, size: int) -> bytes:
        self._file.flush()
        return os.pread(self._file.fileno(), size, offset)

    def close(self) -> None:
        self._file.close()


class Blob(Generic[T]):
    """The pickle of one object (a ``T``), in memory or in a ``SpillFile``; blobs are
    equal when their bytes are.

    A blob made by ``holding`` keeps the object itself until its bytes are asked for
    (to spill it, or to send it to another process): the cache reads objects, and most
    of them are never spilled or sent, so pickling each at once was wasted work."""

    __slots__ = ("_data", "_value", "_spill", "_offset", "_size")

    def __init__(self, data: bytes) -> None:
        self._data: Optional[bytes] = data
        self._value: Optional[T] = None  # with no bytes yet: the object itself
        self._spill: Optional[SpillFile] = None
        self._offset = 0
        self._size = len(data)

    @classmethod
    def of(cls, value: T) -> Blob[T]:
        return cls(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))

    @classmethod
    def holding(cls, value: T) -> Blob[T]:
        blob: Blob[T] = cls(b"")
        blob._data = None
        blob._value = value
        return blob

    def read(self) -> bytes:
        if self._data is None and self._spill is None:
            self._data = pickle.dumps(self._value, pickle.HIGHEST_PROTOCOL)
            self._size = len(self._data)
            self._value = None
        if self._data is not None:
            return self._data
        assert self._spill is not None
        return self._spill.read(self._offset, self._size)

    def load(self) -> T:
        if self._data is None and self._spill is None:
            return self._value  # type: ignore[return-value]
        return pickle.loads(self.read())  # type: ignore[no-any-return]

    def spill(self, spill: SpillFile) -> None:
        """Moves the bytes to the file (they stay readable until it is closed)."""
        self.read()
        if self._data is not None:
            self._offset = spill.append(self._data)
            self._spill = spill
            self._data = None

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blob) and self.read() == other.read()

    def __hash__(self) -> int:
        return hash(self.read())

    def __reduce__(self) -> tuple[type[Blob[T]], tuple[bytes]]:
        return (Blob, (self.read(),))

    def __repr__(self) -> str:
        if self._data is None and self._spill is None:
            return "Blob(not pickled yet)"
        return f"Blob({self._size} bytes{'' if self._data is not None else ', spilled'})"
