"""Argument validation for the whole package, in one place.

One policy: a value of the wrong *type* raises ``TypeError``, a value of the
right type but out of range raises ``ValueError``; every message names the
argument (and the shapes involved).  ``functional``, ``nn``, ``optim``, the
command line and the benchmark call these helpers; the Functions in ``ops``
and the compiled kernels receive arrays that already passed them.

Integers that size an allocation or index memory (strides, paddings, window
sizes, dilations) are bounded by ``MAX_EXTENT`` so that nothing overflows a
64-bit index inside a kernel and no absurd allocation is attempted.
"""

from __future__ import annotations

import numbers

import numpy as np

#: The largest stride, padding, window or dilation accepted (far beyond any image).
MAX_EXTENT = 1 << 20

#: The dtypes the compiled kernels are built for (native byte order only).
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------- scalars
def is_int(value) -> bool:
    """True for Python and numpy integers, never for ``bool``."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` within ``[minimum, maximum]``."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def positive_int(value, name: str, maximum: int | None = None) -> int:
    """An int >= 1."""
    return integer(value, name, 1, maximum)


def nonneg_int(value, name: str, maximum: int | None = None) -> int:
    """An int >= 0."""
    return integer(value, name, 0, maximum)


def real(value, name: str, low: float | None = None, high: float | None = None, *,
         low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number in the interval given by ``low``/``high`` (closed unless ``*_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "-inf" if low is None else f"{low:g}"
        right = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{left}, {right}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def boolean(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(value, name: str, choices) -> str:
    """One of the names in ``choices`` (a setting such as an optimiser or dataset name)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(map(repr, choices))}; got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def pair(value, name: str, minimum: int = 1, maximum: int | None = MAX_EXTENT) -> tuple:
    """An int or a pair of ints, each in ``[minimum, maximum]``, as a 2-tuple.

    ``maximum=None`` leaves the upper bound to a later check that knows the
    input's shape (:func:`window_geometry`), so that its message can name it.
    """
    items = (value, value) if is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(is_int(v) for v in items):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    a, b = int(items[0]), int(items[1])
    if min(a, b) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and max(a, b) > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return a, b


# --------------------------------------------------------------- convolution geometry
def padding(value, kernel: tuple, stride: tuple, dilation: tuple = (1, 1),
            maximum: int | None = MAX_EXTENT) -> tuple:
    """(top, bottom, left, right) zero padding P^d from an int, a pair or a mode name.

    ``'valid'`` is no padding, ``'full'`` is (extent − 1) on every side and ``'same'``
    (stride 1 only) keeps the size, the odd pixel of an even kernel going to the
    bottom/right as in PyTorch.  The extent of a dilated kernel is d·(k − 1) + 1.
    """
    eh = dilation[0] * (kernel[0] - 1) + 1
    ew = dilation[1] * (kernel[1] - 1) + 1
    if isinstance(value, str):
        if value == "valid":
            return 0, 0, 0, 0
        if value == "full":
            return eh - 1, eh - 1, ew - 1, ew - 1
        if value == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride {tuple(stride)}")
            return (eh - 1) // 2, eh // 2, (ew - 1) // 2, ew // 2
        raise ValueError(f"padding must be an int, a pair, 'valid', 'same' or 'full', got {value!r}")
    try:
        ph, pw = pair(value, "padding", minimum=0, maximum=maximum)
    except TypeError:
        raise TypeError(f"padding must be an int, a pair of ints or a mode name, got {value!r}") from None
    return ph, ph, pw, pw


def output_size(size: int, kernel: int, stride: int = 1, pad_total: int = 0,
                dilation: int = 1, ceil_mode: bool = False) -> int:
    """The number of window positions along one axis (the one output-size formula).

    ``floor((size + pad_total − dilation·(kernel − 1) − 1) / stride) + 1``; with
    ``ceil_mode`` the division rounds up, but (as in PyTorch) the last window must
    start inside the input or the left padding.  Returns 0 or less when no window fits.
    As in PyTorch, ceil_mode rounds a span shorter than one window (−stride < span < 0)
    up to one window hanging off the end.
    """
    span = size + pad_total - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return max(span // stride + 1, 0)
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad_total // 2:
        out -= 1
    return out


def connection(value, out_channels: int, in_channels: int, op: str = "conv2d") -> np.ndarray:
    """The connection matrix C^m as a C-contiguous ``(O, C)`` uint8 0/1 array (all ones for None)."""
    if value is None:
        return np.ones((out_channels, in_channels), dtype=np.uint8)
    m = np.asarray(value.data if hasattr(value, "data") and not isinstance(value, np.ndarray) else value)
    if m.dtype.kind not in "biuf":
        raise TypeError(f"{op}: connection must be a 0/1 array, got dtype {m.dtype}")
    if m.shape != (out_channels, in_channels):
        raise ValueError(
            f"{op}: connection must have shape (O, C) = ({out_channels}, {in_channels}), got {m.shape}"
        )
    if not np.all((m == 0) | (m == 1)):
        raise ValueError(f"{op}: connection must hold only 0 and 1")
    return np.ascontiguousarray(m, dtype=np.uint8)


# --------------------------------------------------------------- tensors and arrays
def float_dtype(dtype, name: str, shape=None) -> np.dtype:
    """Native-byte-order float32 or float64, the dtypes the kernels are compiled for."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or dtype.newbyteorder("=") not in FLOAT_DTYPES or not dtype.isnative:
        where = f" with shape {tuple(shape)}" if shape is not None else ""
        raise TypeError(f"{name} must be float32 or float64 (native byte order), got dtype {dtype}{where}")
    return dtype


def tensor(x, name: str):
    """``x`` as a Tensor (arrays, lists and scalars are wrapped)."""
    from .tensor import Tensor

    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, numbers.Number, np.generic)):
        return Tensor(x)
    raise TypeError(f"{name} must be a Tensor or array, got {type(x).__name__}")


def float_tensor(x, name: str):
    """``x`` as a float32/float64 Tensor."""
    t = tensor(x, name)
    float_dtype(t.dtype, name, t.shape)
    return t


def same_dtype(a, b, name_a: str, name_b: str, op: str) -> None:
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: {name_a} is {a.dtype} but {name_b} is {b.dtype}; cast one of them")


def axis(t, value, op: str) -> int:
    """A valid axis of ``t`` (negative counts from the end), as a non-negative int."""
    n = max(t.ndim, 1)
    if not is_int(value):
        raise TypeError(f"{op}: axis must be an int, got {value!r}")
    if not -n <= value < n:
        raise ValueError(f"{op}: axis {value!r} is out of range for shape {t.shape}")
    return int(value) % n


def as_4d(x, name: str, op: str) -> tuple:
    """View a ``(H, W)`` or ``(C, H, W)`` input as ``(N, C, H, W)``; returns it and its original rank."""
    rank(x, (2, 3, 4), name, op, "(N, C, H, W), (C, H, W) or (H, W)")
    if x.ndim == 4:
        return x, 4
    return x.reshape((1,) * (4 - x.ndim) + x.shape), x.ndim


def from_4d(z, rank: int):
    """Undo :func:`as_4d` on a result."""
    return z if rank == 4 else z.reshape(z.shape[4 - rank:])


# --------------------------------------------------------------- sizes of conv/pool arrays
#: The most elements a padded input or an output of one conv/pool call may hold
#: (2**31: 8 GiB in float32, 16 GiB in float64), far beyond any network here.
MAX_ELEMENTS = 1 << 31


def window_geometry(op: str, x_shape: tuple, kernel: tuple, stride: tuple, pad: tuple = (0, 0, 0, 0),
                    out_channels: int | None = None, dilation: tuple = (1, 1),
                    kernel_name: str = "kernel_size") -> None:
    """Refuse a conv/pool call whose extents or arrays are absurd, before anything is allocated.

    ``x_shape`` is the 4-D ``(N, C, H, W)`` input, ``kernel``, ``stride`` and
    ``dilation`` pairs, ``pad`` the ``(top, bottom, left, right)`` zero padding
    and ``out_channels`` the number of output maps (``C`` when None, as in
    pooling).  Each extent must be at most ``MAX_EXTENT`` (a stride of 2**63
    would overflow a kernel's 64-bit index) and the padded input and the output
    at most ``MAX_ELEMENTS`` elements; otherwise ``ValueError`` names the
    argument responsible and the shapes.
    """
    for name, values in (("stride", stride), ("padding", pad), ("dilation", dilation), (kernel_name, kernel)):
        if max(values) > MAX_EXTENT:
            raise ValueError(f"{op}: {name} must be <= {MAX_EXTENT}, got {tuple(values)} (x {tuple(x_shape)})")
    N, C, H, W = (int(s) for s in x_shape)
    top, bottom, left, right = pad
    padded = (N, C, H + top + bottom, W + left + right)
    if padded != (N, C, H, W) and _count(padded) > MAX_ELEMENTS:
        raise ValueError(
            f"{op}: padding {tuple(pad)} (top, bottom, left, right) makes the padded input {padded} "
            f"hold {_count(padded):,} elements, more than the {MAX_ELEMENTS:,} allowed (x {tuple(x_shape)})"
        )
    out = (
        N,
        C if out_channels is None else int(out_channels),
        max(output_size(H, kernel[0], stride[0], top + bottom, dilation[0]), 0),
        max(output_size(W, kernel[1], stride[1], left + right, dilation[1]), 0),
    )
    if _count(out) > MAX_ELEMENTS:
        raise ValueError(
            f"{op}: the output {out} would hold {_count(out):,} elements, more than the "
            f"{MAX_ELEMENTS:,} allowed (x {tuple(x_shape)}, {kernel_name} {tuple(kernel)}, "
            f"stride {tuple(stride)}, padding {tuple(pad)})"
        )


def _count(shape: tuple) -> int:
    """Elements of ``shape``, in Python ints (no overflow)."""
    n = 1
    for s in shape:
        n *= int(s)
    return n


def rank(x, ranks: tuple, name: str, op: str, layout: str) -> None:
    """``x.ndim`` must be one of ``ranks``; ``layout`` spells the accepted shapes for the message."""
    if x.ndim not in ranks:
        raise ValueError(f"{op}: {name} must be {layout}, got {x.ndim}-D shape {x.shape}")


def positive_shape(value, name: str, length: int, op: str) -> tuple:
    """A tuple/list of ``length`` ints, each >= 1 (e.g. the ``(C, H, W)`` of ``unvec``)."""
    if not isinstance(value, (tuple, list)) or not all(is_int(s) for s in value):
        raise TypeError(f"{op}: {name} must be a tuple of {length} positive ints, got {value!r}")
    if len(value) != length or min(value, default=0) < 1:
        raise ValueError(f"{op}: {name} must be a tuple of {length} positive ints, got {value!r}")
    return tuple(int(s) for s in value)


def class_labels(labels, logits_shape: tuple, op: str) -> np.ndarray:
    """Integer class indices ``(N,)`` in ``[0, classes)`` for ``(N, classes)`` logits, as int64."""
    lab = labels.data if hasattr(labels, "data") and not isinstance(labels, np.ndarray) else np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise TypeError(f"{op}: labels must be integer class indices, got dtype {lab.dtype} with shape {lab.shape}")
    n, n_classes = logits_shape
    if lab.ndim != 1 or lab.shape[0] != n:
        raise ValueError(f"{op}: labels must have shape ({n},) to match logits {logits_shape}, got {lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= n_classes):
        bad = lab[(lab < 0) | (lab >= n_classes)]
        raise ValueError(
            f"{op}: labels must lie in [0, {n_classes - 1}] for logits {logits_shape}, got {bad[:5].tolist()}"
        )
    if n == 0:
        raise ValueError(f"{op}: empty batch (logits shape {logits_shape})")
    return lab.astype(np.int64, copy=False)



# --------------------------------------------------------------- shapes of the core tensor ops
def matmul_shapes(a_shape: tuple, b_shape: tuple) -> None:
    """``a @ b`` by numpy's rules: 1-D operands allowed, inner sizes equal, batch axes broadcast."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {a_shape} and {b_shape}")
    ka = a_shape[-1]
    kb = b_shape[-2] if len(b_shape) >= 2 else b_shape[0]
    if ka != kb:
        raise ValueError(
            f"matmul: inner dimensions differ: a has shape {a_shape} (last axis {ka}), "
            f"b has shape {b_shape} ({'second-to-last' if len(b_shape) >= 2 else 'only'} axis {kb})"
        )
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of a {a_shape} and b {b_shape} do not broadcast") from None


def reshape_target(shape: tuple, target) -> tuple:
    """``target`` as a tuple of ints (at most one −1) holding exactly the elements of ``shape``."""
    target = (target,) if is_int(target) else tuple(target)
    if not all(is_int(s) for s in target):
        raise TypeError(f"reshape: the new shape must be ints, got {target!r}")
    size = int(np.prod(shape, dtype=np.int64))
    known = int(np.prod([s for s in target if s != -1], dtype=np.int64))
    unknown = sum(1 for s in target if s == -1)
    fits = known == size if unknown == 0 else (unknown == 1 and known > 0 and size % known == 0)
    if not fits or any(s < -1 for s in target):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} ({size} elements) into {target}")
    return tuple(int(s) for s in target)


def permutation(axes, shape: tuple):
    """``axes`` as a tuple permuting the axes of ``shape`` (negative allowed), or None (reverse)."""
    if axes is None:
        return None
    n = max(len(shape), 1)
    if not all(is_int(a) for a in axes):
        raise TypeError(f"transpose: axes must be ints, got {axes!r}")
    if sorted(int(a) % n for a in axes) != list(range(len(shape))) or not all(-n <= a < n for a in axes):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the {len(shape)} axes of shape {shape}")
    return tuple(int(a) % n for a in axes)


def reduce_axes(axis, shape: tuple, op: str, nonempty: bool = False) -> tuple:
    """``axis`` (None, an int or ints) as a sorted tuple of distinct non-negative axes of ``shape``."""
    ndim = len(shape)
    if axis is None:
        axes = tuple(range(ndim))
    else:
        items = (axis,) if is_int(axis) else tuple(axis) if isinstance(axis, (tuple, list)) else None
        if items is None or not all(is_int(a) for a in items):
            raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
        for a in items:
            if not -ndim <= a < max(ndim, 1):
                raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        axes = tuple(sorted(int(a) % max(ndim, 1) for a in items))
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: axis {axis} repeats an axis")
    if nonempty and any(shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot reduce over an empty axis of shape {shape}")
    return axes


def index_arrays(index) -> None:
    """Arrays inside an index must hold integers or booleans."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, np.ndarray) and part.dtype.kind not in "iub":
            raise TypeError(f"index arrays must be integer or boolean, got dtype {part.dtype}")


# --------------------------------------------------------------- PyTorch-style dims and sizes
def dim(value, ndim: int, op: str, name: str = "dim", extra: int = 0) -> int:
    """One dimension of an ``ndim``-D tensor as a non-negative int (negative counts from the end).

    ``extra=1`` allows the position one past the last (``unsqueeze``'s range).  A 0-d
    tensor accepts 0 and -1, as PyTorch does.
    """
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {value!r} ({type(value).__name__})")
    n = max(ndim + extra, 1)
    if not -n <= value < n:
        raise ValueError(f"{op}: {name} {value} is out of range for a {ndim}-D tensor (expected [{-n}, {n - 1}])")
    return int(value) % n


def dims(value, ndim: int, op: str, name: str = "dim"):
    """None, an int or a sequence of ints as a sorted tuple of distinct dimensions of an
    ``ndim``-D tensor; ``None`` stays ``None`` (all dimensions).  On a 0-d tensor the
    dimensions 0 and -1 name the tensor itself and give ``()``."""
    if value is None:
        return None
    items = (value,) if is_int(value) else value
    if not isinstance(items, (tuple, list)) or not all(is_int(v) for v in items):
        raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {value!r}")
    out = [dim(v, ndim, op, name) for v in items]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: {name} {value!r} names a dimension twice")
    return () if ndim == 0 else tuple(sorted(out))


def size_args(args: tuple, op: str, name: str = "size", allow_infer: bool = False) -> tuple:
    """The sizes of ``f(2, 3)`` or ``f((2, 3))`` as a tuple of ints (>= 0, or -1 where the
    size is inferred and ``allow_infer``)."""
    items = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
    if not all(is_int(v) for v in items):
        raise TypeError(f"{op}: {name} must be ints or one tuple of ints, got {args!r}")
    low = -1 if allow_infer else 0
    if any(v < low for v in items):
        raise ValueError(f"{op}: {name} must not be negative{' (except one -1)' if allow_infer else ''}, got {items}")
    return tuple(int(v) for v in items)


# --------------------------------------------------------------- pooling options
def pool_padding(value, kernel: tuple, op: str) -> tuple:
    """Pooling padding ``(ph, pw)`` from an int or a pair: >= 0 and at most half the window, as PyTorch."""
    ph, pw = pair(value, "padding", minimum=0)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half of kernel_size {tuple(kernel)} on each axis")
    return ph, pw


def pool_output(op: str, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple = (0, 0),
                dilation: tuple = (1, 1), ceil_mode: bool = False) -> tuple:
    """The ``(Ho, Wo)`` of a pooling; ``ValueError`` when no window fits or the arrays are absurd."""
    H, W = x_shape[2:]
    ph, pw = padding
    out = (output_size(H, kernel[0], stride[0], 2 * ph, dilation[0], ceil_mode),
           output_size(W, kernel[1], stride[1], 2 * pw, dilation[1], ceil_mode))
    window_geometry(op, x_shape, kernel, stride, (ph, ph, pw, pw), dilation=dilation)
    if min(out) < 1:
        extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{op}: kernel_size {tuple(kernel)} is larger than the input's spatial size ({H}, {W})"
            + (f" padded by {tuple(padding)}" if padding != (0, 0) else "")
            + (f" (dilated extent {extent})" if dilation != (1, 1) else "") + f" (x {tuple(x_shape)})"
        )
    return out


def adaptive_output_size(value, in_hw: tuple, op: str) -> tuple:
    """An adaptive pooling's ``output_size``: an int, or a pair whose ``None`` entries keep the input's size."""
    items = (value, value) if is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(v is None or is_int(v) for v in items):
        raise TypeError(f"{op}: output_size must be an int or a pair of ints (None keeps that size), got {value!r}")
    out = tuple(int(size) if v is None else int(v) for v, size in zip(items, in_hw))
    if min(out) < 1 or max(out) > MAX_EXTENT:
        raise ValueError(f"{op}: output_size must lie in [1, {MAX_EXTENT}], got {value!r}")
    return out


def unpool_output_size(value, default_hw: tuple, stride: tuple, op: str) -> tuple:
    """``max_unpool2d``'s output size: the default ``(H−1)·S − 2P + k`` or ``output_size`` (its last two
    entries), each strictly within one stride of the default, as PyTorch."""
    if value is None:
        out = default_hw
    else:
        items = tuple(value) if isinstance(value, (tuple, list)) else None
        if items is None or len(items) not in (2, 3, 4) or not all(is_int(v) for v in items):
            raise TypeError(f"{op}: output_size must be a tuple of ints (H, W), (C, H, W) or (N, C, H, W), "
                            f"got {value!r}")
        out = tuple(int(v) for v in items[-2:])
    for size, default, s in zip(out, default_hw, stride):
        if not default - s < size < default + s or size < 1:
            raise ValueError(f"{op}: output_size {tuple(out)} must lie strictly between "
                             f"{tuple(d - t for d, t in zip(default_hw, stride))} and "
                             f"{tuple(d + t for d, t in zip(default_hw, stride))} (default {tuple(default_hw)})")
    return out


def unpool_indices(indices, x_shape: tuple, out_hw: tuple, op: str) -> np.ndarray:
    """Max-pooling indices for ``max_unpool2d``: an integer array of ``x``'s shape, each in ``[0, Ho·Wo)``."""
    idx = indices.data if hasattr(indices, "data") and not isinstance(indices, np.ndarray) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer array, got dtype {idx.dtype} with shape {idx.shape}")
    if idx.shape != tuple(x_shape):
        raise ValueError(f"{op}: indices must have the shape of x {tuple(x_shape)}, got {idx.shape}")
    limit = out_hw[0] * out_hw[1]
    if idx.size and (idx.min() < 0 or idx.max() >= limit):
        raise ValueError(f"{op}: indices must lie in [0, {limit - 1}] for an output of size {tuple(out_hw)}, "
                         f"got values from {idx.min()} to {idx.max()}")
    return np.ascontiguousarray(idx, dtype=np.int64)


# --------------------------------------------------------------- loss options
REDUCTIONS = ("none", "mean", "sum")


def class_weight(weight, n_classes: int, dtype, op: str, name: str = "weight"):
    """A per-class rescaling ``(C,)`` as an array of ``dtype`` (None stays None)."""
    if weight is None:
        return None
    w = weight.data if hasattr(weight, "data") and not isinstance(weight, np.ndarray) else np.asarray(weight)
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{op}: {name} must be a float array of shape ({n_classes},), got dtype {w.dtype}")
    if w.shape != (n_classes,):
        raise ValueError(f"{op}: {name} must have shape ({n_classes},), one per class, got {w.shape}")
    return w.astype(dtype)


def class_targets(target, logits_shape: tuple, op: str, ignore_index: int, probabilities: bool = True):
    """Split a classification ``target`` into class indices or class probabilities.

    Class indices: integers of ``logits_shape`` without the class axis (axis 1, or
    axis 0 of unbatched ``(C,)`` logits), each in ``[0, C)`` or equal to
    ``ignore_index``; returned as ``("index", int64 array)``.  Class probabilities
    (``probabilities=True``): floats of ``logits_shape``; returned as
    ``("probs", Tensor)``.
    """
    t = tensor(target, "target")
    class_axis = 0 if len(logits_shape) == 1 else 1
    n_classes = logits_shape[class_axis]
    index_shape = logits_shape[:class_axis] + logits_shape[class_axis + 1:]
    if t.dtype.kind == "f" and probabilities:
        if t.shape != tuple(logits_shape):
            if t.shape == index_shape:
                raise TypeError(f"{op}: target must be integer class indices of shape {index_shape} or class "
                                f"probabilities of shape {tuple(logits_shape)}, got dtype {t.dtype} with shape {t.shape}")
            raise ValueError(f"{op}: class-probability target must have the shape of logits {tuple(logits_shape)}, "
                             f"got {t.shape}")
        float_dtype(t.dtype, "target", t.shape)
        return "probs", t
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must be integer class indices, got dtype {t.dtype} with shape {t.shape}")
    if t.shape != index_shape:
        raise ValueError(f"{op}: target must have shape {index_shape} for logits {tuple(logits_shape)}, got {t.shape}")
    lab = t.data.astype(np.int64, copy=False)
    bad = lab[((lab < 0) | (lab >= n_classes)) & (lab != ignore_index)]
    if bad.size:
        raise ValueError(f"{op}: target must hold class indices in [0, {n_classes - 1}] (or ignore_index "
                         f"{ignore_index}) for logits {tuple(logits_shape)}, got {bad[:5].tolist()}")
    return "index", lab


def broadcast_weight(value, shape: tuple, dtype, name: str, op: str):
    """An elementwise loss rescaling (``weight``, ``pos_weight``) as an array of ``dtype`` that
    broadcasts to ``shape`` without growing it (None stays None)."""
    if value is None:
        return None
    w = tensor(value, name).data
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{op}: {name} must be a float array, got dtype {w.dtype} with shape {w.shape}")
    try:
        fits = tuple(np.broadcast_shapes(w.shape, tuple(shape))) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {w.shape} does not broadcast to the input's shape {tuple(shape)}")
    return w.astype(dtype)
