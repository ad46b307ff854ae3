"""Padding and one-hot encoding, PyTorch's ``F.pad`` (every mode) and ``F.one_hot``."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..ops import shape as _shape
from ..tensor import Tensor

__all__ = ["pad", "one_hot"]


def pad(x, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad as PyTorch's ``F.pad``; ``pad`` in PyTorch's order, from the last dimension:
    ``(left, right)``, ``(left, right, top, bottom)``, …

    ``mode='constant'``: surround with ``value`` (0 by default: the lecture's zero padding
    P^d), any number of dimensions, negative entries crop.  ``'reflect'`` (mirror without
    repeating the edge), ``'replicate'`` (repeat the edge) and ``'circular'`` (wrap
    around): the last 1, 2 or 3 dimensions of an input with 1 or 2 more, no ``value``;
    their limits are :func:`tinygrad_cnn._checks.pad_mode_widths`'.
    """
    x = check.float_tensor(x, "x")
    check.one_of(mode, "pad: mode", ("constant",) + check.PAD_MODES)
    if mode != "constant":
        widths = check.pad_mode_widths(pad, x.shape, mode, value)
        k = len(widths)
        out = x.shape[:x.ndim - k] + tuple(n + b + a for n, (b, a) in zip(x.shape[x.ndim - k:], widths))
        check.array_size("pad", f"the padded x {x.shape} (pad {tuple(pad)})", out)
        return _shape.ModePad.apply(x, widths=widths, mode=mode)
    value = 0.0 if value is None else check.real(value, "pad: value")
    crop, widths = check.pad_widths(pad, x.shape)
    out = tuple(len(range(*c.indices(n))) + b + a for n, c, (b, a) in zip(x.shape, crop, widths))
    check.array_size("pad", f"the padded x {x.shape} (pad {tuple(pad)})", out)
    return _shape.Pad.apply(x, crop=crop, widths=widths, value=x.dtype.type(value))


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 ``(*, num_classes)``: 1 at each element's class index, 0 elsewhere (no gradient).

    ``num_classes=-1`` takes ``tensor.max() + 1``.
    """
    t = check.tensor(tensor, "tensor")
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold integer class indices, got dtype {t.dtype} with shape {t.shape}")
    num_classes = check.integer(num_classes, "one_hot: num_classes", -1)
    labels = t.data.astype(np.int64, copy=False)
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: class indices must be >= 0, got {labels.min()}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class index {labels.max()} is out of range for num_classes={num_classes}")
    out = np.zeros(labels.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return Tensor(out)
