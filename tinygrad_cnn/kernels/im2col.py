"""The ``"im2col"`` path of the correlation engine: windows as columns, one BLAS product.

When a kernel is deep (C·kh·kw large) and dense, the lecture's sums are best
handed to BLAS: lay every window of V out as one column of a matrix ``col`` of
shape ``(C·kh·kw, n·Ho·Wo)``; then, with ``Wm = W.reshape(O, C·kh·kw)`` and dZ
as ``dZm`` of shape ``(O, n·Ho·Wo)``:

* Z = W ⊛ V       is  ``Wm @ col``          (:func:`correlate_gemm`, also used for dA,
  which the engine computes as a correlation of the padded, dilated dZ)
* dW = dZ ⋆ V     is  ``Σ_chunks dZm @ colᵀ``  (:func:`weight_gradient_gemm`)

Unconnected pairs of a connection matrix are zero weights here (selected with
``np.where``, so a NaN in an unconnected kernel stays out), and their dW is set
to exactly 0; the cost model sends sparse tables to the tap loops instead.

The batch is processed a few examples at a time so that ``col`` stays small
enough to live in cache; the framework's threads take chunks from one shared
queue, each running single-threaded BLAS (``_parallel.run_chunks``): one
hand-off per call instead of a thread rendezvous inside every small product.
Each thread keeps its own ``col`` buffer for all its chunks.
"""
import numpy as np
from numba import njit

from .. import runtime
from ._parallel import run_chunks
from .cost_model import covers_map

__all__ = ["im2col", "correlate_gemm", "weight_gradient_gemm", "correlate_scatter"]

#: Elements of ``col`` per chunk of the batch (about 2 MB in float32).
CHUNK_ELEMENTS = 1 << 19


@njit(cache=True, nogil=True)
def im2col(v, n0, n1, kh, kw, sh, sw, dh, dw, col):
    """Write the windows of examples ``n0:n1`` as columns into ``col``.

    ``col[(c·kh + k)·kw + l, (n − n0)·Ho·Wo + i·Wo + j] = v[n, c, i·S_r + k·D_r, j·S_c + l·D_c]``.
    """
    N, C, Hp, Wp = v.shape
    Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
    Wo = (Wp - dw * (kw - 1) - 1) // sw + 1
    L = Ho * Wo
    vf = v.reshape(N * C * Hp * Wp)
    for c in range(C):
        for k in range(kh):
            for l in range(kw):
                dst = col[(c * kh + k) * kw + l]
                for n in range(n0, n1):
                    for i in range(Ho):
                        s0 = ((n * C + c) * Hp + i * sh + k * dh) * Wp + l * dw
                        d0 = (n - n0) * L + i * Wo
                        # element loops: a slice assignment per short row costs more than the copy
                        if sw == 1:
                            for j in range(Wo):
                                dst[d0 + j] = vf[s0 + j]
                        else:
                            for j in range(Wo):
                                dst[d0 + j] = vf[s0 + j * sw]


def _chunks(N, depth, L):
    step = max(1, min(N, CHUNK_ELEMENTS // max(1, depth * L)))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)], step


def _masked(w, conn):
    """W with the kernels of unconnected pairs replaced by zeros (not multiplied by them)."""
    if conn.all():
        return w
    return np.where(conn[:, :, None, None] != 0, w, w.dtype.type(0))


def correlate_gemm(v, w, stride, dilation, conn, bias=None):
    """:func:`correlate` as ``Wm @ col``, a few examples at a time: ``(N, O, Ho, Wo)``."""
    N, C, Hp, Wp = v.shape
    O, _, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
    Wo = (Wp - dw * (kw - 1) - 1) // sw + 1
    L, depth = Ho * Wo, C * kh * kw
    wm = np.ascontiguousarray(_masked(w, conn)).reshape(O, depth)
    if covers_map(v.shape[2:], kh, kw, dilation):
        # one window per example, the whole map: Z = V as rows @ Wmᵀ, a fully connected layer
        with runtime.single_threaded_blas():
            z = v.reshape(N, depth) @ wm.T
        if bias is not None:
            z += np.asarray(bias, dtype=v.dtype)
        return z.reshape(N, O, 1, 1)
    z = np.empty((N, O, Ho, Wo), dtype=v.dtype)
    chunks, step = _chunks(N, depth, L)
    b = None if bias is None else np.asarray(bias, dtype=v.dtype).reshape(O, 1, 1)

    def work(mine):
        col = np.empty((depth, step * L), dtype=v.dtype)
        prod = np.empty((O, step * L), dtype=v.dtype)
        for _, (n0, n1) in mine:
            m = (n1 - n0) * L
            im2col(v, n0, n1, kh, kw, sh, sw, dh, dw, col)
            np.matmul(wm, col[:, :m], out=prod[:, :m])
            out = prod[:, :m].reshape(O, n1 - n0, L).transpose(1, 0, 2)
            if b is not None:
                out = out + b.reshape(1, O, 1)
            z[n0:n1] = out.reshape(n1 - n0, O, Ho, Wo)

    run_chunks(work, chunks)
    return z


def weight_gradient_gemm(dz, v, kernel, stride, dilation, conn):
    """dW = Σ_chunks dZm @ colᵀ: ``(O, C, kh, kw)``, exactly 0 for unconnected pairs.

    Each chunk gives its own partial dW, summed in chunk order whichever thread
    computed it (the same bits on any thread count): no races.
    """
    N, C = v.shape[:2]
    O, Ho, Wo = dz.shape[1:]
    kh, kw = kernel
    (sh, sw), (dh, dw) = stride, dilation
    L, depth = Ho * Wo, C * kh * kw
    if covers_map(v.shape[2:], kh, kw, dilation):
        # one window per example, the whole map: dW = dZᵀ @ V as rows
        if N == 1:  # an outer product: numpy's matmul has no BLAS call for a depth of 1 (10× slower)
            dwm = np.multiply.outer(dz.reshape(O), v.reshape(depth))
        else:
            with runtime.single_threaded_blas():
                dwm = dz.reshape(N, O).T @ v.reshape(N, depth)
        dwm = dwm.reshape(O, C, kh, kw)
        if not conn.all():
            dwm[conn == 0] = 0
        return dwm
    chunks, step = _chunks(N, depth, L)

    def work(mine):
        col = np.empty((depth, step * L), dtype=v.dtype)
        partial = []
        for k, (n0, n1) in mine:
            m = (n1 - n0) * L
            dzm = np.ascontiguousarray(dz[n0:n1].reshape(n1 - n0, O, L).transpose(1, 0, 2)).reshape(O, m)
            im2col(v, n0, n1, kh, kw, sh, sw, dh, dw, col)
            partial.append((k, dzm @ col[:, :m].T))
        return partial

    partial = sorted((p for mine in run_chunks(work, chunks) for p in mine), key=lambda p: p[0])
    dwm = partial[0][1]
    for _, p in partial[1:]:
        dwm += p
    dwm = dwm.reshape(O, C, kh, kw)
    if not conn.all():
        dwm[conn == 0] = 0
    return dwm


@njit(cache=True, nogil=True)
def scatter_taps(T, n0, n1, kh, kw, dh, dw, top, left, H, W, out):
    """Add every input cell's products (rows of ``T``, one per tap) to the outputs it reaches.

    ``T[(o·kh + k)·kw + l, (n − n0)·H·W + a·W + b]`` is Σ_c w[o,c,k,l]·v[n,c,a,b]; it belongs to
    output cell (a + top − k·D_r, b + left − l·D_c) when that lies inside ``out``.
    """
    O, Ho, Wo = out.shape[1], out.shape[2], out.shape[3]
    for o in range(O):
        for k in range(kh):
            for l in range(kw):
                row = T[(o * kh + k) * kw + l]
                shift = left - l * dw
                b0 = max(0, -shift)
                b1 = min(W, Wo - shift)
                for n in range(n0, n1):
                    for a in range(H):
                        p = a + top - k * dh
                        if p < 0 or p >= Ho:
                            continue
                        base = ((n - n0) * H + a) * W
                        dst = out[n, o, p]
                        for b in range(b0, b1):
                            dst[b + shift] += row[base + b]


def correlate_scatter(v, w, dilation, conn, padding, bias=None):
    """:func:`correlate` at stride 1 of ``v`` zero-padded by ``padding``, input-driven.

    The same sums as the other paths, but each input cell is visited once:
    ``T = Wtᵀ-layout @ V`` (one BLAS product per chunk, only real cells of V,
    never the zeros of the padding) and every product is added to the output
    cell it belongs to.  Cheap when the padding is most of the padded input, as
    in the full correlation of a small dZ.
    """
    N, C, H, W = v.shape
    O, _, kh, kw = w.shape
    (dh, dw), (top, bottom, left, right) = dilation, padding
    Ho = H + top + bottom - dh * (kh - 1)
    Wo = W + left + right - dw * (kw - 1)
    taps = O * kh * kw
    if (H, W, Ho, Wo, top, left, dh, dw) == (1, 1, kh, kw, kh - 1, kw - 1, 1, 1):
        # a 1×1 input padded to the kernel's size all round (the full correlation of
        # a 1×1 dZ): output cell (a, b) gets exactly one tap, (kh−1−a, kw−1−b), so the
        # output is one product with the kernels turned back by 180°.  For dA that
        # undoes the backward's rot180(W)ᵀ: the reshape below is then of W's own
        # memory, no copy (LeNet's C5: 40 µs instead of 85 µs).
        w_back = _masked(w, conn)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C, taps)
        with runtime.single_threaded_blas():
            out = (v.reshape(N, C) @ w_back).reshape(N, O, kh, kw)
        if bias is not None:
            out += np.asarray(bias, dtype=v.dtype).reshape(1, O, 1, 1)
        return out
    wt = np.ascontiguousarray(_masked(w, conn).transpose(0, 2, 3, 1)).reshape(taps, C)
    out = np.zeros((N, O, Ho, Wo), dtype=v.dtype)
    if bias is not None:
        out += np.asarray(bias, dtype=v.dtype).reshape(1, O, 1, 1)
    L = H * W
    chunks, step = _chunks(N, max(C, taps), L)

    def work(mine):
        for _, (n0, n1) in mine:
            vm = np.ascontiguousarray(v[n0:n1].reshape(n1 - n0, C, L).transpose(1, 0, 2)).reshape(C, (n1 - n0) * L)
            scatter_taps(wt @ vm, n0, n1, kh, kw, dh, dw, top, left, H, W, out)

    run_chunks(work, chunks)
    return out
