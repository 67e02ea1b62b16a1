"""File operations of the drop: atomic writes, the waiting list, moving files aside."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

READABLE = (".csv", ".xlsx", ".json")
TEMPORARY = (".tmp", ".part")
DONE = "done"
FAILED = "failed"
# Files left in the 前置机 folder carry personal data: the owner writes them, the exchange's
# reader (in the owner's group) reads them, nobody else.
FILE_MODE = 0o640


def is_candidate(name: str) -> bool:
    """A finished drop: a known extension, not hidden, not a temp or an Excel lock file."""
    lower = name.lower()
    if name.startswith((".", "~$")) or lower.endswith(TEMPORARY):
        return False
    return lower.endswith(READABLE)


def waiting(folder: Path) -> list[str]:
    """Names of the finished drops directly in `folder`, in name order (OSError if unreadable).

    Subfolders (done/, failed/) and symbolic links are never candidates: a link could make the
    connector read, and then move, a file outside the drop.
    """
    with os.scandir(folder) as entries:
        names = [
            e.name for e in entries if is_candidate(e.name) and e.is_file(follow_symlinks=False)
        ]
    return sorted(names)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; some platforms and network mounts cannot, and that is fine."""
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


def atomic_write(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as folder/name so that a reader sees either nothing or the whole file.

    The bytes go to a hidden temp name in the same folder (same file system, so the rename is
    atomic), are flushed to disk, then renamed over the final name. On any failure the temp
    file is removed and the error raised.
    """
    final = folder / name
    temp = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with open(fd, "wb", closefd=True) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(folder)
    return final


def free_name(folder: Path, name: str) -> str:
    """`name`, or name.1.ext, name.2.ext … when a file of that name is already in `folder`."""
    if not (folder / name).exists():
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 1
    while True:
        candidate = f"{stem}.{n}.{ext}" if ext else f"{stem}.{n}"
        if not (folder / candidate).exists():
            return candidate
        n += 1


def move_into(source: Path, subfolder: str) -> Path:
    """Move a file into a subfolder of its own folder without overwriting an earlier one."""
    target_dir = source.parent / subfolder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / free_name(target_dir, source.name)
    os.replace(source, target)
    return target


def set_aside(source: Path, reason: str) -> Path:
    """Move an unreadable file into failed/ with <name>.error.txt beside it saying why."""
    target = move_into(source, FAILED)
    note = target.with_name(target.name + ".error.txt")
    fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with open(fd, "w", encoding="utf-8", closefd=True) as fh:
        fh.write(f"{source.name}: cannot be read: {reason}\n")
    return target
