"""Shape ops PyTorch users reach for: expand, flip, cat, where, clone.

Each moves or copies elements without computing with them, so each backward
routes the incoming gradient back to where the element came from.  (permute,
transpose, view, squeeze and unsqueeze are the ``Transpose`` and ``Reshape`` of
``ops/movement.py``; ``stack`` is ``cat`` of unsqueezed inputs.)
"""

from __future__ import annotations

import numpy as np

from ..kernels.pad import circular_fold, pad_fold, pad_gather, source_index
from ..tensor import Function
from .elementwise import unbroadcast

__all__ = ["Expand", "Flip", "Cat", "cat_reference", "Where", "Clone", "Pad", "pad_reference", "ModePad"]


class Expand(Function):
    """y = x broadcast to ``shape`` (a read-only view, no copy); dx = Σ dy over the broadcast axes."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    rule = "dX {x} = Σ dY {g} over the expanded axes"

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape)


class Flip(Function):
    """y = x reversed along ``axes``; dx = dy reversed along the same axes (flip is its own inverse)."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.ascontiguousarray(np.flip(x, axes)) if axes else x.copy()

    rule = "dX {x} = flip(dY {g})"

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes) if ctx.axes else grad


class Cat(Function):
    """y = [x_1; x_2; ...] joined along ``axis``; dx_k = the slice of dy that x_k filled.

    Inputs of different dtypes are promoted as numpy promotes them; each gradient
    is cast back to its input's dtype.
    """

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        ctx.dtypes = [x.dtype for x in xs]
        return np.concatenate(xs, axis=axis)

    rule = "dX_{i} {x} = its slice of dY {g}"

    @staticmethod
    def backward(ctx, grad):
        bounds = np.cumsum(ctx.sizes)[:-1]
        parts = np.split(grad, bounds, axis=ctx.axis)
        return tuple(p.astype(d, copy=False) for p, d in zip(parts, ctx.dtypes))


def cat_reference(xs: list, axis: int) -> np.ndarray:
    """Plain-loop concatenation: copy each input's slices one index of ``axis`` at a time."""
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    out = np.empty(shape, dtype=np.result_type(*xs))
    at = 0
    for x in xs:
        for i in range(x.shape[axis]):
            dst = [slice(None)] * len(shape)
            src = [slice(None)] * len(shape)
            dst[axis], src[axis] = at + i, i
            out[tuple(dst)] = x[tuple(src)]
        at += x.shape[axis]
    return out


class Where(Function):
    """y = cond ? a : b with broadcasting; da = dy where cond (else 0), db = dy where not cond,
    each summed back over the axes it was broadcast along.  ``cond`` is a boolean array, not a
    differentiable input."""

    @staticmethod
    def forward(ctx, a, b, cond):
        ctx.cond, ctx.shapes = np.array(cond, dtype=bool), (a.shape, b.shape)  # the op's own copy
        return np.where(cond, a, b)

    rule = {
        0: "dA {0} = dY {g} where cond, 0 elsewhere{sum}",
        1: "dB {1} = dY {g} where not cond, 0 elsewhere{sum}",
    }

    @staticmethod
    def backward(ctx, grad):
        zero = grad.dtype.type(0)
        da = unbroadcast(np.where(ctx.cond, grad, zero), ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        db = unbroadcast(np.where(ctx.cond, zero, grad), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return da, db


class Clone(Function):
    """y = a C-contiguous copy of x; dx = dy (the identity)."""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, order="C", copy=True)

    rule = "dX {x} = dY {g}"

    @staticmethod
    def backward(ctx, grad):
        return grad


class Pad(Function):
    """Constant padding: y = x surrounded by ``value``, ``widths`` ((before, after) per axis) ≥ 0
    after ``crop`` (slices per axis, from negative pads) removed from x first.

    dx = dy at the positions x landed on (the padding gets no gradient; cropped elements get 0).
    """

    @staticmethod
    def forward(ctx, x, *, crop, widths, value):
        ctx.in_shape, ctx.crop = x.shape, crop
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x[crop].shape))
        return np.pad(x[crop], widths, mode="constant", constant_values=value)

    rule = "dX {x} = dY {g} with the padding cropped"

    @staticmethod
    def backward(ctx, grad):
        dx = np.zeros(ctx.in_shape, dtype=grad.dtype)
        dx[ctx.crop] = grad[ctx.inner]
        return dx


class ModePad(Function):
    """Padding with the input's own values (``'reflect'``, ``'replicate'``, ``'circular'``):
    y = x gathered through each padded axis's source index src(j) (``kernels/pad.py``).

    dX = fold(dY): each dY cell added to the input cell it was copied from, so a cell
    copied k times gets the sum of its k gradients (cropped cells get 0), in PyTorch's order.
    """

    fresh_grads = True

    @staticmethod
    def forward(ctx, x, *, widths, mode):
        k = len(widths)
        ctx.in_shape, ctx.widths, ctx.mode = x.shape, widths, mode
        ctx.sources = [source_index(n, b, a, mode) for n, (b, a) in zip(x.shape[x.ndim - k:], widths)]
        return pad_gather(x, ctx.sources)

    rule = "dX {x} = fold(dY {g}): each copy's gradient added to the cell it copies"

    @staticmethod
    def backward(ctx, grad):
        if ctx.mode == "circular":
            return circular_fold(grad, ctx.widths, ctx.in_shape)
        return pad_fold(grad, ctx.sources, ctx.in_shape)


def pad_reference(x, pad, value=0.0):
    """Naive constant pad (PyTorch's pad order: last axis first, negative pads crop): each output
    element looks up its source index one axis at a time."""
    x = np.asarray(x, dtype=np.float64)
    before = [0] * x.ndim
    after = [0] * x.ndim
    for k in range(len(pad) // 2):
        before[x.ndim - 1 - k], after[x.ndim - 1 - k] = pad[2 * k], pad[2 * k + 1]
    out_shape = tuple(s + b + a for s, b, a in zip(x.shape, before, after))
    out = np.empty(out_shape)
    for idx in np.ndindex(out_shape):
        src = tuple(i - b for i, b in zip(idx, before))
        inside = all(0 <= s < n for s, n in zip(src, x.shape))
        out[idx] = x[src] if inside else value
    return out
