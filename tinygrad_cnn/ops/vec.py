"""The lecture's matrix-to-vector conversion vec and its inverse.

vec stacks the COLUMNS of each feature map, first map to last:
element (c, i, j) of a ``(C, H, W)`` stack lands at ``c·H·W + j·H + i``.
A pure permutation, so each backward is the other op.  No compiled kernel:
numpy's strided copy does it; the naive loops below spell the lecture's
definition out element by element and are what the tests check against.
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

    rule = "dA {x} = vec⁻¹(dv {g})"

    @staticmethod
    def backward(ctx, grad):
        return _unvec(grad, ctx.chw)


class Unvec(Function):
    """The exact inverse of :class:`Vec` (vector to matrix)."""

    @staticmethod
    def forward(ctx, v, *, chw):
        return _unvec(v, chw)

    rule = "dv {x} = vec(dA {g})"

    @staticmethod
    def backward(ctx, grad):
        return _vec(grad)


# --------------------------------------------------------------- naive reference
def vec_reference(x):
    """The lecture's vec(A^m) as loops: stack the COLUMNS of the feature maps, first map to last::

        vec(A) = [ (a^{1}_1)^T (a^{1}_2)^T ... (a^{1}_{S_c})^T (a^{2}_1)^T ... (a^{H}_{S_c})^T ]^T

    Element (c, i, j) of a (C, H, W) stack lands at ``c·H·W + j·H + i``.
    ``(N, C, H, W) -> (N, C·H·W)`` (one vector per example) and ``(C, H, W) -> (C·H·W,)``.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        return vec_reference(x[None])[0]
    N, C, H, W = x.shape
    out = np.empty((N, C * H * W), dtype=x.dtype)
    for n in range(N):
        pos = 0
        for c in range(C):
            for j in range(W):  # column a_j of map c
                for i in range(H):
                    out[n, pos] = x[n, c, i, j]
                    pos += 1
    return out


def unvec_reference(v, shape):
    """Inverse of :func:`vec_reference` (vector to matrix): ``(N, C·H·W) -> (N, C, H, W)``
    and ``(C·H·W,) -> (C, H, W)`` for ``shape = (C, H, W)``."""
    v = np.asarray(v)
    C, H, W = shape
    if v.ndim == 1:
        return unvec_reference(v[None], shape)[0]
    N = v.shape[0]
    out = np.empty((N, C, H, W), dtype=v.dtype)
    for n in range(N):
        pos = 0
        for c in range(C):
            for j in range(W):
                for i in range(H):
                    out[n, c, i, j] = v[n, pos]
                    pos += 1
    return out
