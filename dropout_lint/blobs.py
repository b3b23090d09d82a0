"""Pickled data that can wait on disk: the parts of the file summaries that the
cross-file rules read one at a time.

A ``Blob`` holds the pickle of one object. In a large run the runner moves the blobs
into a ``SpillFile`` (an unnamed temporary file) as the files' summaries arrive, so that
the memory of the run does not grow with the number of files; the blob then keeps
only where its bytes are. A blob pickles as its bytes wherever they are, so blobs
travel to and from workers and into the cache as they are.
"""

from __future__ import annotations

import os
import pickle
from typing import IO, Any, Optional


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


class Blob:
    """The pickle of one object, in memory or in a ``SpillFile``."""

    __slots__ = ("_data", "_spill", "_offset", "_size")

    def __init__(self, data: bytes) -> None:
        self._data: Optional[bytes] = data
        self._spill: Optional[SpillFile] = None
        self._offset = 0
        self._size = len(data)

    @classmethod
    def of(cls, value: object) -> Blob:
        return cls(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))

    def read(self) -> bytes:
        if self._data is not None:
            return self._data
        assert self._spill is not None
        return self._spill.read(self._offset, self._size)

    def load(self) -> Any:
        return pickle.loads(self.read())

    def spill(self, spill: SpillFile) -> None:
        """Moves the bytes to the file (they stay readable until it is closed)."""
        if self._data is not None:
            self._offset = spill.append(self._data)
            self._spill = spill
            self._data = None

    def __len__(self) -> int:
        return self._size

    def __reduce__(self) -> tuple[type[Blob], tuple[bytes]]:
        return (Blob, (self.read(),))

    def __repr__(self) -> str:
        return f"Blob({self._size} bytes{'' if self._data is not None else ', spilled'})"
