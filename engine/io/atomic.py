"""Atomic file writes: a temporary file in the target's folder, then a rename.

A crash, a full disk or an exception mid-write leaves any earlier file intact and
no partial file behind, because ``os.replace`` within one folder is atomic.
"""
from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import ConfigError


def describe_os_error(path: Path, exc: OSError) -> str:
    """A one-line, user-facing reason for a failed write."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write there (permission denied or read-only folder)"
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full"
    if exc.errno == errno.ENOENT:
        return f"{path}: the folder {path.parent} does not exist"
    return f"{path}: cannot write ({exc.strerror or exc})"


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    # Linux reports it without changing it; os.umask would briefly set it
    # process-wide, a race with other threads creating files.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step."""
    target = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
        os.close(fd)
    except OSError as exc:
        raise ConfigError(describe_os_error(target, exc)) from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give it the mode a plain open()
        # would (or the replaced file's), so others can read an export as usual.
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(describe_os_error(target, exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
