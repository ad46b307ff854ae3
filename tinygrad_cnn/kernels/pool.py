"""Compiled (Numba) kernels for the lecture's pooling layers.

Plain array-in / array-out functions; no graph or autograd logic lives here.

Notation (Lecture 8, 0-based indices, window r×c = (kh, kw), stride
(sh, sw); the lecture's non-overlapping case is sh = kh, sw = kw)::

    max pooling      z_{i,j} = max { v_{i·sh+k, j·sw+l} | 0 <= k < kh, 0 <= l < kw }
    window sum (⊞)   s_{i,j} = Σ_k Σ_l v_{i·sh+k, j·sw+l}
    average pooling  Z = w ⊞^{ave} V   (the caller scales the window sum
                     by 1/(kh·kw) for the mean, or by the per-map weight w^{h})
    its backward     dA = w ⊠ dZ   (⊠: every dz_{i,j} is copied to each cell of
                     its window; overlapping windows accumulate)

Two kinds of kernels:

* the plain case (no padding, no dilation, floor-sized output: the
  lecture's layers and LeNet-5): ``max_pool2d_forward`` here, and the window
  sum ⊞ and its expansion ⊠ in ``window_sum`` (re-exported), tuned for it;
* PyTorch's full geometry: window (i, j) has its taps at rows
  ``i·sh − ph + k·dh`` and columns ``j·sw − pw + l·dw``; taps outside the
  input are padding, −∞ for max pooling and 0 for average pooling; the output
  size (ceil_mode included) comes from ``_checks.output_size`` and is passed
  in.  ``max_pool2d_general_forward``, ``avg_pool2d_general_forward`` and
  ``avg_pool2d_general_backward`` (the divisor rules are in
  ``pool_reference``'s docstring), plus ``max_unpool2d_*`` and the adaptive
  poolings (window i spans rows floor(i·H/Ho) .. ceil((i+1)·H/Ho) − 1).

``max_pool2d_backward`` routes dZ through stored flat indices and serves both.

Array requirements (not checked here; the caller guarantees them): 4-D
``(N, C, H, W)`` float32 or float64 arrays (the output keeps the dtype),
C-contiguous for speed (other layouts work but compile another
specialisation), geometry validated by ``_checks``.

Each public function is a thin Python wrapper that runs its compiled body
on one thread when the work is small (see ``_parallel.run_kernel``).  The naive
references, the same equations as plain Python loops, are in
``pool_reference`` (re-exported here: ``max_pool2d_reference``, ...).
"""
import numpy as np
from numba import njit, prange

from .. import _checks as check

from ._parallel import run_kernel
from .window_sum import window_sum_backward, window_sum_forward  # noqa: F401 (average pooling's ⊞ and ⊠)
from .pool_reference import (  # noqa: F401 (the references sit beside their kernels)
    adaptive_avg_pool2d_reference,
    adaptive_max_pool2d_reference,
    avg_pool2d_backward_reference,
    avg_pool2d_reference,
    max_pool2d_backward_reference,
    max_pool2d_reference,
    max_unpool2d_reference,
)

__all__ = [
    "max_pool2d_forward",
    "max_pool2d_backward",
    "window_sum_forward",
    "window_sum_backward",
    "max_pool2d_general_forward",
    "avg_pool2d_general_forward",
    "avg_pool2d_general_backward",
    "max_unpool2d_forward",
    "max_unpool2d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d_forward",
]


def max_pool2d_forward(x, kh, kw, sh, sw):
    """Max pooling  Z = max_{r,c} V,  with the argmax for the backward pass.

    ``z[n,c,i,j] = max_{k,l} x[n,c, i·sh+k, j·sw+l]``.  The argmax is the
    flat index ``p·W + q`` (within the H×W plane) of the FIRST maximum in
    row-major window order (strict ``>``), PyTorch's tie rule.  NaN
    propagates as in PyTorch: a window containing NaN gives NaN and its
    argmax is the (last, in window order) NaN.

    Parameters
    ----------
    x : (N, C, H, W) float array.
    kh, kw : int window size r×c.
    sh, sw : int strides.

    Returns
    -------
    z : (N, C, Ho, Wo), same dtype as ``x``.
    argmax : (N, C, Ho, Wo) int64.
    """
    N, C, H, W = x.shape
    work = N * C * check.output_size(H, kh, sh) * check.output_size(W, kw, sw) * kh * kw
    return run_kernel(_max_pool2d_forward, work, x, kh, kw, sh, sw)


@njit(parallel=True, cache=True)
def _max_pool2d_forward(x, kh, kw, sh, sw):
    """Compiled body of :func:`max_pool2d_forward`."""
    N, C, H, W = x.shape
    Ho = (H - kh) // sh + 1
    Wo = (W - kw) // sw + 1
    z = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    am = np.empty((N, C, Ho, Wo), dtype=np.int64)
    tile = kh == 2 and kw == 2 and sh == 2 and sw == 2
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            if tile:  # the 2×2 window, stride 2: the same comparisons, in the same order, unrolled
                r0 = x[n, c, 2 * i]
                r1 = x[n, c, 2 * i + 1]
                zrow = z[n, c, i]
                arow = am[n, c, i]
                for j in range(Wo):
                    # selects, not branches: random data would mispredict them
                    best = r0[2 * j]
                    off = 0
                    v = r0[2 * j + 1]
                    take = (v > best) | (v != v)
                    best = v if take else best
                    off = 1 if take else off
                    v = r1[2 * j]
                    take = (v > best) | (v != v)
                    best = v if take else best
                    off = W if take else off
                    v = r1[2 * j + 1]
                    take = (v > best) | (v != v)
                    best = v if take else best
                    off = W + 1 if take else off
                    zrow[j] = best
                    arow[j] = 2 * i * W + 2 * j + off
                continue
            for j in range(Wo):
                p0 = i * sh
                q0 = j * sw
                best = x[n, c, p0, q0]
                bidx = p0 * W + q0
                for k in range(kh):
                    xrow = x[n, c, p0 + k]
                    for l in range(kw):
                        v = xrow[q0 + l]
                        # strict '>' keeps the first maximum; 'v != v' is NaN (selects, not branches)
                        take = (v > best) | (v != v)
                        best = v if take else best
                        bidx = (p0 + k) * W + q0 + l if take else bidx
                z[n, c, i, j] = best
                am[n, c, i, j] = bidx
    return z, am


def max_pool2d_backward(dz, argmax, H, W):
    """Max-pooling backward: route each dz_{i,j} to the argmax of its window.

    ``dx[n,c].flat[argmax[n,c,i,j]] += dz[n,c,i,j]``; overlapping windows
    that share a maximum accumulate.  Parallel over (n, c) planes only, so
    writes are disjoint.  Argmax values outside ``[0, H·W)`` are ignored.

    Parameters
    ----------
    dz : (N, C, Ho, Wo) upstream gradient dZ.
    argmax : (N, C, Ho, Wo) int64 from :func:`max_pool2d_forward`.
    H, W : int, spatial size of the forward input.

    Returns
    -------
    dx : (N, C, H, W), same dtype as ``dz``.
    """
    N, C, Ho, Wo = dz.shape
    work = N * C * (Ho * Wo + H * W)
    return run_kernel(_max_pool2d_backward, work, dz, argmax, H, W)


@njit(parallel=True, cache=True)
def _max_pool2d_backward(dz, argmax, H, W):
    """Compiled body of :func:`max_pool2d_backward`."""
    N, C, Ho, Wo = dz.shape
    dx = np.empty((N, C, H, W), dtype=dz.dtype)  # each plane zeroed by its own iteration
    HW = H * W
    dxf = dx.reshape(N, C, HW)
    for t in prange(N * C):
        n = t // C
        c = t % C
        plane = dxf[n, c]
        plane[:] = 0
        for i in range(Ho):
            for j in range(Wo):
                a = argmax[n, c, i, j]
                if a >= 0 and a < HW:
                    plane[a] += dz[n, c, i, j]
    return dx


# --------------------------------------------------------------- PyTorch's full geometry
def max_pool2d_general_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    """Max pooling with padding (−∞), dilation and a given output size (ceil_mode).

    ``z[n,c,i,j]`` = max over the taps ``(i·sh − ph + k·dh, j·sw − pw + l·dw)``
    that lie inside the input; the argmax is the flat index ``p·W + q`` of the
    first maximum in row-major tap order, NaN winning (PyTorch's rule).  A
    window with no tap inside the input (possible only with dilation) gives
    −∞ and PyTorch's index of its first would-be tap, which the backward ignores.

    Returns ``z`` ``(N, C, Ho, Wo)`` (dtype of ``x``) and the int64 argmax.
    """
    N, C = x.shape[:2]
    work = N * C * Ho * Wo * kh * kw
    return run_kernel(_max_pool2d_general_forward, work, x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)


@njit(parallel=True, cache=True)
def _max_pool2d_general_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    """Compiled body of :func:`max_pool2d_general_forward`."""
    N, C, H, W = x.shape
    z = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    am = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            h0 = i * sh - ph
            h1 = min(h0 + (kh - 1) * dh + 1, H)
            while h0 < 0:  # first tap inside the input
                h0 += dh
            for j in range(Wo):
                w0 = j * sw - pw
                w1 = min(w0 + (kw - 1) * dw + 1, W)
                while w0 < 0:
                    w0 += dw
                best = -np.inf
                bidx = h0 * W + w0
                for p in range(h0, h1, dh):
                    for q in range(w0, w1, dw):
                        v = x[n, c, p, q]
                        if v > best or v != v:  # strict '>': the first maximum; v != v: NaN
                            best = v
                            bidx = p * W + q
                z[n, c, i, j] = best
                am[n, c, i, j] = bidx
    return z, am


@njit(cache=True)
def _avg_window(i, j, kh, kw, sh, sw, ph, pw, H, W, count_include_pad, divisor):
    """Taps ``[h0, h1) × [w0, w1)`` inside the input of average-pooling window (i, j) and its divisor.

    PyTorch's rule: ``divisor`` (> 0) overrides; with ``count_include_pad`` the
    window clipped to the padded input, else the taps inside the input.
    """
    h0 = i * sh - ph
    w0 = j * sw - pw
    h1 = min(h0 + kh, H + ph)
    w1 = min(w0 + kw, W + pw)
    pool = (h1 - h0) * (w1 - w0)
    h0 = max(h0, 0)
    w0 = max(w0, 0)
    h1 = min(h1, H)
    w1 = min(w1, W)
    if divisor > 0:
        div = divisor
    elif count_include_pad:
        div = pool
    else:
        div = (h1 - h0) * (w1 - w0)
    return h0, h1, w0, w1, div


def avg_pool2d_general_forward(x, kh, kw, sh, sw, ph, pw, Ho, Wo, count_include_pad, divisor):
    """Average pooling with zero padding and a given output size: window sum / divisor.

    ``divisor`` > 0 is ``divisor_override`` (1 gives the plain window sum ⊞ of
    the lecture's weighted form); 0 selects PyTorch's rule by ``count_include_pad``.
    Returns ``z`` ``(N, C, Ho, Wo)``, dtype of ``x``.
    """
    N, C = x.shape[:2]
    work = N * C * Ho * Wo * kh * kw
    return run_kernel(_avg_pool2d_general_forward, work, x, kh, kw, sh, sw, ph, pw, Ho, Wo,
                      count_include_pad, divisor)


@njit(parallel=True, cache=True)
def _avg_pool2d_general_forward(x, kh, kw, sh, sw, ph, pw, Ho, Wo, count_include_pad, divisor):
    """Compiled body of :func:`avg_pool2d_general_forward`."""
    N, C, H, W = x.shape
    z = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            for j in range(Wo):
                h0, h1, w0, w1, div = _avg_window(i, j, kh, kw, sh, sw, ph, pw, H, W, count_include_pad, divisor)
                s = x.dtype.type(0)  # sum in the dtype of x, as PyTorch does
                if h0 >= h1 or w0 >= w1:
                    z[n, c, i, j] = s
                    continue
                for p in range(h0, h1):
                    for q in range(w0, w1):
                        s += x[n, c, p, q]
                z[n, c, i, j] = s / div
    return z


def avg_pool2d_general_backward(dz, H, W, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    """dA = (1/divisor) ⊠ dZ: each dz_{i,j}/divisor is added to every tap of its window
    inside the input; overlapping windows accumulate.  Returns dx ``(N, C, H, W)``."""
    N, C, Ho, Wo = dz.shape
    work = N * C * (Ho * Wo * kh * kw + H * W)
    return run_kernel(_avg_pool2d_general_backward, work, dz, H, W, kh, kw, sh, sw, ph, pw,
                      count_include_pad, divisor)


@njit(parallel=True, cache=True)
def _avg_pool2d_general_backward(dz, H, W, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    """Compiled body of :func:`avg_pool2d_general_backward`."""
    N, C, Ho, Wo = dz.shape
    dx = np.empty((N, C, H, W), dtype=dz.dtype)  # each plane zeroed by its own iteration
    for t in prange(N * C):
        n = t // C
        c = t % C
        dx[n, c, :, :] = 0
        for i in range(Ho):
            for j in range(Wo):
                h0, h1, w0, w1, div = _avg_window(i, j, kh, kw, sh, sw, ph, pw, H, W, count_include_pad, divisor)
                g = dz[n, c, i, j] / div
                for p in range(h0, h1):
                    for q in range(w0, w1):
                        dx[n, c, p, q] += g
    return dx


# --------------------------------------------------------------- max unpooling
def max_unpool2d_forward(x, indices, Ho, Wo):
    """``y[n,c].flat[indices[n,c,i,j]] = x[n,c,i,j]``, zero elsewhere (serial within a
    map, so a later duplicate index wins).  Indices are validated by the caller."""
    N, C, H, W = x.shape
    return run_kernel(_max_unpool2d_forward, N * C * (H * W + Ho * Wo), x, indices, Ho, Wo)


@njit(parallel=True, cache=True)
def _max_unpool2d_forward(x, indices, Ho, Wo):
    N, C, H, W = x.shape
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)  # each plane zeroed by its own iteration
    for t in prange(N * C):
        n = t // C
        c = t % C
        y[n, c, :, :] = 0
        for i in range(H):
            for j in range(W):
                a = indices[n, c, i, j]
                y[n, c, a // Wo, a % Wo] = x[n, c, i, j]
    return y


def max_unpool2d_backward(dy, indices):
    """dX: ``dx[n,c,i,j] = dy[n,c].flat[indices[n,c,i,j]]`` (a gather, as PyTorch)."""
    N, C, H, W = indices.shape
    return run_kernel(_max_unpool2d_backward, N * C * H * W, dy, indices)


@njit(parallel=True, cache=True)
def _max_unpool2d_backward(dy, indices):
    N, C, H, W = indices.shape
    Wo = dy.shape[3]
    dx = np.empty((N, C, H, W), dtype=dy.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(H):
            for j in range(W):
                a = indices[n, c, i, j]
                dx[n, c, i, j] = dy[n, c, a // Wo, a % Wo]
    return dx


# --------------------------------------------------------------- adaptive pooling
@njit(cache=True, inline="always")
def _adaptive_span(i, n_in, n_out):
    """Rows (or columns) floor(i·n_in/n_out) .. ceil((i+1)·n_in/n_out) − 1 of adaptive window i."""
    return (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)


def adaptive_avg_pool2d_forward(x, Ho, Wo):
    """Mean of each adaptive window (rows floor(i·H/Ho) .. ceil((i+1)·H/Ho) − 1, columns
    likewise), divided by its height then its width as PyTorch does."""
    N, C, H, W = x.shape
    return run_kernel(_adaptive_avg_pool2d_forward, N * C * (H + Ho) * (W + Wo), x, Ho, Wo)


@njit(parallel=True, cache=True)
def _adaptive_avg_pool2d_forward(x, Ho, Wo):
    N, C, H, W = x.shape
    z = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            h0, h1 = _adaptive_span(i, H, Ho)
            for j in range(Wo):
                w0, w1 = _adaptive_span(j, W, Wo)
                s = x.dtype.type(0)  # sum in the dtype of x
                for p in range(h0, h1):
                    for q in range(w0, w1):
                        s += x[n, c, p, q]
                z[n, c, i, j] = s / (h1 - h0) / (w1 - w0)
    return z


def adaptive_avg_pool2d_backward(dz, H, W):
    """Each dz_{i,j} / (window height) / (window width) added to every cell of its adaptive window."""
    N, C, Ho, Wo = dz.shape
    return run_kernel(_adaptive_avg_pool2d_backward, N * C * (H + Ho) * (W + Wo), dz, H, W)


@njit(parallel=True, cache=True)
def _adaptive_avg_pool2d_backward(dz, H, W):
    N, C, Ho, Wo = dz.shape
    dx = np.empty((N, C, H, W), dtype=dz.dtype)  # each plane zeroed by its own iteration
    for t in prange(N * C):
        n = t // C
        c = t % C
        dx[n, c, :, :] = 0
        for i in range(Ho):
            h0, h1 = _adaptive_span(i, H, Ho)
            for j in range(Wo):
                w0, w1 = _adaptive_span(j, W, Wo)
                g = dz[n, c, i, j] / (h1 - h0) / (w1 - w0)
                for p in range(h0, h1):
                    for q in range(w0, w1):
                        dx[n, c, p, q] += g
    return dx


def adaptive_max_pool2d_forward(x, Ho, Wo):
    """First maximum (NaN winning) of each adaptive window and its flat index ``p·W + q``;
    the backward is :func:`max_pool2d_backward`."""
    N, C, H, W = x.shape
    return run_kernel(_adaptive_max_pool2d_forward, N * C * (H + Ho) * (W + Wo), x, Ho, Wo)


@njit(parallel=True, cache=True)
def _adaptive_max_pool2d_forward(x, Ho, Wo):
    N, C, H, W = x.shape
    z = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    am = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            h0, h1 = _adaptive_span(i, H, Ho)
            for j in range(Wo):
                w0, w1 = _adaptive_span(j, W, Wo)
                best = -np.inf
                bidx = h0 * W + w0
                for p in range(h0, h1):
                    for q in range(w0, w1):
                        v = x[n, c, p, q]
                        if v > best or v != v:
                            best = v
                            bidx = p * W + q
                z[n, c, i, j] = best
                am[n, c, i, j] = bidx
    return z, am
