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

Output sizes use floor division like PyTorch (``_checks.output_size``):
Ho = (H - kh)//sh + 1; cells that no window covers get a zero gradient.

Array requirements (not checked here; the caller guarantees them): 4-D
``(N, C, H, W)`` float32 or float64 arrays (the output keeps the dtype),
C-contiguous for speed (other layouts work but compile another
specialisation), window no larger than the input, strides >= 1.

Each public function is a thin Python wrapper that runs its compiled body
on one thread when the work is small (see ``_parallel.run_kernel``).  Beside the kernels
sit their naive references, the same equations as plain Python loops
(``max_pool2d_reference``, ``avg_pool2d_reference`` and their backward).
"""
import math

import numpy as np
from numba import njit, prange

from .. import _checks as check

from ._parallel import run_kernel

__all__ = [
    "max_pool2d_forward",
    "max_pool2d_backward",
    "window_sum_forward",
    "window_sum_backward",
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
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            for j in range(Wo):
                p0 = i * sh
                q0 = j * sw
                best = x[n, c, p0, q0]
                bidx = p0 * W + q0
                for k in range(kh):
                    xrow = x[n, c, p0 + k]
                    for l in range(kw):
                        v = xrow[q0 + l]
                        # strict '>' keeps the first maximum; 'v != v' is NaN
                        if v > best or v != v:
                            best = v
                            bidx = (p0 + k) * W + q0 + l
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
    dx = np.zeros((N, C, H, W), dtype=dz.dtype)
    HW = H * W
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            for j in range(Wo):
                a = argmax[n, c, i, j]
                if a >= 0 and a < HW:
                    dx[n, c, a // W, a % W] += dz[n, c, i, j]
    return dx


# --------------------------------------------------------------- naive reference of max pooling
def _reference_geometry(x, kernel_size, stride):
    """Window, stride and output size of a naive pooling loop (``stride=None``: the window)."""
    kh, kw = check.pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else check.pair(stride, "stride")
    H, W = x.shape[2:]
    return kh, kw, sh, sw, check.output_size(H, kh, sh), check.output_size(W, kw, sw)


def _window_argmax(x, n, c, i0, j0, kh, kw):
    """First maximum of one window in row-major order; NaN wins (PyTorch's rule:
    ``if v > best or isnan(v)``, so the last NaN of the window is chosen)."""
    best = x[n, c, i0, j0]
    bi, bj = i0, j0
    for k in range(kh):
        for l in range(kw):
            v = x[n, c, i0 + k, j0 + l]
            if v > best or math.isnan(v):
                best, bi, bj = v, i0 + k, j0 + l
    return best, bi, bj


def max_pool2d_reference(x, kernel_size, stride=None):
    """Naive loops for :func:`max_pool2d_forward`: max pooling Z = max_{r,c} V::

        z_{i,j} = max { v_{r(i-1)+k, c(j-1)+l} | k = 1..r; l = 1..c }

    generalised to a stride S (window of (i, j) starts at (i·S_r, j·S_c));
    ``stride=None`` means the window size (no overlap, the lecture's case).
    A window containing NaN gives NaN.  ``x`` is ``(N, C, H, W)``, ``(C, H, W)`` or
    ``(H, W)``; returns float64 of the same rank.
    """
    x = np.asarray(x, dtype=np.float64)
    x4, rank = check.as_4d(x, "x", "reference")
    kh, kw, sh, sw, Ho, Wo = _reference_geometry(x4, kernel_size, stride)
    N, C = x4.shape[:2]
    z = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    z[n, c, i, j] = _window_argmax(x4, n, c, i * sh, j * sw, kh, kw)[0]
    return check.from_4d(z, rank)


def max_pool2d_backward_reference(x, dz, kernel_size, stride=None):
    """Naive loops for :func:`max_pool2d_backward`.

    ``da`` is dz_{i,j} at the position of the maximum of window (i, j) and 0
    elsewhere.  On ties the FIRST maximum in row-major window order gets the
    gradient; where windows overlap, the contributions accumulate.  Returns
    float64 dx ``(N, C, H, W)``.
    """
    x = np.asarray(x, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    kh, kw, sh, sw, Ho, Wo = _reference_geometry(x, kernel_size, stride)
    N, C = x.shape[:2]
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    _, bi, bj = _window_argmax(x, n, c, i * sh, j * sw, kh, kw)
                    dx[n, c, bi, bj] += dz[n, c, i, j]
    return dx



def window_sum_forward(x, kh, kw, sh, sw):
    """Window sum  ⊞_{r,c} V  (the core of average pooling).

    ``s[n,c,i,j] = Σ_k Σ_l x[n,c, i·sh+k, j·sw+l]``.  The caller divides by
    kh·kw for the mean (PyTorch's avg_pool2d) or multiplies by the lecture's
    per-map weight w^{h}:  z_{i,j} = w^{h} · Σ(window).

    Parameters
    ----------
    x : (N, C, H, W) float array.
    kh, kw : int window size.
    sh, sw : int strides.

    Returns
    -------
    s : (N, C, Ho, Wo), same dtype as ``x``.
    """
    N, C, H, W = x.shape
    work = N * C * check.output_size(H, kh, sh) * check.output_size(W, kw, sw) * kh * kw
    return run_kernel(_window_sum_forward, work, x, kh, kw, sh, sw)


@njit(parallel=True, cache=True)
def _window_sum_forward(x, kh, kw, sh, sw):
    """Compiled body of :func:`window_sum_forward`."""
    N, C, H, W = x.shape
    Ho = (H - kh) // sh + 1
    Wo = (W - kw) // sw + 1
    s = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            srow = s[n, c, i]
            for k in range(kh):
                xrow = x[n, c, i * sh + k]
                for l in range(kw):
                    if sw == 1:
                        for j in range(Wo):
                            srow[j] += xrow[j + l]
                    else:
                        for j in range(Wo):
                            srow[j] += xrow[j * sw + l]
    return s


def window_sum_backward(ds, H, W, kh, kw, sh, sw):
    """Kronecker expansion  ⊠_{r,c} dS:  the backward pass of ⊞.

    Each ds_{i,j} is added to every cell of its window::

        dx[n,c, i·sh+k, j·sw+l] += ds[n,c,i,j]

    overlapping windows accumulate; cells covered by no window get 0.  With
    ``ds = w^{h} · dZ`` this is the lecture's dA = w ⊠ dZ.  Parallel over
    (n, c) planes only, so it is race-free.

    Parameters
    ----------
    ds : (N, C, Ho, Wo) gradient with respect to the window sums.
    H, W : int, spatial size of the forward input.
    kh, kw : int window size.
    sh, sw : int strides.

    Returns
    -------
    dx : (N, C, H, W), same dtype as ``ds``.
    """
    N, C, Ho, Wo = ds.shape
    work = N * C * (Ho * Wo * kh * kw + H * W)
    return run_kernel(_window_sum_backward, work, ds, H, W, kh, kw, sh, sw)


@njit(parallel=True, cache=True)
def _window_sum_backward(ds, H, W, kh, kw, sh, sw):
    """Compiled body of :func:`window_sum_backward`."""
    N, C, Ho, Wo = ds.shape
    dx = np.zeros((N, C, H, W), dtype=ds.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for i in range(Ho):
            dsrow = ds[n, c, i]
            for k in range(kh):
                dxrow = dx[n, c, i * sh + k]
                for l in range(kw):
                    if sw == 1:
                        for j in range(Wo):
                            dxrow[j + l] += dsrow[j]
                    else:
                        for j in range(Wo):
                            dxrow[j * sw + l] += dsrow[j]
    return dx


# --------------------------------------------------------------- naive reference of average pooling
def avg_pool2d_reference(x, kernel_size, stride=None, weight=None):
    """Naive loops for :func:`window_sum_forward` scaled: average pooling Z = w ⊞^{ave}_{r,c} V.

    The lecture's form, one trainable scalar w^{h} per feature map::

        z_{i,j} = { Σ_{k=1}^{r} Σ_{l=1}^{c} v_{r(i-1)+k, c(j-1)+l} } w

    generalised to a stride S.  With ``weight=None`` it is the window mean
    (w = 1/(r·c), PyTorch's avg_pool2d); otherwise ``weight`` is the ``(C,)``
    vector of the w^{h}.  Returns float64 of the rank of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    x4, rank = check.as_4d(x, "x", "reference")
    kh, kw, sh, sw, Ho, Wo = _reference_geometry(x4, kernel_size, stride)
    N, C = x4.shape[:2]
    z = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            wc = 1.0 / (kh * kw) if weight is None else float(weight[c])
            for i in range(Ho):
                for j in range(Wo):
                    s = 0.0
                    for k in range(kh):
                        for l in range(kw):
                            s += x4[n, c, i * sh + k, j * sw + l]
                    z[n, c, i, j] = s * wc
    return check.from_4d(z, rank)


def avg_pool2d_backward_reference(x, dz, kernel_size, stride=None, weight=None):
    """Naive loops for :func:`window_sum_backward` and the weight gradient.

    The lecture's scalar forms (generalised to a stride; overlapping windows
    accumulate, cells in no window get 0)::

        da_{r(i-1)+k, c(j-1)+l} = dz_{i,j} × w        for k = 1..r, l = 1..c
            i.e.  dA = w ⊠^{ave}_{r,c} dZ
        dw = Σ_i Σ_j dz_{i,j} { Σ_k Σ_l a_{r(i-1)+k, c(j-1)+l} }
            i.e.  dw = ⊞(dZ ∘ (⊞^{ave}_{r,c} A))

    ``dw^{h}`` is summed over the batch.  Returns float64 dx ``(N, C, H, W)``
    when ``weight`` is None (w = 1/(r·c)), else ``(dx, dw)`` with dw ``(C,)``.
    """
    x = np.asarray(x, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    kh, kw, sh, sw, Ho, Wo = _reference_geometry(x, kernel_size, stride)
    N, C = x.shape[:2]
    dx = np.zeros(x.shape)
    dw = np.zeros(C)
    for n in range(N):
        for c in range(C):
            wc = 1.0 / (kh * kw) if weight is None else float(weight[c])
            for i in range(Ho):
                for j in range(Wo):
                    window_sum = 0.0
                    for k in range(kh):
                        for l in range(kw):
                            dx[n, c, i * sh + k, j * sw + l] += dz[n, c, i, j] * wc
                            window_sum += x[n, c, i * sh + k, j * sw + l]
                    dw[c] += dz[n, c, i, j] * window_sum
    if weight is None:
        return dx
    return dx, dw
