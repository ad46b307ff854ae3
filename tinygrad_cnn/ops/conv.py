"""The convolution weight function Z = W ⊛ V + b and rot180, with the lecture's backward rules.

Arrays reaching these Functions are already validated and 4-D ``(N, C, H, W)``
(see ``tinygrad_cnn.functional``); the loops run in ``tinygrad_cnn.kernels``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..tensor import Function


#: Kernels at least this deep (C·kh·kw) go through im2col and one BLAS matrix
#: product; shallower ones (LeNet's C1, C3) are faster as direct loops.
GEMM_MIN_DEPTH = 128


class Conv2d(Function):
    """z^{h}_{i,j} = b^{h} + Σ_{l∈C^{h}} Σ_k Σ_l w^{(h,l)}_{k,l} v^{l}_{i·S+k, j·S+l}.

    Backward, from the lecture (dZ arrives as ``grad``; dZ = dN because the
    net input is a plain sum):

    * db^{h} = Σ_{i,j} dZ^{h}_{i,j}
    * dW^{(h,l)} = dZ^{h} ⋆ V^{l}  (zero for every unconnected pair)
    * dA^{l} = Σ_{h∈C} rot180(W^{(h,l)}) ⋆ dZ^{h}, a full correlation (dZ
      dilated by S−1 zeros for a stride S), then the zero padding is cropped.

    Two ways to run the same sums: direct loops (``kernels.conv``), which skip
    unconnected pairs, and for deep dense kernels im2col + one matrix product
    (``kernels.im2col``), where BLAS does the multiply-adds.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, conn):
        (sh, sw), (top, bottom, left, right) = stride, padding
        if top or bottom or left or right:
            # np.pad keeps a Fortran-ordered input's layout; the kernels want C order
            xp = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right))))
        else:
            xp = np.ascontiguousarray(x)
        w = np.ascontiguousarray(w)
        O, C, kh, kw = w.shape
        ctx.stride, ctx.padding, ctx.conn = stride, padding, conn
        ctx.gemm = C * kh * kw >= GEMM_MIN_DEPTH and bool(conn.all())
        ctx.save_for_backward(xp, w)
        if ctx.gemm:
            return K.conv2d_forward_gemm(xp, w, b, sh, sw)
        bias = np.zeros(O, dtype=w.dtype) if b is None else np.ascontiguousarray(b)
        return K.conv2d_forward(xp, w, bias, sh, sw, conn)

    rule = {
        2: "db {2} = Σ dN {g}",
        1: "dW {1} = dZ {g} ⋆ V {0}",
        0: "dA {0} = Σ rot180(W {1}) ⋆ dZ {g}",
    }

    @staticmethod
    def backward(ctx, grad):
        (sh, sw), (top, bottom, left, right) = ctx.stride, ctx.padding
        xp, w = ctx.saved_tensors
        dz = np.ascontiguousarray(grad, dtype=w.dtype)
        need_dx, need_dw = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        Hp, Wp = xp.shape[2], xp.shape[3]
        dx = dw = db = None
        if ctx.gemm:
            dxp, dw = K.conv2d_backward_gemm(dz, xp, w, sh, sw, need_dx, need_dw)
        else:
            if need_dx:
                dxp = K.conv2d_backward_input(dz, w, sh, sw, ctx.conn, Hp, Wp)
            if need_dw:
                dw = K.conv2d_backward_weight(dz, xp, w.shape[2], w.shape[3], sh, sw, ctx.conn)
        if need_dx:
            dx = dxp[:, :, top:Hp - bottom, left:Wp - right]
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            db = dz.sum(axis=(0, 2, 3))
        return dx, dw, db


class Rot180(Function):
    """Rotate the last two axes by 180°; its own inverse, so backward is rot180(dZ)."""

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x[..., ::-1, ::-1])

    rule = "dA {x} = rot180(dZ {g})"

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[..., ::-1, ::-1])


def rot180_reference(x):
    """Naive loops for :class:`Rot180`: ``rot180(A)_{i,j} = a_{R-1-i, C-1-j}`` on the last two axes."""
    x = np.asarray(x)
    R, Cc = x.shape[-2], x.shape[-1]
    out = np.empty_like(x)
    for i in range(R):
        for j in range(Cc):
            out[..., i, j] = x[..., R - 1 - i, Cc - 1 - j]
    return out
