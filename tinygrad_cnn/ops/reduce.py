"""Reductions: sum, mean and max over some axes, with or without keepdims."""

from __future__ import annotations

import numpy as np

from ..tensor import Function


def normalise_axis(axis, ndim: int) -> tuple:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimensions")
        out.append(int(ax) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(out))


def expand_reduced(grad: np.ndarray, axes: tuple, keepdims: bool, shape: tuple) -> np.ndarray:
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axes = normalise_axis(axis, x.ndim)
        ctx.keepdims, ctx.shape = keepdims, x.shape
        return np.asarray(x.sum(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.axes, ctx.keepdims, ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axes = normalise_axis(axis, x.ndim)
        ctx.keepdims, ctx.shape = keepdims, x.shape
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes])) if x.ndim else 1
        return np.asarray(x.mean(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad / grad.dtype.type(ctx.count), ctx.axes, ctx.keepdims, ctx.shape)


class Max(Function):
    """Maximum over axes; on ties the gradient is split evenly (as PyTorch's ``amax``).

    A NaN is the maximum of its slice (numpy and PyTorch propagate it), so the
    gradient goes to the NaNs, split evenly among them as PyTorch's ``max()``.
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = normalise_axis(axis, x.ndim)
        if any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"max: cannot reduce over an empty axis of shape {x.shape}")
        out = x.max(axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.asarray(np.squeeze(out, axis=axes))

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
