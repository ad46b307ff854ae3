"""Pooling (subsampling) layers with the lecture's backward rules.

Arrays reaching these Functions are validated 4-D ``(N, C, H, W)``; window
``(kh, kw)`` = the lecture's (r, c), stride ``(sh, sw)`` = S^t.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..tensor import Function


class MaxPool2d(Function):
    """z_{i,j} = max{ v_{i·S+k, j·S+l} : k < r, l < c }.

    Backward routes dZ to the first maximum of each window (row-major order,
    PyTorch's choice on ties); overlapping windows accumulate.
    """

    @staticmethod
    def forward(ctx, x, *, window, stride):
        x = np.ascontiguousarray(x)
        z, argmax = K.max_pool2d_forward(x, window[0], window[1], stride[0], stride[1])
        ctx.save_for_backward(argmax)
        ctx.in_shape = x.shape
        return z

    rule = "dA {x} = dZ {g} routed to each window's maximum, 0 elsewhere"

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        H, W = ctx.in_shape[2], ctx.in_shape[3]
        dz = np.ascontiguousarray(grad, dtype=grad.dtype)
        return K.max_pool2d_backward(dz, argmax, H, W)


class AvgPool2d(Function):
    """The window mean z_{i,j} = (1/rc) Σ_{k,l} v_{i·S+k, j·S+l} (PyTorch's avg_pool2d).

    Backward: dA = (1/rc) ⊠ dZ, each dz spread evenly over its window.
    """

    @staticmethod
    def forward(ctx, x, *, window, stride):
        x = np.ascontiguousarray(x)
        ctx.in_shape, ctx.window, ctx.stride = x.shape, window, stride
        s = K.window_sum_forward(x, window[0], window[1], stride[0], stride[1])
        return s * x.dtype.type(1.0 / (window[0] * window[1]))

    rule = "dA {x} = (1/rc) ⊠ dZ {g}"

    @staticmethod
    def backward(ctx, grad):
        (kh, kw), (sh, sw) = ctx.window, ctx.stride
        H, W = ctx.in_shape[2], ctx.in_shape[3]
        ds = np.ascontiguousarray(grad * grad.dtype.type(1.0 / (kh * kw)))
        return K.window_sum_backward(ds, H, W, kh, kw, sh, sw)


class WeightedAvgPool2d(Function):
    """The lecture's average pooling Z^{h} = w^{h} ⊞(V^{h}): z_{i,j} = w^{h} Σ_{k,l} v_{i·S+k, j·S+l}.

    Backward, from the lecture:

    * dA^{h} = w^{h} ⊠ dZ^{h}  (each element of dZ expanded over its window)
    * dw^{h} = Σ_{i,j} (dZ^{h} ∘ ⊞(A^{h}))_{i,j}
    """

    @staticmethod
    def forward(ctx, x, w, *, window, stride):
        x = np.ascontiguousarray(x)
        s = K.window_sum_forward(x, window[0], window[1], stride[0], stride[1])  # ⊞(A)
        ctx.save_for_backward(s, w)
        ctx.in_shape, ctx.window, ctx.stride = x.shape, window, stride
        return s * w.reshape(1, -1, 1, 1)

    rule = {1: "dw {1} = Σ dZ {g} ∘ ⊞A {0}", 0: "dA {0} = w {1} ⊠ dZ {g}"}

    @staticmethod
    def backward(ctx, grad):
        s, w = ctx.saved_tensors
        (kh, kw), (sh, sw) = ctx.window, ctx.stride
        H, W = ctx.in_shape[2], ctx.in_shape[3]
        dx = dw = None
        if ctx.needs_input_grad[0]:
            scaled = np.ascontiguousarray(grad * w.reshape(1, -1, 1, 1), dtype=s.dtype)
            dx = K.window_sum_backward(scaled, H, W, kh, kw, sh, sw)
        if ctx.needs_input_grad[1]:
            dw = (grad * s).sum(axis=(0, 2, 3)).astype(w.dtype, copy=False)
        return dx, dw
