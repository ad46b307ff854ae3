"""dtypes, the default float dtype, and the one device.

A dtype is a plain ``numpy.dtype``: ``tinygrad_cnn.float32 == np.float32`` and
``t.dtype == tinygrad_cnn.float32`` both hold.  PyTorch's aliases ``float``,
``double``, ``long``, ``int`` and ``bool`` exist as attributes of the package
(``torch.long`` after ``import tinygrad_cnn as torch``) but are kept out of
``__all__`` so that ``from tinygrad_cnn import *`` does not hide Python's builtins.

The default dtype is what Python lists and scalars become (``Tensor([1, 2])``,
``zeros(3)``) and what new layers are built with; like PyTorch's it is a float dtype.
"""

from __future__ import annotations

import builtins

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

#: PyTorch's short names, for ``getattr(tinygrad_cnn, name)``.
ALIASES = {"float": float32, "double": float64, "long": int64, "int": int32, "bool": bool_,
           "float32": float32, "float64": float64, "int64": int64, "int32": int32}

_FLOATS = (float32, float64)
_default = float32


def as_dtype(value, name: str = "dtype") -> np.dtype:
    """A dtype from a numpy dtype or type, a name ('float32', 'long'), or Python's float/int/bool."""
    if value is builtins.float:
        return _default
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool_
    if isinstance(value, str) and value in ALIASES:
        return ALIASES[value]
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{name} must be a dtype such as float32, float64 or int64, got {value!r}") from None
    if value is None or dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a boolean, integer or float dtype, got {value!r}")
    return dtype


def set_default_dtype(dtype) -> None:
    """Set what lists, scalars and new layers get: float32 (the default) or float64."""
    global _default
    d = as_dtype(dtype)
    if d not in _FLOATS:
        raise TypeError(f"set_default_dtype: dtype must be float32 or float64, got {d}")
    _default = d


def get_default_dtype() -> np.dtype:
    """The dtype lists, scalars and new layers get (float32 unless set_default_dtype changed it)."""
    return _default


class device:
    """``device('cpu')``: the only device there is; ``'cpu:0'`` names the same one.

    Comparable with the string ``'cpu'``, so ``t.device == 'cpu'`` holds as in PyTorch.
    """

    __slots__ = ("type", "index")

    def __init__(self, name="cpu", index=None):
        if isinstance(name, device):
            name, index = name.type, name.index
        if not isinstance(name, str):
            raise TypeError(f"device: name must be a string such as 'cpu', got {name!r}")
        kind, _, number = name.partition(":")
        if kind != "cpu" or number not in ("", "0") or index not in (None, 0):
            raise ValueError(f"device: only 'cpu' exists (no GPU backend), got {name!r}")
        self.type, self.index = "cpu", None

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                return device(other) == self
            except (TypeError, ValueError):
                return False
        return isinstance(other, device)

    def __hash__(self):
        return hash("cpu")

    def __str__(self):
        return "cpu"

    def __repr__(self):
        return "device(type='cpu')"


CPU = device("cpu")


class _Cuda:
    """``torch.cuda`` as seen from a CPU-only build: nothing is available."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed) -> None:
        """Seeds no GPU generator (there is none), as PyTorch does without CUDA."""

    manual_seed_all = manual_seed

    @staticmethod
    def empty_cache() -> None:
        """Frees no GPU memory (there is none)."""


cuda = _Cuda()


class _Unavailable:
    """A GPU backend as seen from this CPU-only framework (``backends.mps``, ``backends.cudnn``):
    not available, and its switches (``cudnn.benchmark = True``) are accepted and change nothing."""

    def __init__(self, **switches):
        self.__dict__.update(switches)

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class _Backends:
    """``torch.backends`` for the device-selection lines of PyTorch programs."""

    def __init__(self):
        self.mps = _Unavailable()
        self.cudnn = _Unavailable(benchmark=False, deterministic=False, enabled=False)


class _Accelerator:
    """``torch.accelerator``: no accelerator here, so programs choose the CPU."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def current_accelerator():
        return None

    @staticmethod
    def device_count() -> int:
        return 0


backends = _Backends()
accelerator = _Accelerator()


def to_arguments(args, dtype=None, to_device=None):
    """The ``(dtype, device)`` that ``to(*args, dtype=, device=)`` asks for, read as PyTorch
    does: a str or :class:`device` is the device, a tensor gives its dtype, anything else is a
    dtype.  The device is checked here (only ``'cpu'`` exists)."""
    from .tensor import Tensor

    for a in args:
        if isinstance(a, (str, device)):
            to_device = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        else:
            dtype = a
    if to_device is not None:
        device(to_device)  # raises for anything but the CPU
    return dtype, to_device
