"""Ops that move elements without changing them: reshape, transpose, indexing."""

from __future__ import annotations

import numpy as np

from ..tensor import Function, Tensor


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
    """Permute axes (``axes=None`` reverses them, like numpy's ``.T``)."""

    @staticmethod
    def forward(ctx, x, axes):
        if axes is not None and sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axes is None:
            return np.transpose(grad)
        return np.transpose(grad, np.argsort([int(a) % grad.ndim for a in ctx.axes]))


def normalise_index(index):
    """Replace Tensors inside an index by their arrays (integer-array indexing)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis))) for p in parts)


class Index(Function):
    """``x[index]``: slices, integers and integer arrays.

    Backward scatters the gradient into zeros with ``np.add.at`` so that an
    element picked several times (repeated indices) receives every share.
    """

    @staticmethod
    def forward(ctx, x, index):
        parts = index if isinstance(index, tuple) else (index,)
        for p in parts:
            if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
                raise TypeError(f"index arrays must be integer or boolean, got dtype {p.dtype}")
        try:
            out = x[index]
        except IndexError as e:
            raise IndexError(f"index out of range for a tensor of shape {x.shape}: {e}") from None
        ctx.index, ctx.shape, ctx.dtype = index, x.shape, x.dtype
        return np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic(ctx.index):
            full[ctx.index] = grad
        else:
            np.add.at(full, ctx.index, grad)
        return full
