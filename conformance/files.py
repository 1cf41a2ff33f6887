"""Files written so that a reader sees the old version or the new one, never half of each."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write *data* (text as UTF-8) to *path* atomically.

    The bytes go to a temporary file in the same directory (named ``.NAME.*.tmp``),
    are synced, and the file is renamed over *path* with :func:`os.replace`; the
    directory is then synced too where the platform allows it.  On any error the
    temporary file is removed and *path* is untouched.  The file gets the usual
    permissions (0666 less the umask).
    """
    path = Path(path)
    body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # the rename itself, on filesystems that allow it
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
