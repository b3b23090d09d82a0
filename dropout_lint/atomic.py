"""Writing a file all at once, so that an interrupted write leaves the old one whole."""

from __future__ import annotations

import os


def write_atomic(path: str, data: bytes, *, durable: bool = True) -> None:
    """Replace a file's contents all at once: a temporary file beside it, renamed over
    it, with the original's permissions when there is an original. ``durable`` also
    flushes the data to disk before the rename (a user's file; a cache entry need not)."""
    # Imported here: it imports shutil and random (and they bz2, lzma, zlib), which a run
    # whose results all come from the cache, and so writes nothing, has no use for.
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode: int | None = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    handle, temporary = tempfile.mkstemp(prefix=".dropout-lint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
