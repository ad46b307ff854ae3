"""Convolution as matrix products (im2col), for deep kernels.

When a kernel is deep (C·kh·kw large) the lecture's sums are best handed to
BLAS: lay every window of V out as one column of a matrix ``col`` of shape
``(C·kh·kw, n·Ho·Wo)``; then, with ``Wm = W.reshape(O, C·kh·kw)`` and dZ as
``dZm`` of shape ``(O, n·Ho·Wo)``:

* Z = W ⊛ V               is  ``Wm @ col``
* dW = dZ ⋆ V              is  ``dZm @ colᵀ``
* dA = Σ rot180(W) ⋆ dZ    is  ``col2im(Wmᵀ @ dZm)``: every window's
  gradient added back where the window came from.

The batch is processed a few examples at a time so that ``col`` stays small
enough to live in cache (no large allocation per call).  The framework's
threads take chunks from one shared queue, each running single-threaded
BLAS (``_parallel.run_chunks``): one hand-off per call instead of a thread
rendezvous inside every small matrix product, which on a busy machine costs
more than the product itself.
Plain array-in/array-out functions on C-contiguous float32/float64 arrays,
no validation (the caller checks).
"""
import numpy as np
from numba import njit

from ._parallel import run_chunks

__all__ = ["im2col", "col2im", "conv2d_forward_gemm", "conv2d_backward_gemm"]

#: Elements of ``col`` per chunk of the batch (about 2 MB in float32).
CHUNK_ELEMENTS = 1 << 19


@njit(cache=True, nogil=True)
def im2col(xp, n0, n1, kh, kw, sh, sw, col):
    """Write the windows of examples ``n0:n1`` as columns into ``col``.

    ``col[(c·kh + k)·kw + l, (n − n0)·Ho·Wo + i·Wo + j] = xp[n, c, i·sh + k, j·sw + l]``.
    """
    N, C, Hp, Wp = xp.shape
    Ho = (Hp - kh) // sh + 1
    Wo = (Wp - kw) // sw + 1
    L = Ho * Wo
    xf = xp.reshape(N * C * Hp * Wp)
    for c in range(C):
        for k in range(kh):
            for l in range(kw):
                dst = col[(c * kh + k) * kw + l]
                for n in range(n0, n1):
                    for i in range(Ho):
                        s0 = ((n * C + c) * Hp + i * sh + k) * Wp + l
                        d0 = (n - n0) * L + i * Wo
                        if sw == 1:
                            dst[d0:d0 + Wo] = xf[s0:s0 + Wo]
                        else:
                            for j in range(Wo):
                                dst[d0 + j] = xf[s0 + j * sw]


@njit(cache=True, nogil=True)
def col2im(dcol, n0, n1, kh, kw, sh, sw, dxp):
    """Add each window's gradient (columns of ``dcol``) back into examples ``n0:n1`` of ``dxp``.

    The inverse layout of :func:`im2col`; overlapping windows accumulate.
    """
    N, C, Hp, Wp = dxp.shape
    Ho = (Hp - kh) // sh + 1
    Wo = (Wp - kw) // sw + 1
    L = Ho * Wo
    df = dxp.reshape(N * C * Hp * Wp)
    for c in range(C):
        for k in range(kh):
            for l in range(kw):
                src = dcol[(c * kh + k) * kw + l]
                for n in range(n0, n1):
                    for i in range(Ho):
                        d0 = ((n * C + c) * Hp + i * sh + k) * Wp + l
                        s0 = (n - n0) * L + i * Wo
                        for j in range(Wo):
                            df[d0 + j * sw] += src[s0 + j]


def _chunks(N, depth, L):
    step = max(1, min(N, CHUNK_ELEMENTS // max(1, depth * L)))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)], step


def conv2d_forward_gemm(xp, w, bias, sh, sw):
    """Z = W ⊛ V (+ b) as ``Wm @ col``, a few examples at a time: ``(N, O, Ho, Wo)``."""
    N, C, Hp, Wp = xp.shape
    O, _, kh, kw = w.shape
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    z = np.empty((N, O, Ho, Wo), dtype=xp.dtype)
    chunks, step = _chunks(N, C * kh * kw, Ho * Wo)

    def work(mine):
        wm = w.reshape(O, C * kh * kw)
        col = np.empty((C * kh * kw, step * Ho * Wo), dtype=xp.dtype)
        for _, (n0, n1) in mine:
            m = (n1 - n0) * Ho * Wo
            im2col(xp, n0, n1, kh, kw, sh, sw, col)
            z[n0:n1] = (wm @ col[:, :m]).reshape(O, n1 - n0, Ho, Wo).transpose(1, 0, 2, 3)

    run_chunks(work, chunks)
    if bias is not None:
        z += bias.reshape(1, O, 1, 1)
    return z


def conv2d_backward_gemm(dz, xp, w, sh, sw, need_dx, need_dw):
    """(dA of the padded input or None, dW or None) by matrix products, a few examples at a time.

    dW = Σ dZm @ colᵀ and dA = col2im(Wmᵀ @ dZm): the rot180 full correlation
    written as "each window gives its gradient back".  Each chunk gives its own
    partial dW, summed in chunk order whichever thread computed it (the same
    bits on any thread count), and writes dA only for its own examples, so
    nothing races.
    """
    N, C, Hp, Wp = xp.shape
    O, _, kh, kw = w.shape
    Ho, Wo = dz.shape[2], dz.shape[3]
    L, depth = Ho * Wo, C * kh * kw
    dxp = np.zeros(xp.shape, dtype=xp.dtype) if need_dx else None
    chunks, step = _chunks(N, depth, L)

    def work(mine):
        wm = w.reshape(O, depth)
        col = np.empty((depth, step * L), dtype=xp.dtype)
        partial = []
        for k, (n0, n1) in mine:
            m = (n1 - n0) * L
            dzm = np.ascontiguousarray(dz[n0:n1].reshape(n1 - n0, O, L).transpose(1, 0, 2)).reshape(O, m)
            if need_dw:
                im2col(xp, n0, n1, kh, kw, sh, sw, col)
                partial.append((k, dzm @ col[:, :m].T))
            if need_dx:
                col2im(wm.T @ dzm, n0, n1, kh, kw, sh, sw, dxp)
        return partial

    partial = sorted((p for mine in run_chunks(work, chunks) for p in mine), key=lambda p: p[0])
    dw = None
    if need_dw:
        dw = partial[0][1]
        for _, p in partial[1:]:
            dw += p
        dw = dw.reshape(w.shape)
    return dxp, dw
