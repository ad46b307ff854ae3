"""Checkpoints: state dicts saved as numpy ``.npz`` archives, never pickle.

``save`` writes atomically: the archive goes to a temporary file in the target directory, is
flushed and fsynced, then ``os.replace``-d onto the path, so a crash or error mid-write leaves
any previous checkpoint intact. ``load`` returns a plain ``dict[str, np.ndarray]`` and turns
any malformed file into a ``ValueError`` naming the path and the reason.
"""

from __future__ import annotations

import os
import secrets
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

__all__ = ["save", "load"]


def _to_array(key, value):
    # numpy arrays/scalars have a ``.data`` buffer attribute too: take them as they are.
    if not isinstance(value, (np.ndarray, np.generic)):
        value = getattr(value, "data", value)
    arr = np.asarray(value)
    if arr.dtype.hasobject:
        raise TypeError(f"checkpoint entry {key!r} has dtype {arr.dtype} (Python objects); "
                        f"only numeric/bool arrays can be saved without pickle")
    return arr


def _state_dict_of(obj):
    state_dict = getattr(obj, "state_dict", None)
    if callable(state_dict):
        obj = state_dict()
    if not isinstance(obj, Mapping):
        raise TypeError(f"save expects a Module (with state_dict()) or a mapping of names to "
                        f"arrays, got {type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"state dict keys must be str, got {key!r} ({type(key).__name__})")
        arrays[key] = _to_array(key, value)
    return arrays


def _write_npz(fileobj, arrays, compress=False):
    """Write ``arrays`` to ``fileobj`` in the layout of ``np.savez`` (one ``name.npy`` each)."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(fileobj, mode="w", compression=method, allowZip64=True) as zf:
        for key, arr in arrays.items():
            with zf.open(key + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def _open_new(directory, basename):
    """Create and open a fresh temporary file next to the target (mode follows the umask)."""
    while True:
        tmp = os.path.join(directory, f".{basename}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
        except FileExistsError:
            continue
        return tmp, os.fdopen(fd, "wb")


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(module_or_state_dict, path, compress=False):
    """Save a Module's ``state_dict()`` (or a mapping name -> array) to ``path`` as ``.npz``.

    Values may be numpy arrays or anything ``np.asarray`` accepts, including Tensors/Parameters
    (their ``.data``). Object arrays are refused with ``TypeError`` (no pickle). The file is
    written exactly at ``path`` (no ``.npz`` suffix is appended) and replaced atomically.
    ``compress=True`` uses zip deflate (``np.savez_compressed`` layout).
    """
    arrays = _state_dict_of(module_or_state_dict)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(2, f"directory of checkpoint path does not exist: {directory}",
                                path)
    tmp, f = _open_new(directory, os.path.basename(path))
    try:
        with f:
            _write_npz(f, arrays, compress=compress)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # local file header / empty archive


def load(path):
    """Load a checkpoint written by :func:`save` (or ``np.savez``) into ``dict[str, ndarray]``.

    Never unpickles. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError("<path> is not a valid checkpoint: <reason>")`` for anything that is not an
    intact ``.npz`` archive of plain arrays (corrupt, truncated, pickled object arrays, ...).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, f"checkpoint not found: {path}", path)

    def invalid(reason):
        return ValueError(f"{path} is not a valid checkpoint: {reason}")

    with open(path, "rb") as f:
        head = f.read(4)
        if head not in _ZIP_MAGICS:
            if head.startswith(b"\x93NUM"):
                raise invalid("it is a single .npy array, not an .npz archive")
            raise invalid(f"not a zip/.npz archive (starts with {head!r})")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                out = {}
                for key in npz.files:
                    value = npz[key]
                    if not isinstance(value, np.ndarray):
                        raise invalid(f"member {key!r} is not a .npy array")
                    out[key] = value
        except ValueError as exc:
            if str(exc).startswith(f"{path} is not a valid checkpoint"):
                raise
            raise invalid(str(exc)) from exc
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error,
                KeyError, NotImplementedError) as exc:
            raise invalid(f"{type(exc).__name__}: {exc}") from exc
    return out
