"""Naive references of the pooling kernels: the lecture's equations as plain loops.

Slow on purpose (float64, one output cell at a time); the tests compare every
compiled kernel of ``kernels/pool.py`` with these.  The lecture's windows::

    max pooling      z_{i,j} = max { v_{r(i-1)+k, c(j-1)+l} | k = 1..r; l = 1..c }
    average pooling  z_{i,j} = { Σ_{k=1}^{r} Σ_{l=1}^{c} v_{r(i-1)+k, c(j-1)+l} } w

are extended, 0-based, to PyTorch's geometry: window (i, j) has its taps at
rows ``i·S_r − P_r + k·D_r`` (k = 0..r−1) and columns likewise, where S is
the stride, P the padding on each side and D the dilation.  Taps that fall
outside the input are padding: −∞ for max pooling (they never win), 0 for
average pooling (they add nothing).  With ``ceil_mode`` the number of windows
rounds up, the last one hanging off the end (``_checks.output_size``).

Average pooling divides the window sum by

* ``divisor_override`` when given;
* else, with ``count_include_pad``, the number of taps inside the padded
  input (a ceil_mode window hanging past the right/bottom padding counts only
  the part that lies within it);
* else the number of taps inside the input itself.

Adaptive pooling uses window i = rows ``floor(i·H/Ho) .. ceil((i+1)·H/Ho) − 1``.
"""
import math

import numpy as np

from .. import _checks as check

__all__ = [
    "max_pool2d_reference",
    "max_pool2d_backward_reference",
    "avg_pool2d_reference",
    "avg_pool2d_backward_reference",
    "max_unpool2d_reference",
    "adaptive_avg_pool2d_reference",
    "adaptive_max_pool2d_reference",
]


def _geometry(x4, kernel_size, stride, padding, dilation, ceil_mode):
    """Window, stride, padding, dilation and output size of a naive pooling loop."""
    kh, kw = check.pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else check.pair(stride, "stride")
    ph, pw = check.pair(padding, "padding", minimum=0)
    dh, dw = check.pair(dilation, "dilation")
    H, W = x4.shape[2:]
    Ho = check.output_size(H, kh, sh, 2 * ph, dh, ceil_mode)
    Wo = check.output_size(W, kw, sw, 2 * pw, dw, ceil_mode)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (Ho, Wo)


def _window_taps(i, j, k, s, p, d, shape):
    """The (row, col) taps of window (i, j) that lie inside an input of ``shape``, row-major."""
    H, W = shape
    rows = [i * s[0] - p[0] + a * d[0] for a in range(k[0])]
    cols = [j * s[1] - p[1] + b * d[1] for b in range(k[1])]
    return [(r, c) for r in rows if 0 <= r < H for c in cols if 0 <= c < W]


def _argmax(plane, taps):
    """First maximum of the taps in row-major order, NaN winning (PyTorch's
    ``if v > best or isnan(v)`` starting from −∞: the last NaN is chosen)."""
    best, where = -math.inf, taps[0] if taps else (-1, -1)  # no tap inside: −∞, no gradient
    for r, c in taps:
        v = plane[r, c]
        if v > best or math.isnan(v):
            best, where = v, (r, c)
    return best, where


def max_pool2d_reference(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling Z = max_{r,c} V over each window's taps (padding is −∞).

    ``x`` is ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)``; returns float64 of the
    same rank.  ``stride=None`` means the window size (the lecture's case).
    """
    z, _ = _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    return z


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    x = np.asarray(x, dtype=np.float64)
    x4, rank = check.as_4d(x, "x", "reference")
    k, s, p, d, (Ho, Wo) = _geometry(x4, kernel_size, stride, padding, dilation, ceil_mode)
    N, C, H, W = x4.shape
    z = np.zeros((N, C, Ho, Wo))
    where = np.zeros((N, C, Ho, Wo, 2), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    z[n, c, i, j], where[n, c, i, j] = _argmax(x4[n, c], _window_taps(i, j, k, s, p, d, (H, W)))
    return check.from_4d(z, rank), where


def max_pool2d_backward_reference(x, dz, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """dA of max pooling: dz_{i,j} goes to the first maximum of window (i, j);
    overlapping windows accumulate.  Returns float64 dx ``(N, C, H, W)``."""
    x = np.asarray(x, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    _, where = _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    dx = np.zeros(x.shape)
    N, C, Ho, Wo = dz.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    r, col = where[n, c, i, j]
                    if r >= 0:
                        dx[n, c, r, col] += dz[n, c, i, j]
    return dx


def _divisor(i, j, k, s, p, shape, taps, count_include_pad, divisor_override):
    """PyTorch's divisor of average-pooling window (i, j) (see the module docstring)."""
    if divisor_override is not None:
        return divisor_override
    if not count_include_pad:
        return len(taps)
    H, W = shape
    h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
    return (min(h0 + k[0], H + p[0]) - h0) * (min(w0 + k[1], W + p[1]) - w0)


def avg_pool2d_reference(x, kernel_size, stride=None, weight=None, padding=0, ceil_mode=False,
                         count_include_pad=True, divisor_override=None):
    """Average pooling Z = w ⊞^{ave}_{r,c} V: the window sum times w.

    With ``weight=None``, w = 1/divisor (PyTorch's avg_pool2d); otherwise
    ``weight`` is the ``(C,)`` vector of the lecture's trainable w^{h}.  Padding
    taps are zeros.  Returns float64 of the rank of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    x4, rank = check.as_4d(x, "x", "reference")
    k, s, p, d, (Ho, Wo) = _geometry(x4, kernel_size, stride, padding, 1, ceil_mode)
    N, C, H, W = x4.shape
    z = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    taps = _window_taps(i, j, k, s, p, d, (H, W))
                    total = sum(x4[n, c, r, col] for r, col in taps)
                    if weight is None:
                        z[n, c, i, j] = total / _divisor(i, j, k, s, p, (H, W), taps, count_include_pad,
                                                         divisor_override)
                    else:
                        z[n, c, i, j] = total * float(weight[c])
    return check.from_4d(z, rank)


def avg_pool2d_backward_reference(x, dz, kernel_size, stride=None, weight=None, padding=0, ceil_mode=False,
                                  count_include_pad=True, divisor_override=None):
    """The lecture's backward of average pooling, scalar form::

        da_{tap} += dz_{i,j} × w        for every tap of window (i, j) inside the input
        dw = Σ_i Σ_j dz_{i,j} { Σ_{taps} a_{tap} }

    i.e. dA = w ⊠ dZ and dw = ⊞(dZ ∘ ⊞A); w = 1/divisor without ``weight``.
    Returns float64 dx ``(N, C, H, W)``, or ``(dx, dw)`` with dw ``(C,)`` when
    ``weight`` is given.
    """
    x = np.asarray(x, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    k, s, p, d, (Ho, Wo) = _geometry(x, kernel_size, stride, padding, 1, ceil_mode)
    N, C, H, W = x.shape
    dx = np.zeros(x.shape)
    dw = np.zeros(C)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    taps = _window_taps(i, j, k, s, p, d, (H, W))
                    if weight is None:
                        scale = 1.0 / _divisor(i, j, k, s, p, (H, W), taps, count_include_pad, divisor_override)
                    else:
                        scale = float(weight[c])
                    for r, col in taps:
                        dx[n, c, r, col] += dz[n, c, i, j] * scale
                    dw[c] += dz[n, c, i, j] * sum(x[n, c, r, col] for r, col in taps)
    return dx if weight is None else (dx, dw)


def max_unpool2d_reference(x, indices, output_hw):
    """The partial inverse of max pooling: ``y[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j]``,
    zero elsewhere (a later duplicate index overwrites an earlier one).  float64."""
    x = np.asarray(x, dtype=np.float64)
    N, C = x.shape[:2]
    y = np.zeros((N, C) + tuple(output_hw))
    for n in range(N):
        for c in range(C):
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    a = int(indices[n, c, i, j])
                    y[n, c, a // output_hw[1], a % output_hw[1]] = x[n, c, i, j]
    return y


def _adaptive_bounds(i, size, out):
    """Rows of adaptive window i: floor(i·size/out) .. ceil((i+1)·size/out) − 1."""
    return (i * size) // out, -(-((i + 1) * size) // out)


def adaptive_avg_pool2d_reference(x, output_hw):
    """Adaptive average pooling: the mean of each adaptive window.  float64 ``(N, C, Ho, Wo)``."""
    x = np.asarray(x, dtype=np.float64)
    N, C, H, W = x.shape
    Ho, Wo = output_hw
    z = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        h0, h1 = _adaptive_bounds(i, H, Ho)
        for j in range(Wo):
            w0, w1 = _adaptive_bounds(j, W, Wo)
            for n in range(N):
                for c in range(C):
                    z[n, c, i, j] = sum(x[n, c, r, col] for r in range(h0, h1) for col in range(w0, w1)) \
                        / (h1 - h0) / (w1 - w0)
    return z


def adaptive_max_pool2d_reference(x, output_hw):
    """Adaptive max pooling: the first maximum (NaN winning) of each adaptive window.

    Returns float64 ``z`` and the flat indices ``r·W + col`` of the maxima."""
    x = np.asarray(x, dtype=np.float64)
    N, C, H, W = x.shape
    Ho, Wo = output_hw
    z = np.zeros((N, C, Ho, Wo))
    idx = np.zeros((N, C, Ho, Wo), dtype=np.int64)
    for i in range(Ho):
        h0, h1 = _adaptive_bounds(i, H, Ho)
        for j in range(Wo):
            w0, w1 = _adaptive_bounds(j, W, Wo)
            taps = [(r, col) for r in range(h0, h1) for col in range(w0, w1)]
            for n in range(N):
                for c in range(C):
                    z[n, c, i, j], (r, col) = _argmax(x[n, c], taps)
                    idx[n, c, i, j] = r * W + col
    return z, idx
