"""Paths, regular files and the bounds of a training run's settings."""

from __future__ import annotations

import os
import secrets
import stat


# --------------------------------------------------------------- files and run settings
#: The largest seed a training run takes: it is stored as an int64 in a training checkpoint.
MAX_SEED = 2**63 - 1
#: The largest mini-batch (far beyond any data set that fits in memory one batch at a time).
MAX_BATCH_SIZE = 1 << 20
#: The most epochs a run may have in all (a resumed run's included).
MAX_EPOCHS = 10**6


def path_like(value, name: str) -> str:
    """``value`` (a ``str``, ``bytes`` or ``os.PathLike``) as a ``str`` path; ``TypeError``
    naming ``name`` for anything else (``None``, a number, an open file), ``ValueError`` for
    an empty path."""
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {value!r} "
                        f"({type(value).__name__})")
    path = os.fsdecode(value)
    if not path:
        raise ValueError(f"{name} must not be an empty path")
    if "\0" in path:
        raise ValueError(f"{name} must not contain a NUL character, got {path!r}")
    return path


def _file_kind(mode: int) -> str:
    """What kind of file a ``st_mode`` describes, in words."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def open_regular_file(path: str, what: str):
    """Open ``path`` for binary reading, only if it is a regular file.

    A FIFO, directory, device or socket is refused with ``ValueError`` naming the path before
    anything is read (opening a FIFO would block until a writer comes, reading a device might
    never end). The file is opened with ``O_NONBLOCK`` and checked again with ``fstat`` on the
    descriptor, so swapping the path for a FIFO between the two checks does not block either.
    ``what`` names the file in messages ("checkpoint", "IDX file"); a missing file raises
    ``FileNotFoundError`` naming it.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(2, f"{what} not found: {path}", path) from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path}: {what} must be a regular file, but it is {_file_kind(mode)}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{path}: {what} must be a regular file, but it is "
                             f"{_file_kind(mode)}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def name_max(directory: str) -> int | None:
    """The longest file name (in bytes) the file system of ``directory`` allows, if known."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows), or no such limit
        return None


def output_file(path, name: str) -> str:
    """Check that a file can be written at ``path`` before any work is done; returns the path.

    ``ValueError`` naming ``name`` when its directory is missing, when the path is a directory
    or an existing non-regular file (a FIFO would block the writer), when its file name is
    longer than the file system allows, or when a file cannot be created in the directory
    (tried with a short temporary file, removed at once).
    """
    path = path_like(path, name)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{name}: directory {directory!r} does not exist")
    limit = name_max(directory)
    base = os.fsencode(os.path.basename(path))
    if limit is not None and len(base) > limit:
        raise ValueError(f"{name}: file name is {len(base)} bytes long, more than the "
                         f"{limit} this file system allows")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise ValueError(f"{name}: cannot use {path!r}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise ValueError(f"{name}: {path!r} is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        raise ValueError(f"{name}: {path!r} exists and is {_file_kind(mode)}, not a regular file")
    probe = os.path.join(directory, f".tgc-{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ValueError(f"{name}: cannot write in {directory!r}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    return path
