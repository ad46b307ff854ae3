"""The convolution weight function Z = W ⊛ V + b and rot180, with the lecture's backward rules.

Arrays reaching these Functions are already validated and 4-D ``(N, C, H, W)``
(see ``tinygrad_cnn.functional``); the loops run in ``tinygrad_cnn.kernels``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..tensor import Function


class Conv2d(Function):
    """z^{h}_{i,j} = b^{h} + Σ_{l∈C^{h}} Σ_k Σ_l w^{(h,l)}_{k,l} v^{l}_{i·S+k, j·S+l}.

    Backward, from the lecture (dZ arrives as ``grad``; dZ = dN because the
    net input is a plain sum):

    * db^{h} = Σ_{i,j} dZ^{h}_{i,j}
    * dW^{(h,l)} = dZ^{h} ⋆ V^{l}  (zero for every unconnected pair)
    * dA^{l} = Σ_{h∈C} rot180(W^{(h,l)}) ⋆ dZ^{h}, a full correlation (dZ
      dilated by S−1 zeros for a stride S), then the zero padding is cropped.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, conn):
        (sh, sw), (top, bottom, left, right) = stride, padding
        if top or bottom or left or right:
            xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        else:
            xp = np.ascontiguousarray(x)
        w = np.ascontiguousarray(w)
        bias = np.zeros(w.shape[0], dtype=w.dtype) if b is None else np.ascontiguousarray(b)
        ctx.save_for_backward(xp, w)
        ctx.stride, ctx.padding, ctx.conn = stride, padding, conn
        return K.conv2d_forward(xp, w, bias, sh, sw, conn)

    @staticmethod
    def backward(ctx, grad):
        xp, w = ctx.saved_tensors
        (sh, sw), (top, bottom, left, right) = ctx.stride, ctx.padding
        dz = np.ascontiguousarray(grad, dtype=xp.dtype)
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            Hp, Wp = xp.shape[2], xp.shape[3]
            dxp = K.conv2d_backward_input(dz, w, sh, sw, ctx.conn, Hp, Wp)
            dx = dxp[:, :, top:Hp - bottom, left:Wp - right]
        if ctx.needs_input_grad[1]:
            dw = K.conv2d_backward_weight(dz, xp, w.shape[2], w.shape[3], sh, sw, ctx.conn)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            db = dz.sum(axis=(0, 2, 3))
        return dx, dw, db


class Rot180(Function):
    """Rotate the last two axes by 180°; its own inverse, so backward is rot180(dZ)."""

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x[..., ::-1, ::-1])

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[..., ::-1, ::-1])
