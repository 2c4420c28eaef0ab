"""Atomic file writes: a temporary file in the target's folder, then a rename.

A crash, a full disk or an exception mid-write leaves any earlier file intact and
no partial file behind, because ``os.replace`` within one folder is atomic.

A writer killed outright (kill -9, power loss) cannot remove its temporary file, so
temporary files carry our own pattern with the writer's host and PID::

    .<target name>.<pid>@<host>.<random>.nnpg-tmp

and every write first and last removes such files in its folder whose writer, on
this host, is no longer running.  Files of any other pattern are never touched.
"""
from __future__ import annotations

import errno
import os
import re
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import ConfigError

TEMP_SUFFIX = ".nnpg-tmp"
# The target name is only a hint for a person looking at the folder: the PID and
# host are what cleaning reads, so the name part may be shortened to stay within
# the 255-byte file-name limit.
_TEMP_NAME = re.compile(r"^\.(?P<name>.*)\.(?P<pid>[1-9][0-9]*)@(?P<host>[A-Za-z0-9_-]*)\.[A-Za-z0-9_]+"
                        + re.escape(TEMP_SUFFIX) + "$")
_NAME_HINT_CHARS = 100


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


def _host_tag() -> str:
    """This machine's name, reduced to the characters the temp-file pattern allows.

    A folder may be shared with other machines (NFS): a PID is only meaningful on
    the host that wrote it, so only this host's temporary files are ever judged.
    """
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname())[:40]


def temp_prefix(target: Path) -> str:
    """The start of a temporary file's name for ``target``; mkstemp adds the random part."""
    return f".{target.name[:_NAME_HINT_CHARS]}.{os.getpid()}@{_host_tag()}."


def _writer_alive(pid: int) -> bool:
    """False only when the process certainly does not exist (any doubt keeps the file)."""
    if os.name != "posix":
        return True       # os.kill on Windows would terminate the process, not probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:       # PermissionError: alive, owned by someone else
        return True
    return True


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete our temporary files in ``folder`` whose writer (on this host) has died.

    Returns the files removed.  Failures (a file already gone, no permission) are
    ignored: cleaning is a courtesy and must never make a write fail.
    """
    removed = []
    host = _host_tag()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or match["host"] != host:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _writer_alive(pid):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step.

    Any exception inside the block (including a cancel raised by a progress callback)
    removes the temporary file and leaves ``path`` as it was.
    """
    target = Path(path)
    folder = target.parent
    remove_stale_temp_files(folder)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=TEMP_SUFFIX, dir=folder)
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
    _sync_folder(folder)
    remove_stale_temp_files(folder)


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """An open binary file to stream into; flushed to disk, then it replaces ``path``.

    Streaming lets a large export be written piece by piece instead of being
    assembled in memory first.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
