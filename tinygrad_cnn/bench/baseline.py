"""The NumPy baseline: what a competent vectorised NumPy implementation does.

Convolution by im2col: ``cols[(c, k, l), (n, i, j)] = xp[n, c, i + k, j + l]`` is one copy out of
a ``sliding_window_view``; then Z = W·cols, dW = dZ·colsᵀ and dX = col2im(Wᵀ·dZ) are one BLAS
matmul each (col2im: kh·kw strided adds).  A connection matrix masks a dense convolution.
Pooling (non-overlapping k×k windows, the benchmark's case) reshapes the input into windows.
:class:`LeNet5` is the model of :mod:`tinygrad_cnn.models` written by hand with these pieces.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import _checks


# --------------------------------------------------------------- convolution (stride 1)
def conv2d(x, w, b=None, padding=0, connection=None, dilation=1):
    """``(z, cache)`` of Z = W ⊛ X + b; ``cache`` feeds :func:`conv2d_backward`.  ``dilation``
    spaces the taps (every d-th element of a window of extent d·(k − 1) + 1)."""
    ph, pw = _checks.pair(padding, "padding", minimum=0)
    d = _checks.positive_int(dilation, "dilation")
    mask = None if connection is None else np.asarray(connection, w.dtype)[:, :, None, None]
    if mask is not None:
        w = w * mask
    (N, C, H, W), (O, _, kh, kw) = x.shape, w.shape
    Ho, Wo = H + 2 * ph - d * (kh - 1), W + 2 * pw - d * (kw - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (d * (kh - 1) + 1, d * (kw - 1) + 1), axis=(2, 3))[..., ::d, ::d]  # a view
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, N * Ho * Wo)  # the one copy
    w2 = w.reshape(O, -1)
    z = (w2 @ cols).reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)
    if b is not None:
        z = z + b[:, None, None]
    return np.ascontiguousarray(z), (cols, w2, mask, x.shape, (ph, pw), (kh, kw), d)


def conv2d_backward(dz, cache, need_dx=True):
    """``(dx, dw, db)``: dW = dZ·colsᵀ, dX = col2im(Wᵀ·dZ), db = Σ dZ."""
    cols, w2, mask, (N, C, H, W), (ph, pw), (kh, kw), dil = cache
    Ho, Wo = dz.shape[2:]
    d = dz.transpose(1, 0, 2, 3).reshape(w2.shape[0], -1)
    dw = (d @ cols.T).reshape(-1, C, kh, kw)
    if mask is not None:
        dw *= mask
    db = dz.sum(axis=(0, 2, 3))
    if not need_dx:
        return None, dw, db
    dcols = (w2.T @ d).reshape(C, kh, kw, N, Ho, Wo)
    dxp = np.zeros((C, N, H + 2 * ph, W + 2 * pw), dz.dtype)
    for k in range(kh):
        for l in range(kw):
            dxp[:, :, k * dil:k * dil + Ho, l * dil:l * dil + Wo] += dcols[:, k, l]
    return dxp[:, :, ph:ph + H, pw:pw + W].transpose(1, 0, 2, 3), dw, db


# --------------------------------------------------------------- pooling (k×k windows, stride k)
def _windows(x, k):
    """``(N, C, Ho, k, Wo, k)`` view of the windows (the sizes must divide)."""
    N, C, H, W = x.shape
    if H % k or W % k:
        raise ValueError(f"pooling baseline: window {k} must divide the input size {H}×{W}")
    return x.reshape(N, C, H // k, k, W // k, k)


def max_pool2d(x, k):
    """``(z, idx)``: the first maximum of every window, in row-major window order."""
    N, C, H, W = x.shape
    win = _windows(x, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // k, W // k, k * k)
    idx = win.argmax(axis=-1)[..., None]
    return np.take_along_axis(win, idx, axis=-1)[..., 0], idx


def max_pool2d_backward(dz, idx, k):
    """dX: each dz routed to its window's first maximum."""
    N, C, Ho, Wo = dz.shape
    dwin = np.zeros(dz.shape + (k * k,), dz.dtype)
    np.put_along_axis(dwin, idx, dz[..., None], axis=-1)
    return dwin.reshape(N, C, Ho, Wo, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho * k, Wo * k)


def window_sum(x, k):
    """Σ over every k×k window: ``(N, C, H/k, W/k)``."""
    return _windows(x, k).sum(axis=(3, 5))


def window_sum_backward(ds, k):
    """The adjoint of :func:`window_sum`: every window gets its ds (a broadcast)."""
    N, C, Ho, Wo = ds.shape
    return np.broadcast_to(ds[:, :, :, None, :, None], (N, C, Ho, k, Wo, k)).reshape(N, C, Ho * k, Wo * k)


# --------------------------------------------------------------- LeNet-5 by hand
class NumpyOps:
    """Convolution and 2×2 subsampling of :class:`LeNet5` through the vectorised baseline."""

    conv, conv_backward = staticmethod(conv2d), staticmethod(conv2d_backward)

    @staticmethod
    def subsample(x, w):
        """n = w^h·Σ(2×2 window); returns ``(n, cache)``."""
        s = window_sum(x, 2)
        return s * w[None, :, None, None], (s, w)

    @staticmethod
    def subsample_backward(dn, cache):
        """``(dx, dw)``: dx = w^h·dn on every window, dw^h = Σ dn ∘ Σ(window)."""
        s, w = cache
        return window_sum_backward(dn * w[None, :, None, None], 2), (dn * s).sum(axis=(0, 2, 3))


class LeNet5:
    """:class:`tinygrad_cnn.models.LeNet5`'s forward, cross-entropy and backward derived by hand,
    plus PyTorch's momentum SGD, on a copy of its ``state_dict()``.  ``ops`` runs the
    convolutions and subsampling (:class:`NumpyOps`, or the naive loops)."""

    def __init__(self, state, connection, lr=0.01, momentum=0.9, ops=NumpyOps):
        self.p = {k: np.array(v, np.float32) for k, v in state.items()}
        self.connection, self.lr, self.momentum, self.ops = connection, lr, momentum, ops
        self.buf, self.grads = {}, {}
        from ..nn import ScaledTanh  # LeCun's squashing A·tanh(S·n), the model's own constants

        self.A, self.S = np.float32(ScaledTanh.A), np.float32(ScaledTanh.S)

    def step(self, x, y):
        """One training step; returns the loss (the gradients are left in ``self.grads``)."""
        loss = self.loss_and_grads(x, y)
        for k, g in self.grads.items():  # buf = μ·buf + g (buf = g at first), p -= lr·buf
            b = self.buf[k] = g.copy() if k not in self.buf else self.buf[k] * self.momentum + g
            self.p[k] -= np.float32(self.lr) * b
        return loss

    def loss_and_grads(self, x, y):
        p, ops, A, S = self.p, self.ops, self.A, self.S
        dtanh = A * S  # d/dn A·tanh(S·n) = A·S·(1 − t²)
        z1, c1 = ops.conv(x, p["c1.weight"], p["c1.bias"])
        n2, s2 = ops.subsample(z1, p["s2.weight"])
        t2 = np.tanh(S * (n2 + p["s2.bias"][:, None, None]))
        z3, c3 = ops.conv(A * t2, p["c3.weight"], p["c3.bias"], connection=self.connection)
        n4, s4 = ops.subsample(z3, p["s4.weight"])
        t4 = np.tanh(S * (n4 + p["s4.bias"][:, None, None]))
        z5, c5 = ops.conv(A * t4, p["c5.weight"], p["c5.bias"])
        t5 = np.tanh(S * z5)
        v = (A * t5).reshape(len(x), -1)  # vec of 1×1 maps
        t6 = np.tanh(S * (v @ p["f6.weight"].T + p["f6.bias"]))
        logits = (A * t6) @ p["output.weight"].T + p["output.bias"]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob = e / e.sum(axis=1, keepdims=True)
        rows = np.arange(len(x))
        loss = float(-np.log(prob[rows, y]).mean())
        g = {}
        dl = prob
        dl[rows, y] -= 1
        dl /= len(x)
        g["output.weight"], g["output.bias"] = dl.T @ (A * t6), dl.sum(axis=0)
        dn6 = (dl @ p["output.weight"]) * dtanh * (1 - t6 * t6)
        g["f6.weight"], g["f6.bias"] = dn6.T @ v, dn6.sum(axis=0)
        dz5 = (dn6 @ p["f6.weight"]).reshape(z5.shape) * dtanh * (1 - t5 * t5)
        da4, g["c5.weight"], g["c5.bias"] = ops.conv_backward(dz5, c5)
        dn4 = da4 * dtanh * (1 - t4 * t4)
        dz3, g["s4.weight"] = ops.subsample_backward(dn4, s4)
        g["s4.bias"] = dn4.sum(axis=(0, 2, 3))
        da2, g["c3.weight"], g["c3.bias"] = ops.conv_backward(np.ascontiguousarray(dz3), c3)
        dn2 = da2 * dtanh * (1 - t2 * t2)
        dz1, g["s2.weight"] = ops.subsample_backward(dn2, s2)
        g["s2.bias"] = dn2.sum(axis=(0, 2, 3))
        _, g["c1.weight"], g["c1.bias"] = ops.conv_backward(np.ascontiguousarray(dz1), c1, need_dx=False)
        self.grads = {k: np.asarray(v, np.float32) for k, v in g.items()}
        return loss
