"""Reductions: sum, mean and max over some axes, with or without keepdims.

Each ``apply`` normalises ``axis`` with ``_checks.reduce_axes`` first, so every
``forward`` receives a sorted tuple of valid, distinct axes.
"""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..tensor import Function


class _Reduction(Function):
    """A Function over ``axis``/``keepdims`` whose axes are checked before forward runs."""

    empty_allowed = True

    @classmethod
    def apply(cls, x, axis=None, keepdims=False):
        axes = check.reduce_axes(axis, x.shape, cls.__name__.lower(), nonempty=not cls.empty_allowed)
        return super().apply(x, axis=axes, keepdims=bool(keepdims))


def expand_reduced(grad: np.ndarray, axes: tuple, keepdims: bool, shape: tuple) -> np.ndarray:
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(_Reduction):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axes, ctx.keepdims, ctx.shape = axis, keepdims, x.shape
        return np.asarray(x.sum(axis=ctx.axes, keepdims=keepdims))

    rule = "dX {x} = dY {g} copied over the summed axes"

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.axes, ctx.keepdims, ctx.shape)


class Mean(_Reduction):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axes, ctx.keepdims, ctx.shape = axis, keepdims, x.shape
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes])) if x.ndim else 1
        return np.asarray(x.mean(axis=ctx.axes, keepdims=keepdims))

    rule = "dX {x} = dY {g} / count copied over the averaged axes"

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad / grad.dtype.type(ctx.count), ctx.axes, ctx.keepdims, ctx.shape)


class Max(_Reduction):
    """Maximum over axes; on ties the gradient is split evenly (as PyTorch's ``amax``).

    A NaN is the maximum of its slice (numpy and PyTorch propagate it), so the
    gradient goes to the NaNs, split evenly among them as PyTorch's ``max()``.
    """

    empty_allowed = False

    pick = staticmethod(np.max)  # Min below reuses everything but this

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        out = type(ctx).pick(x, axis=axis, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axis, keepdims
        return out if keepdims else np.asarray(np.squeeze(out, axis=axis))

    rule = "dX {x} = dY {g} at the maxima (split among ties), 0 elsewhere"

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axes)
        winners = x == out
        if np.isnan(out).any():  # NaN != NaN: the winners of a NaN slice are its NaNs
            winners |= np.isnan(x) & np.isnan(out)
        count = winners.sum(axis=ctx.axes, keepdims=True)
        return np.where(winners, grad / count.astype(x.dtype), x.dtype.type(0))


class Min(Max):
    """Minimum over axes; the same routing as :class:`Max`: the gradient is split evenly among
    tied minima (PyTorch's ``amin``) and goes to the NaNs of a slice that holds any."""

    pick = staticmethod(np.min)
    rule = "dX {x} = dY {g} at the minima (split among ties), 0 elsewhere"
