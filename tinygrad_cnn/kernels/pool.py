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

Output sizes use floor division like PyTorch: Ho = (H - kh)//sh + 1,
Wo = (W - kw)//sw + 1; cells that no window covers get a zero gradient.

Array requirements (not checked here; the caller guarantees them): 4-D
``(N, C, H, W)`` float32 or float64 arrays (the output keeps the dtype),
C-contiguous for speed (other layouts work but compile another
specialisation), window no larger than the input, strides >= 1.

Each public function is a thin Python wrapper that runs its compiled body
on one thread when the work is small (see ``_parallel.run_kernel``).
"""
import numpy as np
from numba import njit, prange

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
    work = N * C * ((H - kh) // sh + 1) * ((W - kw) // sw + 1) * kh * kw
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
    work = N * C * ((H - kh) // sh + 1) * ((W - kw) // sw + 1) * kh * kw
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
