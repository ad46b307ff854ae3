"""Pooling (subsampling) layers with the lecture's backward rules.

Arrays reaching these Functions are validated 4-D ``(N, C, H, W)``; window
``(kh, kw)`` = the lecture's (r, c), stride ``(sh, sw)`` = S^t, ``padding``
``(ph, pw)`` on each side, ``dilation`` ``(dh, dw)`` and the output size
``out_hw`` (ceil_mode already applied) come checked from ``functional``.

The plain geometry (no padding or dilation, floor-sized output) runs the
kernels tuned for the lecture's layers; anything else runs the general ones.
"""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..kernels import pool as K
from ..kernels import window_sum as KS
from ..tensor import Function


def _mean_scale(a, taps):
    """The mean's per-map scale 1/(r·c), in ``a``'s dtype."""
    return np.full(a.shape[1], 1.0 / taps, dtype=a.dtype)


def _plain(shape, window, stride, padding=(0, 0), dilation=(1, 1), out_hw=None) -> bool:
    """True when the lecture's geometry applies: no padding, no dilation, floor-sized output."""
    floor_hw = (check.output_size(shape[2], window[0], stride[0]), check.output_size(shape[3], window[1], stride[1]))
    return padding == (0, 0) and dilation == (1, 1) and (out_hw is None or tuple(out_hw) == floor_hw)


class MaxPool2d(Function):
    """z_{i,j} = max{ v_{i·S−P+k·D, j·S−P+l·D} : k < r, l < c } (padding taps are −∞).

    Backward routes dZ to the first maximum of each window (row-major order,
    PyTorch's choice on ties): dA = Σ_{i,j} dz_{i,j} e_{argmax(i,j)};
    overlapping windows accumulate.  ``indices_out``, a list, receives the
    argmax (flat ``p·W + q``) for ``return_indices``.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, window, stride, padding=(0, 0), dilation=(1, 1), out_hw=None, indices_out=None):
        x = np.ascontiguousarray(x)
        (kh, kw), (sh, sw) = window, stride
        if _plain(x.shape, window, stride, padding, dilation, out_hw):
            z, argmax = K.max_pool2d_forward(x, kh, kw, sh, sw)
        else:
            z, argmax = K.max_pool2d_general_forward(x, kh, kw, sh, sw, *padding, *dilation, *out_hw)
        if indices_out is not None:
            indices_out.append(argmax)
        ctx.save_for_backward(argmax)
        ctx.in_shape = x.shape
        return z

    rule = "dA {x} = dZ {g} routed to each window's maximum, 0 elsewhere"

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        H, W = ctx.in_shape[2], ctx.in_shape[3]
        return K.max_pool2d_backward(np.ascontiguousarray(grad), argmax, H, W)


class AvgPool2d(Function):
    """The window mean z_{i,j} = (1/d_{i,j}) Σ_{taps} v (PyTorch's avg_pool2d).

    d_{i,j} is the divisor: r·c in the lecture's geometry, otherwise PyTorch's
    rule (``divisor`` > 0 overrides; else by ``count_include_pad``).
    Backward: dA = (1/d) ⊠ dZ, each dz spread evenly over its window's taps.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, window, stride, padding=(0, 0), out_hw=None, count_include_pad=True, divisor=0):
        x = np.ascontiguousarray(x)
        (kh, kw), (sh, sw) = window, stride
        ctx.in_shape, ctx.window, ctx.stride = x.shape, window, stride
        ctx.plain = divisor == 0 and _plain(x.shape, window, stride, padding, out_hw=out_hw)
        ctx.padding, ctx.count_include_pad, ctx.divisor = padding, count_include_pad, divisor
        if ctx.plain:
            return KS.scaled_window_sum_forward(x, _mean_scale(x, kh * kw), kh, kw, sh, sw, keep_sum=False)[0]
        return K.avg_pool2d_general_forward(x, kh, kw, sh, sw, *padding, *out_hw, count_include_pad, divisor)

    rule = "dA {x} = (1/rc) ⊠ dZ {g}"

    @staticmethod
    def backward(ctx, grad):
        (kh, kw), (sh, sw) = ctx.window, ctx.stride
        H, W = ctx.in_shape[2], ctx.in_shape[3]
        if ctx.plain:
            return KS.window_sum_backward(np.ascontiguousarray(grad), H, W, kh, kw, sh, sw, _mean_scale(grad, kh * kw))
        return K.avg_pool2d_general_backward(np.ascontiguousarray(grad), H, W, kh, kw, sh, sw, *ctx.padding,
                                             ctx.count_include_pad, ctx.divisor)


class WeightedAvgPool2d(Function):
    """The lecture's average pooling Z^{h} = w^{h} ⊞(V^{h}) (+ b^{h}): z_{i,j} = w^{h} Σ_{taps} v + b^{h}.

    Zero padding adds nothing to ⊞.  The bias ``b`` (LeNet's subsampling) is
    optional.  Backward, from the lecture:

    * dA^{h} = w^{h} ⊠ dZ^{h}  (each element of dZ expanded over its window)
    * dw^{h} = Σ_{i,j} (dZ^{h} ∘ ⊞(A^{h}))_{i,j}
    * db^{h} = Σ_{i,j} dZ^{h}_{i,j}  (dw and db come from one pass over dZ)
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, w, b=None, *, window, stride, padding=(0, 0), out_hw=None):
        x = np.ascontiguousarray(x)
        (kh, kw), (sh, sw) = window, stride
        # the fused kernel when w and b have x's dtype (else the general one, and numpy's promotion)
        ctx.plain = (_plain(x.shape, window, stride, padding, out_hw=out_hw) and w.dtype == x.dtype
                     and (b is None or b.dtype == x.dtype))
        ctx.in_shape, ctx.window, ctx.stride, ctx.padding = x.shape, window, stride, padding
        ctx.bias_dtype = None if b is None else b.dtype
        if ctx.plain:  # Z = w ⊞(A) + b, keeping ⊞(A) for dw
            z, s = KS.scaled_window_sum_forward(x, w, kh, kw, sh, sw, shift=b)
            ctx.save_for_backward(s, w)
            return z
        # divisor 1: the plain window sum over the taps inside the input
        s = K.avg_pool2d_general_forward(x, kh, kw, sh, sw, *padding, *out_hw, True, 1)
        ctx.save_for_backward(s, w)
        z = s * w.reshape(1, -1, 1, 1)
        return z if b is None else z + b.reshape(1, -1, 1, 1)

    rule = {2: "db {2} = Σ dZ {g}", 1: "dw {1} = Σ dZ {g} ∘ ⊞A {0}", 0: "dA {0} = w {1} ⊠ dZ {g}"}

    @staticmethod
    def backward(ctx, grad):
        s, w = ctx.saved_tensors
        (kh, kw), (sh, sw) = ctx.window, ctx.stride
        H, W = ctx.in_shape[2], ctx.in_shape[3]
        need_db = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        need_dw = ctx.needs_input_grad[1] or need_db
        dt = np.result_type(grad.dtype, s.dtype)  # a float64 w on float32 maps keeps its precision
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            if ctx.plain:
                g = np.ascontiguousarray(grad, dtype=s.dtype)
                if need_dw and dt == s.dtype:  # dA, and dw's and db's sums, in one pass over dZ
                    dx, dw, db = KS.window_sum_backward(g, H, W, kh, kw, sh, sw, w, s=s)
                else:
                    dx = KS.window_sum_backward(g, H, W, kh, kw, sh, sw, w)
            else:
                scaled = np.ascontiguousarray(grad * w.reshape(1, -1, 1, 1), dtype=s.dtype)
                dx = K.avg_pool2d_general_backward(scaled, H, W, kh, kw, sh, sw, *ctx.padding, True, 1)
        if need_dw:
            if dw is None:
                dw, db = KS.window_sum_dot(np.ascontiguousarray(grad, dtype=dt), s, with_sum=True)
            dw = dw.astype(w.dtype, copy=False) if ctx.needs_input_grad[1] else None
            db = db.astype(ctx.bias_dtype, copy=False) if need_db else None
        return (dx, dw) if len(ctx.needs_input_grad) == 2 else (dx, dw, db)


class MaxUnpool2d(Function):
    """The partial inverse of max pooling: y.flat[indices] = x, zero elsewhere.

    Backward: dX = dY gathered at the indices, dx_{i,j} = dy.flat[indices_{i,j}].
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, indices, out_hw):
        ctx.indices = indices
        return K.max_unpool2d_forward(np.ascontiguousarray(x), indices, *out_hw)

    rule = "dX {x} = dY {g} gathered at the stored indices"

    @staticmethod
    def backward(ctx, grad):
        return K.max_unpool2d_backward(np.ascontiguousarray(grad), ctx.indices)


class AdaptiveAvgPool2d(Function):
    """z_{i,j} = mean of the adaptive window rows floor(iH/Ho)..ceil((i+1)H/Ho)−1 × columns likewise.

    Backward: dA = (1/|window|) ⊠ dZ over each (possibly overlapping) window.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, out_hw):
        ctx.in_hw = x.shape[2:]
        return K.adaptive_avg_pool2d_forward(np.ascontiguousarray(x), *out_hw)

    rule = "dA {x} = dZ {g} spread evenly over each adaptive window (⊠ 1/|window|)"

    @staticmethod
    def backward(ctx, grad):
        return K.adaptive_avg_pool2d_backward(np.ascontiguousarray(grad), *ctx.in_hw)


class AdaptiveMaxPool2d(Function):
    """z_{i,j} = max of the adaptive window; backward routes dz_{i,j} to its first maximum."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, out_hw, indices_out=None):
        z, argmax = K.adaptive_max_pool2d_forward(np.ascontiguousarray(x), *out_hw)
        if indices_out is not None:
            indices_out.append(argmax)
        ctx.save_for_backward(argmax)
        ctx.in_hw = x.shape[2:]
        return z

    rule = "dA {x} = dZ {g} routed to each adaptive window's maximum, 0 elsewhere"

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        return K.max_pool2d_backward(np.ascontiguousarray(grad), argmax, *ctx.in_hw)
