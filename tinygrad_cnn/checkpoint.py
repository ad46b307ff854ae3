"""Checkpoints: state dicts saved as numpy ``.npz`` archives, never pickle.

``save`` writes atomically: the archive goes to a temporary file in the target directory, is
flushed and fsynced, then ``os.replace``-d onto the path, so a crash or error mid-write leaves
any previous checkpoint intact. ``load`` returns a plain ``dict[str, np.ndarray]`` (or, for
PyTorch's general checkpoint of nested dicts, lists and numbers, that structure:
``_checkpoint_tree``) and turns
any malformed file into a ``ValueError`` naming the path and the reason. It treats the file
as hostile: only a regular file is opened, and each member's zip entry and ``.npy`` header
are validated before its data is read, so a header cannot make it allocate more than the
member holds (:data:`MAX_ARRAY_BYTES`, :data:`MAX_ARCHIVE_BYTES`).

A *training* checkpoint (``python -m tinygrad_cnn train --save``, or
``TrainingRecipe.run(save=...)``) is such an archive with a fixed layout, written by
:func:`training_state` and read back by :func:`read_training_checkpoint`:

``model.<name>``
    the model's state dict;
``optim.<key>``
    the optimiser's state dict (its hyperparameters included);
``meta.epoch``
    the number of epochs done;
``meta.optimizer``, ``meta.lr`` (initial learning rate), ``meta.schedule``, ``meta.augment``,
``meta.batch_size``, ``meta.seed``, ``meta.dataset``
    the run's settings (:data:`TRAINING_META`);
``meta.history.<key>``
    the per-epoch curves so far (:func:`merge_history` joins a resumed run's to them).
"""

from __future__ import annotations

import errno
import math
import os
import secrets
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from . import _checkpoint_tree as _tree
from . import _checks

__all__ = ["save", "load", "TrainingCheckpoint", "training_state", "read_training_checkpoint",
           "merge_history", "TRAINING_META"]


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
    # an optimiser's state_dict() is nested (PyTorch's structure); its flat form is the file's
    state_dict = getattr(obj, "flat_state_dict", None) or getattr(obj, "state_dict", None)
    if callable(state_dict):
        obj = state_dict()
    if not isinstance(obj, Mapping):
        raise TypeError(f"save expects a Module (with state_dict()) or a mapping of names to "
                        f"arrays, got {type(obj).__name__}")
    if _tree.is_nested(obj):  # PyTorch's general checkpoint: dicts, lists, numbers around arrays
        return _tree.flatten(obj, _to_array)
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


def _open_new(directory):
    """Create and open a fresh temporary file in ``directory`` (mode follows the umask).

    The name is short and fixed in length (``.tgc-<12 hex digits>.tmp``), so that a target
    whose own name is as long as the file system allows can still be written atomically.
    """
    while True:
        tmp = os.path.join(directory, f".tgc-{secrets.token_hex(6)}.tmp")
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

    A mapping that also holds dicts, lists, tuples, strings or None (PyTorch's general
    checkpoint: ``{"epoch": 5, "model_state_dict": ..., "optimizer_state_dict": ...}``) is saved
    with its structure, and :func:`load` gives it back as it was.

    Values may be numpy arrays or anything ``np.asarray`` accepts, including Tensors/Parameters
    (their ``.data``). Object arrays are refused with ``TypeError`` (no pickle). The file is
    written exactly at ``path`` (no ``.npz`` suffix is appended) and replaced atomically.
    ``compress=True`` uses zip deflate (``np.savez_compressed`` layout). A missing directory,
    a ``path`` that is a directory or a file name longer than the file system allows raise
    ``OSError`` before anything is written.
    """
    arrays = _state_dict_of(module_or_state_dict)
    path = _checks.path_like(path, "path")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"directory of checkpoint path does not exist: "
                                f"{directory}", path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "checkpoint path is a directory", path)
    limit = _checks.name_max(directory)
    name_bytes = len(os.fsencode(os.path.basename(path)))
    if limit is not None and name_bytes > limit:
        raise OSError(errno.ENAMETOOLONG, f"checkpoint file name is {name_bytes} bytes long, "
                      f"more than the {limit} this file system allows", path)
    tmp, f = _open_new(directory)
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


# --------------------------------------------------------------------------------------------
# reading an untrusted archive
# --------------------------------------------------------------------------------------------

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # local file header / empty archive

#: the most bytes one array of a checkpoint may hold (its header's shape times the item size);
#: far beyond any layer of a convolutional network (LeNet-5's largest is 0.2 MB)
MAX_ARRAY_BYTES = 1 << 30
#: the most elements one array may have, whatever its item size (a 0-byte dtype included)
MAX_ARRAY_ELEMENTS = 1 << 30
#: the most bytes all arrays of a checkpoint together may claim in the zip directory
MAX_ARCHIVE_BYTES = 1 << 32
#: deflate cannot shrink data by more than about 1032:1; a member whose directory entry claims
#: more is not what zlib wrote (a "zip bomb") and is refused before it is inflated
MAX_DEFLATE_RATIO = 1100
#: dtype kinds a checkpoint may hold: bool, integers, floats, complex, timedelta, datetime,
#: unicode and byte strings (never objects, structured records or raw void)
_PLAIN_KINDS = "biufcmMUS"
_ZIP_ENCRYPTED = 0x01 | 0x40  # general purpose flags: traditional and strong encryption
_READ_CHUNK = 1 << 20


def _check_entry(f, info, archive_size):
    """Refuse a zip directory entry that is encrypted, compressed by anything but deflate,
    inconsistent with the file, or that would inflate absurdly: ``ValueError(reason)``."""
    if info.flag_bits & _ZIP_ENCRYPTED:
        raise ValueError("it is encrypted (zip flag bits 0x%04x)" % info.flag_bits)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"unsupported zip compression method {info.compress_type} "
                         f"(only stored and deflate)")
    if info.header_offset < 0 or info.header_offset + 30 + info.compress_size > archive_size:
        raise ValueError(f"its {info.compress_size} compressed bytes at offset "
                         f"{info.header_offset} extend past the end of the "
                         f"{archive_size}-byte file")
    if info.file_size > MAX_ARRAY_BYTES + 65536:  # + room for the .npy header
        raise ValueError(f"it claims {info.file_size} bytes, more than the {MAX_ARRAY_BYTES} "
                         f"an array may have")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise ValueError(f"stored (uncompressed) but its sizes differ: {info.compress_size} "
                         f"bytes in the archive, {info.file_size} claimed")
    if info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 1024:
        raise ValueError(f"{info.compress_size} compressed bytes claim to inflate to "
                         f"{info.file_size} (more than deflate's {MAX_DEFLATE_RATIO}:1 at most)")
    # the local header repeats the flags; zipfile trusts the central directory's alone
    f.seek(info.header_offset)
    local = f.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise ValueError(f"no local file header at offset {info.header_offset}")
    if int.from_bytes(local[6:8], "little") & _ZIP_ENCRYPTED:
        raise ValueError("it is encrypted (flag set in its local header)")


def _read_header(member):
    """``(dtype, shape, fortran_order, header_bytes)`` of a ``.npy`` stream, validated, before
    any of its data is read: ``ValueError(reason)`` for anything but a plain array."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ValueError(f"dtype {dtype} holds Python objects; object arrays are never "
                         f"unpickled")
    if dtype.kind not in _PLAIN_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"dtype {dtype} is not a plain numeric, bool or string dtype")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"shape {shape!r} must be non-negative integers")
    return dtype, shape, bool(fortran), member.tell()


def _read_array(member, info):
    """The array of one ``.npy`` member, read into an array of exactly the size its header
    gives once that size is known to be sane and to match the zip directory."""
    dtype, shape, fortran, header_bytes = _read_header(member)
    count = math.prod(shape)  # Python ints: no overflow, however large the claim
    if count > MAX_ARRAY_ELEMENTS or count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ValueError(f"shape {shape} of {dtype} ({count} elements) is larger than the "
                         f"{MAX_ARRAY_BYTES} bytes an array may have")
    if header_bytes + count * dtype.itemsize != info.file_size:
        raise ValueError(f"shape {shape} of {dtype} needs {count * dtype.itemsize} bytes after "
                         f"the {header_bytes}-byte header, but the member holds "
                         f"{info.file_size - header_bytes}")
    flat = np.empty(count, dtype=dtype)
    buffer = memoryview(flat.view(np.uint8) if flat.nbytes else b"").cast("B")
    done = 0
    while done < len(buffer):
        n = member.readinto(buffer[done:done + _READ_CHUNK])
        if not n:
            raise ValueError(f"data ends after {done} of {len(buffer)} bytes")
        done += n
    if member.read(1):  # also makes zipfile check the CRC at the end of the member
        raise ValueError("more data than its header describes")
    return flat.reshape(shape, order="F" if fortran else "C")


def load(path, map_location=None, weights_only=None):
    """Load a checkpoint written by :func:`save` (or ``np.savez``) into ``dict[str, ndarray]``,
    or into the nested structure a general checkpoint was saved from (``_checkpoint_tree``).

    ``map_location`` and ``weights_only`` are PyTorch's and accepted for its code: there is
    one device, and a checkpoint here never holds anything but arrays.

    Never unpickles, and never trusts the file: only a regular file is opened (a FIFO,
    directory or device is refused before reading), every member's zip entry and ``.npy``
    header are checked before its data is read, and nothing larger than the member itself
    is allocated. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError("<path> is not a valid checkpoint: [member '<name>': ]<reason>")`` for
    anything that is not an intact ``.npz`` archive of plain arrays (corrupt, truncated,
    encrypted, pickled object arrays, headers claiming impossible shapes, ...).
    """
    path = _checks.path_like(path, "path")

    def invalid(reason, member=None):
        where = "" if member is None else f"member {member!r}: "
        return ValueError(f"{path} is not a valid checkpoint: {where}{reason}")

    with _checks.open_regular_file(path, "checkpoint") as f:
        archive_size = os.fstat(f.fileno()).st_size
        head = f.read(4)
        if head not in _ZIP_MAGICS:
            if head.startswith(b"\x93NUM"):
                raise invalid("it is a single .npy array, not an .npz archive")
            raise invalid(f"not a zip/.npz archive (starts with {head!r})")
        f.seek(0)
        try:
            archive = zipfile.ZipFile(f)
        except Exception as exc:  # BadZipFile, but also struct/overflow errors of odd headers
            raise invalid(f"{type(exc).__name__}: {exc}") from exc
        out = {}
        with archive:
            claimed = sum(info.file_size for info in archive.infolist())
            if claimed > MAX_ARCHIVE_BYTES:
                raise invalid(f"its members claim {claimed} bytes in all, more than the "
                              f"{MAX_ARCHIVE_BYTES} a checkpoint may hold")
            for info in archive.infolist():
                name = info.filename
                if not name.endswith(".npy"):
                    raise invalid("is not a .npy array", name)
                if name[:-4] in out:
                    raise invalid("appears twice in the archive", name)
                try:
                    _check_entry(f, info, archive_size)
                    with archive.open(info) as member:
                        out[name[:-4]] = _read_array(member, info)
                except ValueError as exc:
                    raise invalid(str(exc), name) from exc
                except Exception as exc:  # zipfile/zlib/tokenizer/... errors of a bad member
                    raise invalid(f"{type(exc).__name__}: {exc}", name) from exc
    if _tree.TREE_MEMBER in out:
        return _tree.rebuild(out, invalid)
    return out


# --------------------------------------------------------------------------------------------
# the training checkpoint
# --------------------------------------------------------------------------------------------

#: the run settings stored in a training checkpoint as ``meta.<name>``, with their Python type
TRAINING_META = {"epoch": int, "seed": int, "optimizer": str, "dataset": str, "lr": float,
                 "schedule": str, "augment": str, "batch_size": int}

#: optimiser hyperparameters that a resumed run takes from ``optim.<name>`` unless given again
_OPTIM_SETTINGS = ("momentum", "weight_decay")


@dataclass
class TrainingCheckpoint:
    """A training checkpoint as read by :func:`read_training_checkpoint`."""

    path: str
    model_state: dict
    optim_state: dict
    epoch: int
    #: the stored run settings (``meta.*`` but the epoch, and the optimiser's momentum and
    #: weight decay), only those present in the file
    settings: dict = field(default_factory=dict)
    #: the per-epoch curves, ``{key: list}``
    history: dict = field(default_factory=dict)


#: the largest value each integer setting may have (they size loops and allocations)
_META_MAX = {"epoch": _checks.MAX_EPOCHS, "seed": _checks.MAX_SEED,
             "batch_size": _checks.MAX_BATCH_SIZE}

#: optimiser hyperparameters: ``(low, high, high_open)`` of the interval each must lie in
#: (the rules of the optimisers' constructors and of the recipe: momentum and betas < 1)
_OPTIM_NUMBERS = {"lr": (0.0, None, False), "momentum": (0.0, 1.0, True),
                  "dampening": (0.0, None, False), "weight_decay": (0.0, None, False),
                  "eps": (0.0, None, False)}


def _scalar(state, key, kind, positive=True, maximum=None):
    """``state[key]`` as a Python int/float/str, or ``None`` if absent; ValueError if malformed.

    Integers must be >= 0 (and <= ``maximum``); numbers finite and > 0 (``positive``) or >= 0.
    """
    if key not in state:
        return None
    arr = state[key]
    if arr.shape != ():
        raise ValueError(f"{key} must be a scalar, got shape {arr.shape}")
    if kind is int:
        if arr.dtype.kind not in "iu" or int(arr) < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {arr!r}")
        if maximum is not None and int(arr) > maximum:
            raise ValueError(f"{key} must be <= {maximum}, got {int(arr)}")
        return int(arr)
    if kind is float:
        ok = arr.dtype.kind in "iuf" and math.isfinite(float(arr))
        if not ok or float(arr) < 0 or (positive and float(arr) == 0):
            raise ValueError(f"{key} must be a {'positive' if positive else 'non-negative'} "
                             f"number, got {arr!r}")
        return float(arr)
    if arr.dtype.kind not in "US":
        raise ValueError(f"{key} must be a string, got dtype {arr.dtype}")
    value = arr.item()
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_optim_state(optim_state):
    """Validate an optimiser state dict as stored (``ValueError`` naming the ``optim.*`` key).

    Every entry is numeric and finite (no optimiser's hyperparameter or state is NaN or
    infinite); step counters (``step``, ``state.<i>.step``) are non-negative integers;
    hyperparameters known by name (the last part of the key, so parameter groups are
    covered too) lie in their constructors' ranges: ``lr``, ``dampening``, ``weight_decay``,
    ``eps`` >= 0, ``momentum`` and both ``betas`` in [0, 1), ``nesterov`` a bool. The shapes
    of the state arrays are checked against the parameters by the optimiser's
    ``load_state_dict``.
    """
    for name, arr in optim_state.items():
        key, leaf = f"optim.{name}", name.rsplit(".", 1)[-1]
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{key} must be numeric, got dtype {arr.dtype}")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"{key} holds {np.count_nonzero(~np.isfinite(arr))} non-finite "
                             f"value(s) (NaN or infinity)")
        if leaf == "step":
            _scalar({key: arr}, key, int)  # a non-negative integer scalar
        elif name.startswith("state."):
            continue
        elif leaf in _OPTIM_NUMBERS:
            low, high, high_open = _OPTIM_NUMBERS[leaf]
            if arr.shape != () or arr.dtype.kind == "b":
                raise ValueError(f"{key} must be a number, got {arr.dtype} of shape {arr.shape}")
            _checks.real(arr.item(), key, low, high, high_open=high_open)
        elif leaf == "betas":
            if arr.shape != (2,) or arr.dtype.kind == "b":
                raise ValueError(f"{key} must be two numbers, got {arr.dtype} of shape "
                                 f"{arr.shape}")
            for i, beta in enumerate(arr.tolist()):
                _checks.real(beta, f"{key}[{i}]", 0.0, 1.0, high_open=True)
        elif leaf == "nesterov" and (arr.shape != () or arr.dtype.kind != "b"):
            raise ValueError(f"{key} must be True or False, got {arr!r}")


def _check_model_state(model_state):
    for name, arr in model_state.items():
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            raise ValueError(f"model.{name} holds {np.count_nonzero(~np.isfinite(arr))} "
                             f"non-finite value(s) (NaN or infinity)")


def _read_history(state):
    """The ``meta.history.*`` curves as lists; ``ValueError`` naming a curve that is not a
    1-D array of real numbers. NaN marks an epoch whose value was not recorded (see
    :func:`merge_history`); infinities are refused."""
    history = {}
    prefix = "meta.history."
    for key, value in state.items():
        if not key.startswith(prefix):
            continue
        if value.ndim != 1 or value.dtype.kind not in "biuf":
            raise ValueError(f"{key} must be a 1-D array of numbers, got {value.dtype} of "
                             f"shape {value.shape}")
        if np.isinf(value).any():
            raise ValueError(f"{key} holds an infinite value")
        history[key[len(prefix):]] = value.tolist()
    return history


def read_training_checkpoint(path, choices=None) -> TrainingCheckpoint:
    """Read a training checkpoint; ``ValueError`` (naming the entry) if it is not one.

    Everything a resumed run will use is validated here, before any training: the settings
    (``meta.*``: integers non-negative and bounded, the learning rate positive and finite),
    the optimiser's hyperparameters and state (finite, in the ranges its constructor takes),
    the model's arrays (finite) and the curves (1-D, numeric). ``choices``: optional
    ``{setting: allowed values}``; a stored setting outside them is refused. Raises what
    :func:`load` raises for a missing or malformed file.
    """
    state = load(path)
    model_state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    optim_state = {k[len("optim."):]: v for k, v in state.items() if k.startswith("optim.")}
    if not model_state or "meta.epoch" not in state:
        raise ValueError(f"{path} is not a training checkpoint written by --save (it needs "
                         f"'model.*' and 'meta.epoch' entries; found "
                         f"{', '.join(sorted(state)[:5]) or 'no entries'})")
    meta = {name: _scalar(state, f"meta.{name}", kind, maximum=_META_MAX.get(name))
            for name, kind in TRAINING_META.items()}
    for name, allowed in (choices or {}).items():
        if meta.get(name) is not None and meta[name] not in allowed:
            raise ValueError(f"meta.{name} is {meta[name]!r}, expected one of {tuple(allowed)}")
    if meta["batch_size"] == 0:
        raise ValueError("meta.batch_size must be >= 1")
    _check_optim_state(optim_state)
    _check_model_state(model_state)
    for name in _OPTIM_SETTINGS:
        meta[name] = _scalar(state, f"optim.{name}", float, positive=False)
    history = _read_history(state)
    epoch = meta.pop("epoch")
    settings = {k: v for k, v in meta.items() if v is not None}
    return TrainingCheckpoint(os.fspath(path), model_state, optim_state, epoch, settings, history)


def training_state(model, optimizer, settings, epoch, history) -> dict:
    """The arrays of a training checkpoint (for :func:`save`).

    ``settings`` maps every name of :data:`TRAINING_META` but ``epoch`` to its value.
    """
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    state.update({f"optim.{k}": v for k, v in _state_dict_of(optimizer).items()})
    for name, kind in TRAINING_META.items():
        value = epoch if name == "epoch" else settings[name]
        state[f"meta.{name}"] = np.array(value, dtype=np.int64 if kind is int else None)
    for key, values in history.items():
        state[f"meta.history.{key}"] = np.asarray(values, dtype=np.float64)
    return state


def merge_history(previous, current, keys=None) -> dict:
    """``previous`` (from a checkpoint) followed by ``current`` (this run), key by key.

    ``keys`` defaults to ``current``'s. A curve missing from, or shorter than the epochs of,
    ``previous`` is padded with NaN so that every list has one entry per epoch.
    """
    n_prev = len(previous.get("epoch", []))
    out = {}
    for key in (current if keys is None else keys):
        old = list(previous.get(key, []))
        if len(old) != n_prev:  # an incomplete curve in the checkpoint: pad with NaN
            old = [float("nan")] * n_prev
        out[key] = old + list(current.get(key, []))
    return out
