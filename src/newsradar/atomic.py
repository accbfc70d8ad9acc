"""Files that appear whole or not at all: a temporary file beside the target, then a rename.

    write_atomic(config_dir / "feeds.toml", text)

A crash, a kill or a full disk in the middle leaves the previous file exactly as it was (or no
file), never a truncated one: readers see the old contents or the new, nothing in between.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["replace_durably", "write_atomic"]


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically and durably.

    Replacing a file keeps its permission bits; a new file gets the usual ``0o666`` less the
    umask. A symbolic link is written through, so it stays a link. On any failure the temporary
    file is removed, ``path`` is left as it was, and the ``OSError`` is raised for the caller to
    name the file and the fix. The directory must exist.
    """
    # Through a link, not over it: the user's link (dotfiles, a shared config) must survive.
    target = Path(os.path.realpath(path))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = _create_beside(target)
    try:
        try:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(fd, os.stat(target).st_mode & 0o7777)
            view = memoryview(payload)
            while view:  # os.write may write less than asked (signals, pipes)
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        _rename(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_durably(source: Path, target: Path) -> None:
    """Flush ``source`` to disk, rename it over ``target``, then flush the directory entry.

    Without the first flush a crash right after the rename can leave ``target`` empty on
    ext4/xfs; without the second the rename itself may be lost.
    """
    fd = os.open(source, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _rename(source, target)


def _rename(source: Path, target: Path) -> None:
    os.replace(source, target)
    _sync_directory(target.parent)


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new hidden file in ``target``'s directory (same file system, so the rename is atomic).

    Not ``mkstemp``: its 0600 would ignore the umask that a plain ``open`` respects.
    """
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # not openable here (another OS, odd permissions): the rename already happened
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (tmpfs on old kernels, network mounts) refuse: nothing to lose
    finally:
        os.close(fd)
