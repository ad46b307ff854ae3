"""Tensors and arrays: float dtypes, ranks and shapes of the core ops, dims, labels and the
loss options."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .scalars import FLOAT_DTYPES, MAX_EXTENT, is_int


# --------------------------------------------------------------- tensors and arrays
_F32, _F64 = FLOAT_DTYPES
def float_dtype(dtype, name: str, shape=None) -> np.dtype:
    """Native-byte-order float32 or float64, the dtypes the kernels are compiled for."""
    if dtype is _F32 or dtype is _F64:  # numpy's own dtype objects: nothing to check
        return dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or dtype.newbyteorder("=") not in FLOAT_DTYPES or not dtype.isnative:
        where = f" with shape {tuple(shape)}" if shape is not None else ""
        raise TypeError(f"{name} must be float32 or float64 (native byte order), got dtype {dtype}{where}")
    return dtype


_Tensor = None  # the Tensor class, imported on first use (tensor.py imports this package)


def tensor(x, name: str):
    """``x`` as a Tensor (arrays, lists and scalars are wrapped)."""
    global _Tensor
    if _Tensor is None:
        from ..tensor import Tensor as _Tensor
    Tensor = _Tensor
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
    size = math.prod(shape)
    known = math.prod(int(s) for s in target if s != -1)
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


# --------------------------------------------------------------- per-channel vectors, pads, classes
def channel_vector(v, channels: int, name: str, op: str, like=None):
    """``v`` as a float Tensor of shape ``(channels,)`` (batch norm's weight, bias, running
    statistics); with ``like`` it must also share that tensor's dtype."""
    v = float_tensor(v, f"{op}: {name}")
    if v.shape != (channels,):
        raise ValueError(f"{op}: {name} must have shape ({channels},) for {channels} channels, got {v.shape}")
    if like is not None:
        same_dtype(like, v, "input", name, op)
    return v


def channel_weight(w, x, name: str, op: str):
    """A per-channel coefficient such as PReLU's weight: a float Tensor of ``x``'s dtype, 0-D or
    1-D, with 1 entry (shared by every channel) or one per channel (axis 1 of ``x``; an input
    of rank 0 or 1 has one channel)."""
    w = float_tensor(w, f"{op}: {name}")
    same_dtype(x, w, "input", name, op)
    if w.ndim > 1:
        raise ValueError(f"{op}: {name} must be a scalar or 1-D tensor, got {w.ndim}-D shape {w.shape}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.data.size != 1 and w.data.size != channels:
        wanted = f"1 entry or {channels} (one per channel, axis 1)" if x.ndim >= 2 else "1 entry (one channel)"
        raise ValueError(f"{op}: {name} must have {wanted} for input {x.shape}, got shape {w.shape}")
    return w


def pad_widths(pad, shape: tuple, op: str = "pad") -> tuple:
    """PyTorch's pad tuple (last axis first: ``(left, right, top, bottom, ...)``) as per-axis
    ``(crop slices, (before, after) widths)``; negative entries crop.  The result must keep
    every axis at a size >= 0."""
    if not isinstance(pad, (tuple, list)) or not all(is_int(p) for p in pad):
        raise TypeError(f"{op}: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise ValueError(
            f"{op}: pad must hold an even number of ints, at most 2 per dimension of the input {shape}; "
            f"got {len(pad)}: {tuple(pad)}"
        )
    crop, widths = [slice(None)] * len(shape), [(0, 0)] * len(shape)
    for k in range(len(pad) // 2):
        axis_ = len(shape) - 1 - k
        before, after = int(pad[2 * k]), int(pad[2 * k + 1])
        size = shape[axis_]
        if size + before + after < 0 or max(before, after) > MAX_EXTENT:
            raise ValueError(f"{op}: pad {tuple(pad)} gives dimension {axis_} of {shape} a size of {size + before + after}")
        crop[axis_] = slice(max(-before, 0), size - max(-after, 0))
        widths[axis_] = (max(before, 0), max(after, 0))
    return tuple(crop), tuple(widths)


def pad_sizes(padding, dims: int, op: str) -> tuple:
    """A padding layer's ``padding``: an int for every side, or ``2 * dims`` ints in PyTorch's
    order (last dimension first: left, right, top, bottom, front, back); as a tuple."""
    if is_int(padding):
        if abs(int(padding)) > MAX_EXTENT:
            raise ValueError(f"{op}: padding must lie in [-{MAX_EXTENT}, {MAX_EXTENT}], got {padding}")
        return (int(padding),) * (2 * dims)
    if not isinstance(padding, (tuple, list)) or not all(is_int(p) for p in padding):
        raise TypeError(f"{op}: padding must be an int or a tuple of {2 * dims} ints, got {padding!r}")
    if len(padding) != 2 * dims:
        raise ValueError(f"{op}: padding must be an int or a tuple of {2 * dims} ints, got {len(padding)}: "
                         f"{tuple(padding)}")
    if max(abs(int(p)) for p in padding) > MAX_EXTENT:
        raise ValueError(f"{op}: padding must lie in [-{MAX_EXTENT}, {MAX_EXTENT}], got {tuple(padding)}")
    return tuple(int(p) for p in padding)


#: ``F.pad``'s modes that repeat the input's own values (PyTorch's names).
PAD_MODES = ("reflect", "replicate", "circular")


def pad_mode_widths(pad, shape: tuple, mode: str, value, op: str = "pad") -> tuple:
    """PyTorch's pad tuple for a ``mode`` in :data:`PAD_MODES`, as ``(before, after)`` for
    each of the last ``len(pad) // 2`` axes (first axis first).

    As in PyTorch: 1, 2 or 3 padded axes on an input of that many axes plus one or two
    (channels, or batch and channels); no ``value`` other than 0.  Per padded axis of
    size n, pads (b, a): ``'reflect'`` needs b < n and a < n (the edge is not repeated),
    ``'replicate'`` n >= 1, both an output size n + b + a >= 0 and no empty axis but the
    batch's; ``'circular'`` needs b, a <= the size left after negative pads crop (wrapping
    around once at most: beyond that PyTorch's results read memory it never wrote).
    """
    if not isinstance(pad, (tuple, list)) or not all(is_int(p) for p in pad):
        raise TypeError(f"{op}: pad must be a tuple of ints, got {pad!r}")
    k = len(pad) // 2
    shape = tuple(shape)
    if len(pad) % 2 or k not in (1, 2, 3) or len(shape) not in (k + 1, k + 2):
        raise ValueError(
            f"{op}: mode {mode!r} pads the last 1, 2 or 3 dimensions of an input with 1 or 2 more "
            f"(pad of 2 ints: 2-D or 3-D input; 4 ints: 3-D or 4-D; 6 ints: 4-D or 5-D); "
            f"got {len(pad)} ints {tuple(pad)} for input {shape}")
    if value is not None and not (isinstance(value, numbers.Real) and value == 0):
        raise ValueError(f"{op}: mode {mode!r} takes no value (it repeats the input's own), got value={value!r}")
    batch = len(shape) == k + 2
    if mode != "circular" and 0 in shape[batch:]:
        raise ValueError(f"{op}: mode {mode!r} needs every dimension but the batch's non-empty, got input {shape}")
    widths = []
    for axis in range(len(shape) - k, len(shape)):
        n = shape[axis]
        at = 2 * (len(shape) - 1 - axis)
        b, a = int(pad[at]), int(pad[at + 1])
        if max(b, a) > MAX_EXTENT:
            raise ValueError(f"{op}: pad {tuple(pad)} is larger than {MAX_EXTENT}")
        where = f"dimension {axis} of input {shape}"
        if mode == "reflect" and not (b < n and a < n):
            raise ValueError(f"{op}: 'reflect' pads must be less than the size they reflect, "
                             f"got ({b}, {a}) for {where}")
        kept = n - max(-b, 0) - max(-a, 0)  # what is left after negative pads crop
        if mode == "circular" and not (kept >= 0 and max(b, a) <= kept):
            raise ValueError(f"{op}: 'circular' pads must be at most the size they wrap (after any "
                             f"negative pad crops it: wrapping around once at most), got ({b}, {a}) "
                             f"for {where}")
        if n + b + a < 0:
            raise ValueError(f"{op}: pad ({b}, {a}) leaves {where} a size of {n + b + a}")
        widths.append((b, a))
    return tuple(widths)


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
    lab = np.array(t.data, dtype=np.int64)  # a copy: the backward pass reads it after the caller may change theirs
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


#: ``kl_div``'s reductions: the three above and ``'batchmean'`` (the sum over the batch size).
KL_REDUCTIONS = REDUCTIONS + ("batchmean",)


def loss_operand(value, name: str, op: str):
    """A loss's real-valued argument (a target, a variance, labels of ±1) as a Tensor; the caller
    casts it to the input's dtype once every check has passed."""
    if isinstance(value, (np.ndarray, list, tuple)) and np.asarray(value).dtype.kind not in "fiub":
        raise TypeError(f"{op}: {name} must hold real numbers, got dtype {np.asarray(value).dtype} with shape "
                        f"{np.shape(value)}")
    t = tensor(value, f"{op}: {name}")
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {name} must hold real numbers, got dtype {t.dtype} with shape {t.shape}")
    return t


def _listed(shapes: dict) -> str:
    return ", ".join(f"{name} of shape {tuple(shape)}" for name, shape in shapes.items())


def same_shapes(shapes: dict, op: str) -> tuple:
    """The one shape that every named argument has (``{name: shape}``); a ``ValueError`` naming
    them all otherwise."""
    first = tuple(next(iter(shapes.values())))
    if any(tuple(s) != first for s in shapes.values()):
        raise ValueError(f"{op}: {_listed(shapes)} must have the same shape")
    return first


def same_ndim(shapes: dict, op: str) -> int:
    """The one number of dimensions every named argument has (their sizes may still broadcast)."""
    ranks = {len(s) for s in shapes.values()}
    if len(ranks) != 1:
        raise ValueError(f"{op}: {_listed(shapes)} must have the same number of dimensions")
    return ranks.pop()


def broadcast_shapes(shapes: dict, op: str, fixed: str | None = None) -> tuple:
    """The shape the named arguments broadcast to, by numpy's and PyTorch's rules; with ``fixed``
    (one of the names) that argument's shape must not grow."""
    try:
        out = tuple(np.broadcast_shapes(*(tuple(s) for s in shapes.values())))
    except ValueError:
        raise ValueError(f"{op}: {_listed(shapes)} do not broadcast") from None
    if fixed is not None and out != tuple(shapes[fixed]):
        raise ValueError(f"{op}: {_listed(shapes)} must broadcast to the shape of {fixed}, "
                         f"{tuple(shapes[fixed])}, without growing it (they give {out})")
    return out


def values_in(t, name: str, op: str, low: float, high: float) -> None:
    """Every element of the Tensor ``t`` lies in ``[low, high]`` (NaN does not)."""
    a = t.data
    inside = (a >= low) & (a <= high)
    if not inside.all():
        bad = a[~inside]
        raise ValueError(f"{op}: every element of {name} must lie in [{low:g}, {high:g}], got "
                         f"{bad[:5].tolist()} in {name} of shape {t.shape}")


def gaussian_variance(var, input_shape: tuple, op: str, dtype):
    """``gaussian_nll_loss``'s ``var`` as a Tensor that broadcasts to the input, by PyTorch's rule.

    A number stands for every element (a constant).  A tensor has the input's shape
    (one variance per element), or the input's shape without its last dimension (one per
    row: a trailing axis of 1 is added), or the input's shape with one dimension of size 1
    (shared along it).  No entry may be negative.  A number becomes an array of ``dtype``; the
    caller casts a tensor once every check has passed.
    """
    input_shape = tuple(input_shape)
    if isinstance(var, numbers.Real) and not isinstance(var, (bool, np.bool_)):
        if var < 0:
            raise ValueError(f"{op}: var must not be negative, got {var!r}")
        return tensor(np.full(input_shape, var, dtype=dtype), "var")
    v = loss_operand(var, "var", op)
    if (v.data < 0).any():
        raise ValueError(f"{op}: var must not be negative, got entries such as {v.data[v.data < 0][:5].tolist()}")
    if v.shape == input_shape:
        return v
    if v.shape == input_shape[:-1]:
        return v.reshape(v.shape + (1,))
    mismatched = [s for s, n in zip(v.shape, input_shape) if s != n]
    if v.ndim == len(input_shape) and sum(mismatched) == 1:
        return v
    raise ValueError(f"{op}: var of shape {v.shape} does not fit input of shape {input_shape}: give the input's "
                     f"shape, the input's shape without its last dimension, or the input's shape with one "
                     f"dimension of size 1")
