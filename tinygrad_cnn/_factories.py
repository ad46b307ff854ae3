"""Package-level functions under PyTorch's names: making tensors, joining them, choosing elements.

``tinygrad_cnn.tensor([0, 1, 2])`` infers its dtype as PyTorch does (Python ints
give int64, bools bool, floats the default dtype), unlike ``Tensor([0, 1, 2])``,
which always makes floats.  Random draws come from the package's one generator
(``manual_seed``).  Every function that has a Tensor method of the same name
(``sum``, ``exp``, ``transpose``, ...) also exists at package level as ``f(x, ...)`` =
``x.f(...)`` (see ``_functions.py``).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _checks
from . import _dtypes
from ._random import get_rng, manual_seed
from .tensor import Tensor

__all__ = [
    "tensor", "as_tensor", "from_numpy", "is_tensor", "zeros", "ones", "empty", "full", "zeros_like",
    "ones_like", "full_like", "rand_like", "randn_like", "arange", "linspace", "randn", "rand", "randint",
    "randperm", "manual_seed", "cat", "concat", "stack", "where", "maximum", "minimum", "numel", "eye",
]


def _dtype_or(dtype, fallback) -> np.dtype:
    return fallback if dtype is None else _dtypes.as_dtype(dtype)


def _make(arr: np.ndarray, requires_grad, device) -> Tensor:
    if device is not None:
        _dtypes.device(device)
    return Tensor(arr, requires_grad=_checks.boolean(requires_grad, "requires_grad"))


# --------------------------------------------------------------- from data
def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (a nested list, a scalar, a numpy array or a Tensor).

    Without ``dtype``: numpy arrays keep theirs, Python ints give int64, bools bool and
    floats the default dtype (float32), as PyTorch infers them.
    """
    if isinstance(data, Tensor):
        arr = data.data.copy()
    elif isinstance(data, np.ndarray):
        arr = data.copy()
    else:
        arr = np.array(data)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(f"tensor: data must be numbers, nested lists of numbers or an array, got {type(data).__name__}")
        if arr.dtype.kind == "f":
            arr = arr.astype(_dtypes.get_default_dtype())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(_dtypes.as_dtype(dtype))
    elif arr.dtype.kind == "f" and arr.dtype not in (_dtypes.float32, _dtypes.float64):
        arr = arr.astype(np.float32)
    return _make(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` itself when it is already a Tensor of that dtype, else :func:`tensor` of it
    (a numpy array of a kept dtype is shared, not copied)."""
    if isinstance(data, Tensor) and (dtype is None or _dtypes.as_dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and dtype is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """A tensor sharing ``array``'s memory (float32/float64/integer/bool arrays keep their dtype)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return Tensor(array)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(x) -> int:
    return _checks.tensor(x, "input").numel()


# --------------------------------------------------------------- filled
def _shape(args: tuple, size, op: str) -> tuple:
    """The shape of ``f(2, 3)``, ``f((2, 3))`` or PyTorch's ``f(size=(2, 3))``."""
    if size is not None:
        if args:
            raise TypeError(f"{op}: give the size positionally or as size=, not both (got {args!r} and {size!r})")
        args = (size,)
    return _checks.size_args(args, op)


def eye(n, m=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """The ``n × m`` identity matrix (``m`` defaults to ``n``), as ``torch.eye``."""
    n = _checks.nonneg_int(n, "eye: n")
    m = n if m is None else _checks.nonneg_int(m, "eye: m")
    return _make(np.eye(n, m, dtype=_dtype_or(dtype, _dtypes.get_default_dtype())), requires_grad, device)


def zeros(*args, size=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    shape = _shape(args, size, "zeros")
    return _make(np.zeros(shape, _dtype_or(dtype, _dtypes.get_default_dtype())), requires_grad, device)


def ones(*args, size=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    shape = _shape(args, size, "ones")
    return _make(np.ones(shape, _dtype_or(dtype, _dtypes.get_default_dtype())), requires_grad, device)


empty = zeros  # an "uninitialised" tensor is a zeroed one here: nothing reads stale memory


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (int gives int64, bool bool, float the default dtype)."""
    shape = _checks.size_args((size,), "full")
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = _dtypes.bool_
        elif _checks.is_int(fill_value):
            dtype = _dtypes.int64
        elif isinstance(fill_value, (numbers.Real, np.floating)):
            dtype = _dtypes.get_default_dtype()
        else:
            raise TypeError(f"full: fill_value must be a number, got {fill_value!r}")
    return _make(np.full(shape, fill_value, _dtypes.as_dtype(dtype)), requires_grad, device)


def _like(x, name: str):
    return _checks.tensor(x, name)


def zeros_like(input, dtype=None, requires_grad=False, device=None) -> Tensor:
    x = _like(input, "input")
    return _make(np.zeros(x.shape, _dtype_or(dtype, x.dtype)), requires_grad, device)


def ones_like(input, dtype=None, requires_grad=False, device=None) -> Tensor:
    x = _like(input, "input")
    return _make(np.ones(x.shape, _dtype_or(dtype, x.dtype)), requires_grad, device)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    x = _like(input, "input")
    return _make(np.full(x.shape, fill_value, _dtype_or(dtype, x.dtype)), requires_grad, device)


def rand_like(input, dtype=None, requires_grad=False, device=None) -> Tensor:
    x = _like(input, "input")
    return rand(x.shape, dtype=_dtype_or(dtype, x.dtype), requires_grad=requires_grad, device=device)


def randn_like(input, dtype=None, requires_grad=False, device=None) -> Tensor:
    x = _like(input, "input")
    return randn(x.shape, dtype=_dtype_or(dtype, x.dtype), requires_grad=requires_grad, device=device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    """start, start + step, ... up to but excluding ``end`` (``arange(n)`` is 0..n-1).
    All-integer arguments give int64, otherwise the default dtype."""
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        _checks.real(v, name)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    ints = all(_checks.is_int(v) for v in (start, end, step))
    default = _dtypes.int64 if ints else _dtypes.get_default_dtype()
    arr = np.arange(start, end, step, dtype=np.int64 if ints else np.float64)
    return _make(arr.astype(_dtype_or(dtype, default)), requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    _checks.real(start, "start"), _checks.real(end, "end")
    n = _checks.nonneg_int(steps, "steps")
    arr = np.linspace(start, end, n)
    return _make(arr.astype(_dtype_or(dtype, _dtypes.get_default_dtype())), requires_grad, device)


# --------------------------------------------------------------- random (the package generator)
def _generator(generator) -> np.random.Generator:
    """The package generator, a given ``np.random.Generator``, or a fresh one seeded by an int."""
    if generator is None:
        return get_rng()
    if isinstance(generator, np.random.Generator):
        return generator
    if _checks.is_int(generator):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy Generator, got {generator!r}")


def randn(*args, size=None, dtype=None, requires_grad=False, device=None, generator=None) -> Tensor:
    """Standard normal draws (mean 0, variance 1) of ``size`` from the package generator."""
    shape = _shape(args, size, "randn")
    dtype = _dtype_or(dtype, _dtypes.get_default_dtype())
    _checks.float_dtype(dtype, "randn: dtype")
    return _make(_generator(generator).standard_normal(shape).astype(dtype), requires_grad, device)


def rand(*args, size=None, dtype=None, requires_grad=False, device=None, generator=None) -> Tensor:
    """Uniform draws from [0, 1) of ``size`` from the package generator."""
    shape = _shape(args, size, "rand")
    dtype = _dtype_or(dtype, _dtypes.get_default_dtype())
    _checks.float_dtype(dtype, "rand: dtype")
    return _make(_generator(generator).random(shape).astype(dtype), requires_grad, device)


def randint(*args, size=None, dtype=None, requires_grad=False, device=None, generator=None) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (``size`` a tuple, positional or keyword); int64 unless ``dtype`` says otherwise."""
    if size is None:
        if not args:
            raise TypeError("randint: missing size")
        args, size = args[:-1], args[-1]
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args)} bounds")
    low, high = _checks.integer(low, "low"), _checks.integer(high, "high")
    if high <= low:
        raise ValueError(f"randint: high must be greater than low, got low={low}, high={high}")
    shape = _checks.size_args((size,), "randint")
    draws = _generator(generator).integers(low, high, size=shape, dtype=np.int64)
    return _make(draws.astype(_dtype_or(dtype, _dtypes.int64)), requires_grad, device)


def randperm(n, dtype=None, requires_grad=False, device=None, generator=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    n = _checks.nonneg_int(n, "n")
    perm = _generator(generator).permutation(n).astype(np.int64)
    return _make(perm.astype(_dtype_or(dtype, _dtypes.int64)), requires_grad, device)


# --------------------------------------------------------------- joining and choosing
def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: tensors must be a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: tensors[{i}] must be a Tensor, got {type(t).__name__}")
    return list(tensors)


def cat(tensors, dim=0, *, axis=None) -> Tensor:
    """Join tensors along an existing dimension ``dim``; all other sizes must agree."""
    ts = _tensor_list(tensors, "cat")
    dim = dim if axis is None else axis
    # PyTorch's legacy rule: 1-D empty tensors, shape (0,), are left out when the others have more dimensions
    if any(t.shape == (0,) for t in ts) and any(t.ndim > 1 for t in ts):
        ts = [t for t in ts if t.shape != (0,)]
    ndim = ts[0].ndim
    if ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = _checks.dim(dim, ndim, "cat")
    for i, t in enumerate(ts):
        if t.ndim != ndim or t.shape[:d] + t.shape[d + 1:] != ts[0].shape[:d] + ts[0].shape[d + 1:]:
            raise ValueError(f"cat: tensors[{i}] has shape {t.shape} but tensors[0] has shape {ts[0].shape}; "
                             f"sizes must match except in dimension {dim}")
    return S.Cat.apply(*ts, axis=d)


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None) -> Tensor:
    """Join equally shaped tensors along a new dimension ``dim``."""
    ts = _tensor_list(tensors, "stack")
    dim = dim if axis is None else axis
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensors[{i}] has shape {t.shape} but tensors[0] has shape {ts[0].shape}")
    d = _checks.dim(dim, ts[0].ndim, "stack", extra=1)
    return S.Cat.apply(*[t.unsqueeze(d) for t in ts], axis=d)


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` holds, else ``other`` (broadcast); the gradient flows to the
    chosen element only.  ``condition`` is a boolean Tensor or array."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a boolean tensor, got dtype {cond.dtype}")
    a, b = input, other
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    a = a if isinstance(a, Tensor) else b._wrap(a)
    b = b if isinstance(b, Tensor) else a._wrap(b)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: condition {cond.shape}, input {a.shape} and other {b.shape} do not broadcast") from None
    return S.Where.apply(a, b, cond=cond)


def maximum(input, other) -> Tensor:
    return _checks.tensor(input, "input").maximum(other)


def minimum(input, other) -> Tensor:
    return _checks.tensor(input, "input").minimum(other)


from .ops import shape as S  # noqa: E402
