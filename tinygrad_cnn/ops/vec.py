"""The lecture's matrix-to-vector conversion vec and its inverse.

vec stacks the COLUMNS of each feature map, first map to last:
element (c, i, j) of a ``(C, H, W)`` stack lands at ``c·H·W + j·H + i``.
A pure permutation, so each backward is the other op.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function


def _vec(x: np.ndarray) -> np.ndarray:
    lead = x.shape[:-3]
    return np.ascontiguousarray(np.swapaxes(x, -1, -2)).reshape(lead + (-1,))


def _unvec(v: np.ndarray, chw: tuple) -> np.ndarray:
    C, H, W = chw
    cols = v.reshape(v.shape[:-1] + (C, W, H))  # column j of map c is a run of H entries
    return np.ascontiguousarray(np.swapaxes(cols, -1, -2))


class Vec(Function):
    """``(N, C, H, W) -> (N, C·H·W)`` or ``(C, H, W) -> (C·H·W,)`` by column stacking."""

    @staticmethod
    def forward(ctx, x):
        ctx.chw = x.shape[-3:]
        return _vec(x)

    @staticmethod
    def backward(ctx, grad):
        return _unvec(grad, ctx.chw)


class Unvec(Function):
    """The exact inverse of :class:`Vec` (vector to matrix)."""

    @staticmethod
    def forward(ctx, v, *, chw):
        return _unvec(v, chw)

    @staticmethod
    def backward(ctx, grad):
        return _vec(grad)
