"""Checkpoints: state dicts saved as numpy ``.npz`` archives, never pickle.

``save`` writes atomically: the archive goes to a temporary file in the target directory, is
flushed and fsynced, then ``os.replace``-d onto the path, so a crash or error mid-write leaves
any previous checkpoint intact. ``load`` returns a plain ``dict[str, np.ndarray]`` and turns
any malformed file into a ``ValueError`` naming the path and the reason.

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

import math
import os
import secrets
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

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


def _scalar(state, key, kind, positive=True):
    """``state[key]`` as a Python int/float/str, or ``None`` if absent; ValueError if malformed.

    Integers must be >= 0; numbers finite and > 0 (``positive``) or >= 0.
    """
    if key not in state:
        return None
    arr = state[key]
    if arr.shape != ():
        raise ValueError(f"{key} must be a scalar, got shape {arr.shape}")
    if kind is int:
        if arr.dtype.kind not in "iu" or int(arr) < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {arr!r}")
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


def read_training_checkpoint(path, choices=None) -> TrainingCheckpoint:
    """Read a training checkpoint; ``ValueError`` (naming the entry) if it is not one.

    ``choices``: optional ``{setting: allowed values}``; a stored setting outside them is
    refused. Raises what :func:`load` raises for a missing or malformed file.
    """
    state = load(path)
    model_state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    optim_state = {k[len("optim."):]: v for k, v in state.items() if k.startswith("optim.")}
    if not model_state or "meta.epoch" not in state:
        raise ValueError(f"{path} is not a training checkpoint written by --save (it needs "
                         f"'model.*' and 'meta.epoch' entries; found "
                         f"{', '.join(sorted(state)[:5]) or 'no entries'})")
    meta = {name: _scalar(state, f"meta.{name}", kind) for name, kind in TRAINING_META.items()}
    for name, allowed in (choices or {}).items():
        if meta.get(name) is not None and meta[name] not in allowed:
            raise ValueError(f"meta.{name} is {meta[name]!r}, expected one of {tuple(allowed)}")
    if meta["batch_size"] == 0:
        raise ValueError("meta.batch_size must be >= 1")
    for name in _OPTIM_SETTINGS:
        meta[name] = _scalar(state, f"optim.{name}", float, positive=False)
    history = {}
    prefix = "meta.history."
    for key, value in state.items():
        if key.startswith(prefix) and value.ndim == 1:
            history[key[len(prefix):]] = value.tolist()
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
