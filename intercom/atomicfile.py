"""Writing a file so that a power cut leaves the old one or the new one, never half of each, and
a killed writer leaves no copy of the secrets it was writing."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write ``data`` to a new file in ``path``'s folder, fsync, rename it over ``path``, fsync
    the folder.

    ``mode``: the new file's permissions; by default those of the file it replaces without
    any for others or the group's write (0640 at most: what is written here holds passwords),
    else 0640. The owner and group of the file it replaces are kept where this process may set
    them (root may): a file rewritten under sudo stays readable by the service's group.

    Where the filesystem can (Linux: ext4, tmpfs, btrfs, xfs), the new file is written without
    a name (``O_TMPFILE``): a writer killed before the rename leaves nothing behind, as the file
    vanishes with its last descriptor. It is named only for the instant between the link and
    the rename. Elsewhere it is a named temporary file, as older versions always made. Either
    kind left by a killed writer is removed by the next write to the same file.
    """
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    if mode is None:
        mode = old.st_mode & 0o640 if old is not None else 0o640
    owner = (old.st_uid, old.st_gid) if old is not None else None
    content = data.encode() if isinstance(data, str) else data
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # Writers of this folder take turns: the sweep below must not remove a temporary file
        # another writer is about to rename. (Advisory; a filesystem without flock skips it.)
        locked = True
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
        except OSError:
            locked = False
        if locked:
            _sweep(path)
        tmp = _write_unnamed(path, content, mode, owner)
        if tmp is None:
            tmp = _write_named(path, content, mode, owner)
        try:
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)  # also releases the lock


def _temporary_name(path: Path) -> Path:
    # Eight characters, as tempfile.mkstemp makes them: one pattern (``_stale``) finds both.
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}")


def _stale(path: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}")


def _sweep(path: Path) -> None:
    """Remove temporary files a killed writer of ``path`` left (they may hold its secrets)."""
    pattern = _stale(path)
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def _write_all(fd: int, content: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    if owner is not None and owner != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # not root (or FAT): the new file is ours
            os.fchown(fd, *owner)
    os.fchmod(fd, mode)  # before any byte is written: a key is never readable by others
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _write_unnamed(
    path: Path, content: bytes, mode: int, owner: tuple[int, int] | None
) -> Path | None:
    """The new content in an ``O_TMPFILE`` file linked under a temporary name; None where the
    filesystem or the system cannot make one."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        fd = os.open(path.parent, flag | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except OSError:
        return None  # EOPNOTSUPP, EISDIR (kernels before 3.11), EINVAL...
    try:
        _write_all(fd, content, mode, owner)
        tmp = _temporary_name(path)
        try:
            # linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc form does not.
            os.link(f"/proc/self/fd/{fd}", tmp)
        except OSError:
            return None  # no /proc: the unnamed file vanishes when closed below
        return tmp
    finally:
        os.close(fd)


def _write_named(path: Path, content: bytes, mode: int, owner: tuple[int, int] | None) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    tmp = Path(name)
    try:
        _write_all(fd, content, mode, owner)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return tmp
