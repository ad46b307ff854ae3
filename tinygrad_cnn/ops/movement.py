"""Ops that move elements without changing them: reshape, transpose, indexing."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..tensor import Function, Tensor


class Reshape(Function):
    @classmethod
    def apply(cls, x, shape):
        return super().apply(x, shape=check.reshape_target(x.shape, shape))

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    rule = "dX {x} = dY {g} reshaped back"

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
    """Permute axes (``axes=None`` reverses them, like numpy's ``.T``)."""

    @classmethod
    def apply(cls, x, axes=None):
        return super().apply(x, axes=check.permutation(axes, x.shape))

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    rule = "dX {x} = dY {g} with its axes permuted back (ᵀ)"

    @staticmethod
    def backward(ctx, grad):
        if ctx.axes is None:
            return np.transpose(grad)
        return np.transpose(grad, np.argsort(ctx.axes))


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

    @classmethod
    def apply(cls, x, index):
        check.index_arrays(index)
        return super().apply(x, index=index)

    @staticmethod
    def forward(ctx, x, index):
        try:  # numpy knows the bounds; its message gains the shape
            out = x[index]
        except IndexError as e:
            raise IndexError(f"index out of range for a tensor of shape {x.shape}: {e}") from None
        # index arrays are copied: the caller may change theirs before the backward scatters
        own = tuple(np.array(i) if isinstance(i, np.ndarray) else i for i in index) \
            if isinstance(index, tuple) else (np.array(index) if isinstance(index, np.ndarray) else index)
        ctx.index, ctx.shape, ctx.dtype = own, x.shape, x.dtype
        return np.asarray(out)

    rule = "dX {x} = dY {g} added into zeros at the index"

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic(ctx.index):
            full[ctx.index] = grad
        else:
            np.add.at(full, ctx.index, grad)
        return full


def _gather_grid(index: np.ndarray, axis: int) -> tuple:
    """The full index of every element that gather reads: ``index`` along ``axis``, the
    element's own position along every other axis."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    return tuple(grid)


class Gather(Function):
    """PyTorch's ``gather``: y[..., i, ...] = x[..., index[..., i, ...], ...] along ``axis``
    (``index`` has x's number of dimensions, at most x's size along the others).

    Backward: dX = dY added into zeros at the gathered places; an element gathered several
    times receives every share (``np.add.at``).
    """

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.index, ctx.axis, ctx.shape = index, axis, x.shape
        return x[_gather_grid(index, axis)]

    rule = "dX {x} = dY {g} added into zeros at the gathered places"

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        np.add.at(full, _gather_grid(ctx.index, ctx.axis), grad)
        return full


class Scatter(Function):
    """PyTorch's ``scatter`` and ``scatter_add`` along ``axis``: y = x with src's elements written
    (``add=False``) or added (``add=True``) at the places ``index`` names.

    Backward: dsrc = dY gathered at those places; dX = dY, with the overwritten places set to 0
    when writing (their old values no longer reach y).  ``src`` None: the scalar ``value``.
    """

    fresh_grads = True

    @staticmethod
    def forward(ctx, x, src=None, *, index, axis, add, value=None):
        ctx.index, ctx.axis, ctx.add = index, axis, add
        ctx.src_shape = None if src is None else src.shape
        grid = _gather_grid(index, axis)
        out = x.copy()
        part = src[tuple(slice(0, n) for n in index.shape)] if src is not None else x.dtype.type(value)
        if add:
            np.add.at(out, grid, part)
        else:
            out[grid] = part
        return out

    rule = {0: "dX {0} = dY {g} (0 where overwritten)", 1: "dsrc {1} = dY {g} gathered at the index"}

    @staticmethod
    def backward(ctx, grad):
        grid = _gather_grid(ctx.index, ctx.axis)
        dx = grad
        if not ctx.add:
            dx = grad.copy()
            dx[grid] = 0
        if len(ctx.needs_input_grad) < 2:
            return dx
        dsrc = None
        if ctx.needs_input_grad[1]:
            dsrc = np.zeros(ctx.src_shape, dtype=grad.dtype)
            dsrc[tuple(slice(0, n) for n in ctx.index.shape)] = grad[grid]
        return dx, dsrc


def gather_reference(x: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    """Plain loops over the output: out[pos] = x[pos with index[pos] at ``axis``]."""
    out = np.empty(index.shape, dtype=x.dtype)
    for pos in np.ndindex(index.shape):
        src = list(pos)
        src[axis] = index[pos]
        out[pos] = x[tuple(src)]
    return out
