"""The weight gradient of the convolution layer: dW = dZ ⋆ V, summed over the batch.

The lecture's scalar form, 0-based, with stride S and dilation D::

    dw[o,c,u,v] = Σ_n Σ_i Σ_j dz[n,o,i,j] · v[n,c, i·S_r + u·D_r, j·S_c + v·D_c]

for connected pairs (conn[o,c] = 1); the kernels of unconnected pairs get
exactly 0 and their work is skipped.  ``v`` is the zero-padded forward input.

Three paths, picked by the engine's cost model (``cost_model.choose_path``): the
``"taps"`` loops below, the same dot products with the examples innermost for small
maps (``batch_inner.weight_gradient_batch``), or im2col + one BLAS product per chunk
(``im2col.weight_gradient_gemm``).

The taps loops, stride 1: each input map is zero-padded as kw copies, copy l
shifted left by l columns and Wo wide, so that tap (u, v) of the pair (o, c) is
one dot product ``Σ_m dz_o[m] · copy_v[u·Wo + m]`` over dZ's own rows.  A
chunk's examples on small maps are stacked one after another in the copies and
in dZ (:func:`stack_size`), so that one dot product runs over several examples
and its vector of partial sums is added up once per stack.  The dot products
run four output maps × four taps at a time (``dots._dots_4x4``): each value
loaded feeds four multiply-adds.  The batch is cut into chunks of up to
BATCH_CHUNK examples (a small batch also splits its input maps into groups,
:func:`batch_split`); one parallel iteration per (chunk, group) writes its own
partial sums (float64), which are added in chunk order at the end: no races,
and the same bits on any number of threads.  Other strides: one
strided dot product per output row and tap.
"""
import numpy as np
from numba import njit, prange

from . import batch_inner, im2col
from ._parallel import conn_array, run_kernel
from .correlation import _outputs_of_inputs, pad, shifted_copies
from .cost_model import choose_path, covers_map
from .dots import _dots_2x4, _dots_4x4, _taps_dots

__all__ = ["weight_gradient"]

def weight_gradient(dz, v, kernel, stride=(1, 1), dilation=(1, 1), conn=None, padding=(0, 0, 0, 0),
                    copies=None):
    """dW = dZ ⋆ V: ``(O, C, kh, kw)`` from dZ ``(N, O, Ho, Wo)`` and V ``(N, C, H, W)``
    zero-padded by ``padding`` = (top, bottom, left, right) (the forward's P^d; V may come
    padded already, with the default no padding).  ``copies``: the ``batch_inner.LayoutCopies``
    of the forward pass and dA, whose copies of V and dZ the batch path reads instead of its own."""
    dz = np.ascontiguousarray(dz)
    v = np.ascontiguousarray(v)
    N, O, Ho, Wo = dz.shape
    C, H, W = v.shape[1:]
    top, bottom, left, right = padding
    Hp, Wp = H + top + bottom, W + left + right
    kh, kw = kernel
    (sh, sw), (dh, dw) = stride, dilation
    conn = np.ones((O, C), np.uint8) if conn is None else conn_array(conn)
    whole = covers_map((Hp, Wp), kh, kw, dilation)
    # stride 1: the taps pad V themselves (shifted copies), and dZ keeps its own rows of Wo
    stride_one = (sh, sw) == (1, 1) and min(padding) >= 0
    row = Wo if stride_one else Wp
    path = choose_path(N, C, O, kh, kw, Ho, Wo, row, tuple(stride), conn, weight=True, whole=whole,
                       input_size=(H, W) if stride_one else None, dilation=tuple(dilation))
    if path == "im2col":
        return im2col.weight_gradient_gemm(dz, pad(v, padding), kernel, stride, dilation, conn)
    if path == "batch":
        return batch_inner.weight_gradient_batch(dz, v, kernel, dilation, conn, padding, copies)
    work = N * O * C * kh * kw * Ho * row
    if stride_one:
        return run_kernel(_weight_gradient_taps, work, dz, v, kh, kw, 1, 1, dh, dw, conn, top, left, Hp, Wp)
    v = pad(v, padding)
    Hp, Wp = v.shape[2:]
    return run_kernel(_weight_gradient_taps, work, dz, v, kh, kw, sh, sw, dh, dw, conn, 0, 0, Hp, Wp)


#: Examples per partial sum of the weight gradient, at most; and the parallel
#: iterations wanted, at least (a small batch splits its input maps too).
BATCH_CHUNK = 4
MIN_ITEMS = 8
#: A chunk's examples are stacked into one pass of the dot products while the stack
#: of one shifted copy stays within this many elements: a dot product over small maps
#: (LeNet's C3: 10×10 outputs) is short, and summing each one's vector of partial
#: sums costs as much as the products; stacked, that cost is paid once per stack.
#: Large maps (32×32) stack nothing: the longer rows gain little and leave the cache.
#: Measured on 2 threads, 64-example batches, dW alone: C3 Table I 317 → 288 µs,
#: C3 dense 412 → 349 µs; C1 and a 32-map 3×3 layer unchanged (one example per pass).
STACK_ELEMENTS = 640


@njit(cache=True)
def batch_split(N, C):
    """``(chunk_size, chunks, groups)``: the batch in chunks, the input maps in groups.

    Made from the shapes only, never the thread count, so that the partial
    sums, their order and the bits are the same on any number of threads.
    """
    chunk_size = max(1, min(BATCH_CHUNK, N // MIN_ITEMS))
    chunks = (N + chunk_size - 1) // chunk_size
    groups = min(C, max(1, (MIN_ITEMS + chunks - 1) // chunks))
    return chunk_size, chunks, groups


@njit(cache=True)
def stack_size(chunk_size, Hp, Wo):
    """Examples per pass of the dot products: as many of a chunk as keep a stacked copy
    within STACK_ELEMENTS (at least one).  From the shapes only, like the chunks."""
    return max(1, min(chunk_size, STACK_ELEMENTS // (Hp * Wo)))


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _weight_gradient_taps(dz, v, kh, kw, sh, sw, dh, dw, conn, top, left, Hp, Wp):
    """Compiled body of the ``"taps"`` path (see the module docstring).

    Stride 1: ``v`` is the unpadded V, zero-padded here by ``top`` rows and
    ``left`` columns into kw shifted copies (:func:`correlation.shifted_copies`)
    with the maps of up to :func:`stack_size` examples one after another, and dZ
    likewise, each example's Ho·Wo values followed by (Hp − Ho)·Wo zeros: tap (k, l)
    is then one dot product over the stacked examples.  Other strides: ``v``
    comes padded, ``(Hp, Wp) == v.shape[2:]``.
    """
    N, O, Ho, Wo = dz.shape
    C = v.shape[1]
    T = kh * kw
    if sh != 1 or sw != 1:
        offs = np.empty(T, dtype=np.int64)
        for k in range(kh):
            for l in range(kw):
                offs[k * kw + l] = k * dh * Wp + l * dw
        vf = v.reshape(N, C * Hp * Wp)
        return _strided(dz, vf, np.empty((O, C, kh, kw), dtype=v.dtype), offs, sh, sw, Wp, Hp * Wp, conn)
    chunk_size, chunks, groups = batch_split(N, C)
    stack = stack_size(chunk_size, Hp, Wo)
    ex = Hp * Wo            # one example in one copy: Hp rows of Wo
    pitch = stack * ex      # one copy: the stacked examples
    offs = np.empty(T, dtype=np.int64)
    for k in range(kh):
        for l in range(kw):
            offs[k * kw + l] = l * pitch + k * dh * Wo
    outs, nout = _outputs_of_inputs(conn)
    # Not zeroed here: each iteration zeroes its own part.  Outside prange, np.zeros and a
    # loop of 'total += partial[chunk]' would each be a parallel pass of their own, one
    # wake of the pool per chunk (C3's dW: 303 µs with them, 236 µs without).
    partial = np.empty((chunks, O, C, T), dtype=np.float64)
    # one iteration per (chunk of the batch, group of input maps): it writes its own
    # partial[chunk, :, group's maps] only
    for p in prange(chunks * groups):
        chunk = p // groups
        c0 = (p % groups) * C // groups
        c1 = (p % groups + 1) * C // groups
        acc = partial[chunk]
        acc[:, c0:c1, :] = 0.0
        d = np.zeros((O, pitch), dtype=dz.dtype)
        x = np.zeros(kw * pitch, dtype=v.dtype)
        last = min(N, (chunk + 1) * chunk_size)
        for n0 in range(chunk * chunk_size, last, stack):
            count = min(stack, last - n0)
            L = (count - 1) * ex + Ho * Wo  # the dot products' length over the stacked examples
            for j in range(count):
                for o in range(O):
                    d[o, j * ex:j * ex + Ho * Wo] = dz[n0 + j, o].reshape(Ho * Wo)
            for c in range(c0, c1):
                for j in range(count):
                    shifted_copies(x, j * ex, pitch, v[n0 + j, c], kw, dw, top, left, Hp, Wo)
                q = 0
                while q + 4 <= nout[c]:
                    block = outs[c, q:q + 4]
                    t = 0
                    while t + 4 <= T:
                        _dots_4x4(d[block[0]], d[block[1]], d[block[2]], d[block[3]], x, L,
                                  offs[t], offs[t + 1], offs[t + 2], offs[t + 3], acc, block, c, t)
                        t += 4
                    for r in range(4):
                        _taps_dots(d[block[r]], x, L, offs, acc, block[r], c, t)
                    q += 4
                if q + 2 <= nout[c]:
                    o0, o1 = outs[c, q], outs[c, q + 1]
                    t = 0
                    while t + 4 <= T:
                        _dots_2x4(d[o0], d[o1], x, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3],
                                  acc, o0, o1, c, t)
                        t += 4
                    _taps_dots(d[o0], x, L, offs, acc, o0, c, t)
                    _taps_dots(d[o1], x, L, offs, acc, o1, c, t)
                    q += 2
                while q < nout[c]:
                    _taps_dots(d[outs[c, q]], x, L, offs, acc, outs[c, q], c, 0)
                    q += 1
    # dW = Σ over the chunks, in chunk order whichever thread made each partial sum;
    # one iteration per output map writes only that map's kernels
    dW = np.empty((O, C, kh, kw), dtype=v.dtype)
    for o in prange(O):
        for c in range(C):
            for t in range(T):
                s = partial[0, o, c, t]  # unconnected pairs stay exactly 0
                for chunk in range(1, chunks):
                    s += partial[chunk, o, c, t]
                dW[o, c, t // kw, t % kw] = s
    return dW


@njit(parallel=True, cache=True, fastmath={"contract"})
def _strided(dz, vf, dW, offs, sh, sw, Wp, plane, conn):
    """The weight gradient at stride > 1: per output row, each tap's strided dot product."""
    N, O, Ho, Wo = dz.shape
    C, kh, kw = dW.shape[1], dW.shape[2], dW.shape[3]
    T = kh * kw
    for p in prange(O * C):
        o = p // C
        c = p % C
        if conn[o, c] == 0:
            dW[o, c, :, :] = 0  # unconnected: exactly 0
            continue
        acc = np.zeros(T, dtype=dW.dtype)
        for n in range(N):
            xc = vf[n, c * plane:(c + 1) * plane]
            for i in range(Ho):
                d = dz[n, o, i]
                row = i * sh * Wp
                for t in range(T):
                    s = acc[t]
                    base = row + offs[t]
                    for m in range(Wo):
                        s += d[m] * xc[base + m * sw]
                    acc[t] = s
        for t in range(T):
            dW[o, c, t // kw, t % kw] = acc[t]
    return dW
