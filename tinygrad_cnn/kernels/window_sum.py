"""The window sum ⊞ and its adjoint ⊠: the kernels of the lecture's average pooling.

In the plain geometry (no padding, no dilation, floor-sized output), 0-based::

    window sum (⊞)   s_{i,j} = Σ_k Σ_l v_{i·sh+k, j·sw+l}
    average pooling  z^{h} = w^{h} · s^{h}     (w^{h} = 1/(kh·kw) for the mean,
                     (+ b^{h})                  the lecture's trained weight in LeNet,
                                                with its bias b^{h})
    its backward     dA^{h} = w^{h} ⊠ dZ^{h}   (every w·dz_{i,j} copied to each cell of
                                                its window; overlapping windows accumulate)

The per-map scale is applied inside the same pass as the sum (forward) or the
expansion (backward), so average pooling reads and writes each array once; LeNet's
weighted pooling also sums its dw and db in the expansion's pass.
The 2×2 window with stride 2, the lecture's and LeNet's, has its own loops
(unit-stride rows, no inner window loops); any other window runs the general
loops.  Both add the window's cells in the same order (row by row, left to
right), so they give the same bits.

Array requirements (not checked here): 4-D C-contiguous float arrays, the
per-map ``scale`` of the same dtype with one entry per map.
"""
import numpy as np
from numba import njit, prange

from .. import _checks as check
from ._parallel import run_kernel

__all__ = ["window_sum_forward", "scaled_window_sum_forward", "window_sum_backward", "window_sum_dot"]


def window_sum_forward(x, kh, kw, sh, sw):
    """Window sum ⊞ V: ``s[n,c,i,j] = Σ_k Σ_l x[n,c, i·sh+k, j·sw+l]``, ``(N, C, Ho, Wo)``."""
    ones = np.ones(x.shape[1], dtype=x.dtype)
    return scaled_window_sum_forward(x, ones, kh, kw, sh, sw, keep_sum=False)[0]


def scaled_window_sum_forward(x, scale, kh, kw, sh, sw, keep_sum=True, shift=None):
    """``(z, s)``: z = scale^{c} · ⊞V (+ shift^{c}, a per-map bias, when given) and,
    when ``keep_sum``, the window sum s itself (else None)."""
    N, C, H, W = x.shape
    Ho, Wo = check.output_size(H, kh, sh), check.output_size(W, kw, sw)
    work = N * C * Ho * Wo * kh * kw
    scale = np.ascontiguousarray(scale, dtype=x.dtype)
    has_shift = shift is not None
    # without a bias the kernel gets ``scale`` in its place and never reads it (adding 0 would
    # turn −0.0 into +0.0)
    shift = np.ascontiguousarray(shift, dtype=x.dtype) if has_shift else scale
    z, s = run_kernel(_window_sum_forward, work, x, scale, shift, has_shift, kh, kw, sh, sw, keep_sum)
    return z, (s if keep_sum else None)


@njit(parallel=True, cache=True)
def _window_sum_forward(x, scale, shift, has_shift, kh, kw, sh, sw, keep_sum):
    """Compiled body of :func:`scaled_window_sum_forward`: one parallel iteration per (n, c) plane."""
    N, C, H, W = x.shape
    Ho = (H - kh) // sh + 1
    Wo = (W - kw) // sw + 1
    z = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    s = np.empty((N, C, Ho, Wo) if keep_sum else (1, 1, 1, 1), dtype=x.dtype)
    tile = kh == 2 and kw == 2 and sh == 2 and sw == 2
    # Plain 4-D indexing throughout: taking a row view per output row costs
    # more than the row's few additions at LeNet's map sizes.
    for t in prange(N * C):
        n = t // C
        c = t % C
        w = scale[c]
        b = shift[c]
        for i in range(Ho):
            for j in range(Wo):
                if tile:
                    v = x[n, c, 2 * i, 2 * j] + x[n, c, 2 * i, 2 * j + 1] \
                        + x[n, c, 2 * i + 1, 2 * j] + x[n, c, 2 * i + 1, 2 * j + 1]
                else:
                    v = x.dtype.type(0)
                    for k in range(kh):
                        for l in range(kw):
                            v += x[n, c, i * sh + k, j * sw + l]
                # w·v rounded, then + b: the bits of the two steps done one after the other
                z[n, c, i, j] = v * w + b if has_shift else v * w
                if keep_sum:
                    s[n, c, i, j] = v
    return z, s


def window_sum_backward(ds, H, W, kh, kw, sh, sw, scale=None, s=None):
    """The expansion ⊠: ``dx[n,c, i·sh+k, j·sw+l] += scale^{c} · ds[n,c,i,j]``, ``(N, C, H, W)``.

    Cells covered by no window get 0.  With ``scale`` = w this is the lecture's
    dA = w ⊠ dZ; None means 1.  Parallel over (n, c) planes only: race-free.
    Given the forward's window sums ``s`` (⊞A, the shape of ``ds``), returns
    ``(dx, dw, db)``: also :func:`window_sum_dot`'s dw = Σ ds ∘ s and db = Σ ds,
    with its bits; for the exact 2×2 tiling (LeNet's) from the same pass over ``ds``,
    one parallel loop instead of two.
    """
    N, C, Ho, Wo = ds.shape
    scale = np.ones(C, dtype=ds.dtype) if scale is None else np.ascontiguousarray(scale, dtype=ds.dtype)
    exact = (kh, kw, sh, sw) == (2, 2, 2, 2) and (H, W) == (2 * Ho, 2 * Wo)
    # the exact 2×2 tiling writes each cell once; otherwise zeros first, then every tap adds
    work = N * C * (H * W if exact else Ho * Wo * kh * kw + H * W)
    if s is None:
        return run_kernel(_window_sum_backward, work, ds, scale, H, W, kh, kw, sh, sw)
    if not exact:
        return (run_kernel(_window_sum_backward, work, ds, scale, H, W, kh, kw, sh, sw),
                *window_sum_dot(ds, s, with_sum=True))
    return run_kernel(_window_sum_backward_dot, work, np.ascontiguousarray(ds),
                      np.ascontiguousarray(s, dtype=ds.dtype), scale)


@njit(parallel=True, cache=True)
def _window_sum_backward(ds, scale, H, W, kh, kw, sh, sw):
    """Compiled body of :func:`window_sum_backward`."""
    N, C, Ho, Wo = ds.shape
    tile = kh == 2 and kw == 2 and sh == 2 and sw == 2
    # exact tiling writes every cell; otherwise cells outside all windows must be 0
    exact = tile and H == 2 * Ho and W == 2 * Wo
    dx = np.empty((N, C, H, W), dtype=ds.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        if not exact:  # zeroed by the iteration that writes the plane, not in a pass of its own
            dx[n, c, :, :] = 0
        if tile:
            _expand_tile(ds[n, c], dx[n, c], scale[c])
            continue
        w = scale[c]
        for i in range(Ho):
            for k in range(kh):
                for l in range(kw):
                    for j in range(Wo):
                        dx[n, c, i * sh + k, j * sw + l] += ds[n, c, i, j] * w
    return dx


@njit(cache=True, inline="always")
def _expand_tile(dsp, dxp, w):
    """One plane of the 2×2, stride-2 expansion: each w·ds_{i,j} written to the four cells of its window."""
    for i in range(dsp.shape[0]):
        for j in range(dsp.shape[1]):
            v = dsp[i, j] * w
            dxp[2 * i, 2 * j] = v
            dxp[2 * i, 2 * j + 1] = v
            dxp[2 * i + 1, 2 * j] = v
            dxp[2 * i + 1, 2 * j + 1] = v


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _window_sum_backward_dot(ds, s, scale):
    """:func:`_window_sum_backward` for the exact 2×2 tiling with :func:`_window_sum_dot`'s sums
    of each plane in the same iteration.  The expansion only multiplies and stores (nothing
    for ``fastmath`` to change); the dot products are :func:`_plane_dot_sum`, as there."""
    N, C, Ho, Wo = ds.shape
    L = Ho * Wo
    d = ds.reshape(N * C * L)
    v = s.reshape(N * C * L)
    dx = np.empty((N, C, 2 * Ho, 2 * Wo), dtype=ds.dtype)
    planes = np.empty((N, C, 2), dtype=np.float64)
    for t in prange(N * C):
        n = t // C
        c = t % C
        _expand_tile(ds[n, c], dx[n, c], scale[c])
        planes[n, c, 0], planes[n, c, 1] = _plane_dot_sum(d[t * L:(t + 1) * L], v[t * L:(t + 1) * L])
    dw, db = _sum_over_batch(planes, ds.dtype)
    return dx, dw, db


def window_sum_dot(ds, s, with_sum=False):
    """dw^{c} = Σ_{n,i,j} ds ∘ s per map: the lecture's dw = ⊞(dZ ∘ ⊞A) for average pooling's weight.

    With ``with_sum``, ``(dw, db)``: also db^{c} = Σ_{n,i,j} ds, the gradient of a
    per-map bias, from the same pass.  float64 sums per (n, c) plane, added over
    the batch in order: the same bits on any number of threads.  ``ds`` and ``s``
    of one shape, one dtype; ``(C,)`` arrays of that dtype.
    """
    N, C = ds.shape[:2]
    # a plane's start-up costs about as much as 32 of its elements (small planes: LeNet's S4)
    dw, db = run_kernel(_window_sum_dot, N * C * (ds.shape[2] * ds.shape[3] + 32), np.ascontiguousarray(ds),
                        np.ascontiguousarray(s, dtype=ds.dtype))
    return (dw, db) if with_sum else dw


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _window_sum_dot(ds, s):
    """Compiled body of :func:`window_sum_dot`: ``(Σ ds ∘ s, Σ ds)`` per map."""
    N, C, Ho, Wo = ds.shape
    L = Ho * Wo
    d = ds.reshape(N * C * L)
    v = s.reshape(N * C * L)
    planes = np.empty((N, C, 2), dtype=np.float64)
    for t in prange(N * C):  # plane t = (n, c) is d[t·L : (t+1)·L]
        planes[t // C, t % C, 0], planes[t // C, t % C, 1] = _plane_dot_sum(d[t * L:(t + 1) * L],
                                                                            v[t * L:(t + 1) * L])
    return _sum_over_batch(planes, ds.dtype)


@njit(cache=True, inline="always", fastmath={"reassoc", "contract"})
def _plane_dot_sum(dp, vp):
    """``(Σ dp ∘ vp, Σ dp)`` over one plane, in float64.

    The sums may be reassociated (vectorised with several partial sums: one
    float64 sum in order waits on its previous addition at every element); the
    order is fixed by the compiled code, not by the thread count.  Inlined, it is
    compiled with its caller's ``fastmath`` flags: both callers must keep the same
    ones for their bits to agree.
    """
    dot = 0.0
    total = 0.0
    for m in range(dp.shape[0]):
        e = np.float64(dp[m])
        dot += e * np.float64(vp[m])
        total += e
    return dot, total


@njit(cache=True)
def _sum_over_batch(planes, dtype):
    """Per map c, the planes' ``(dot, total)`` added over the batch in order, in ``dtype``."""
    N, C = planes.shape[:2]
    dw = np.empty(C, dtype=dtype)
    db = np.empty(C, dtype=dtype)
    for c in range(C):
        dot = 0.0
        total = 0.0
        for n in range(N):
            dot += planes[n, c, 0]
            total += planes[n, c, 1]
        dw[c] = dot
        db[c] = total
    return dw, db
