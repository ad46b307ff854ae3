"""The ``"winograd"`` path of the correlation engine: 3×3 kernels at stride 1 in fewer products.

Four outputs of a row, ``y_i = Σ_l g_l · d_{i+l}`` (i = 0..3; l = 0, 1, 2), take twelve
multiplications as written and six in Winograd's minimal filtering F(4, 3)::

    y = Aᵀ [ (G g) ∘ (Bᵀ d) ]        d: 6 inputs,  g: 3 weights,  y: 4 outputs

and nested over rows and columns, F(4×4, 3×3) gives a 4×4 block of outputs from a
6×6 tile of the input in 36 multiplications instead of 144 (Lavin & Gray, "Fast
Algorithms for Convolutional Neural Networks", 2016)::

    Y = Aᵀ [ U ∘ V ] A,   U = G g Gᵀ (the kernel, 6×6),   V = Bᵀ d B (the tile, 6×6)

with the interpolation points 0, ±1, ±2 and ∞ (the matrices are :data:`BT`, :data:`G`
and :data:`AT`).  The sum over input maps goes inside the brackets, where it is a
matrix product: for each of the 36 positions ξ of a transformed tile,
``M_ξ = U_ξ @ V_ξ`` with U_ξ ``(O, C)`` and V_ξ ``(C, tiles)``, one BLAS product
each.  So this path is: transform the weights once (:func:`weight_transform`), then
for each example transform its tiles (:func:`_input_tiles`), run the 36 products
and transform them back into the output maps (:func:`_output_tiles`, which also
adds the bias).  On a 3×3 layer with many maps in and out (32 → 64 maps) it does
four times fewer multiply-adds than the tap loops, and runs them at BLAS's rate.

It computes the same sums in another order, with other roundings: its float32
results differ from the tap loops' by a few millionths of the largest terms (the
transforms scale by up to 8 and by 1/24 before the products), and an infinity in
the input reaches every output of its tiles, as NaN where the transforms subtract
it from itself.  The cost model (``kernels/cost_model.py``) offers it for dense 3×3
kernels at stride 1 and dilation 1 with enough maps and tiles; unconnected pairs
are zero weights here.

Each thread takes blocks of tiles (whole examples, or bands of tile rows of
large maps) from a shared queue (``_parallel.run_chunks``, BLAS single-threaded)
and keeps its own scratch arrays for all of them: a block's transformed tiles
and products (36·(C + O)·tiles numbers) stay in its core's cache.

Only the forward correlation and dA's take this path.  The weight gradient by the
same transforms backwards (dL/dg = Gᵀ[(A dY Aᵀ) ∘ (Bᵀ d B)]G per tile, summed over
tiles and examples inside the brackets) was built and measured: 5.9–6.3 against the
tap loops' 6.7 ms on the 32 → 64-map layer, but its float32 error grows with the
number of tiles summed (up to 3e-4 on entries of about 2 where the loops agree to
1e-6), too coarse for a gradient the lecture's checks compare with PyTorch; nor was
F(3×3, 2×2), which is precise, faster (7.1 against 6.8 ms).
"""
import numpy as np
from numba import njit

from ._parallel import run_chunks

__all__ = ["weight_transform", "correlate_winograd", "BT", "G", "AT"]

#: Bᵀ, G and Aᵀ of F(4, 3): the tile's, the kernel's and the products' transforms
BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
               [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], dtype=np.float64)
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
              dtype=np.float64)


def weight_transform(w, conn):
    """U = G g Gᵀ for every kernel, as 36 matrices ``(36, O, C)`` (``U[6a + b, o, c]``),
    computed in float64 and rounded once to ``w``'s dtype.  Unconnected pairs get zero kernels
    (a NaN in one stays out)."""
    g = np.where(conn[:, :, None, None] != 0, w, 0).astype(np.float64)
    U = np.tensordot(np.tensordot(G, g, axes=([1], [2])), G, axes=([3], [1]))  # (6, O, C, 6): a, o, c, b
    return np.ascontiguousarray(U.transpose(0, 3, 1, 2).reshape(36, w.shape[0], w.shape[1]), dtype=w.dtype)


@njit(cache=True, nogil=True, inline="always")
def _bt(d0, d1, d2, d3, d4, d5, k2, k4, k5):
    """Bᵀ d for one column (or row) of a tile: the six sums of :data:`BT`'s rows."""
    a = d4 - k4 * d2
    b = d3 - k4 * d1
    c = d4 - d2
    e = k2 * (d3 - d1)
    return k4 * d0 - k5 * d2 + d4, a + b, a - b, c + e, c - e, k4 * d1 - k5 * d3 + d5


@njit(cache=True, nogil=True)
def _input_tiles(v, n, top, left, a0, a1, tw, rows, t, vt, k2, k4, k5):
    """V_ξ = Bᵀ d B of the 6×6 tiles in tile rows ``a0 .. a1 − 1`` of example ``n`` of ``v``
    zero-padded by ``top`` rows and ``left`` columns: tile (a, b) starts at padded cell
    (4a, 4b) and is ``vt[ξ, c, (a − a0)·tw + b]``.

    ``rows`` ``(≥ 4·(a1 − a0) + 2, 4·tw + 2)`` is scratch for one map's padded rows that the
    tiles cover, ``t`` ``(6, 6)`` for one tile's Bᵀ d; ``k2``, ``k4``, ``k5`` are 2, 4 and 5 in
    ``v``'s dtype (the arithmetic stays in it).
    """
    C, H, W = v.shape[1], v.shape[2], v.shape[3]
    R = 4 * (a1 - a0) + 2
    Wq = rows.shape[1]
    for c in range(C):
        rows[:R, :] = 0
        for r in range(R):
            i = 4 * a0 + r - top
            if 0 <= i < H:
                for j in range(min(W, Wq - left)):
                    rows[r, left + j] = v[n, c, i, j]
        out = vt[:, c]
        for a in range(a1 - a0):
            for b in range(tw):
                r0, s0 = 4 * a, 4 * b
                for j in range(6):  # Bᵀ d: each column of the tile
                    t[0, j], t[1, j], t[2, j], t[3, j], t[4, j], t[5, j] = _bt(
                        rows[r0, s0 + j], rows[r0 + 1, s0 + j], rows[r0 + 2, s0 + j],
                        rows[r0 + 3, s0 + j], rows[r0 + 4, s0 + j], rows[r0 + 5, s0 + j], k2, k4, k5)
                p = a * tw + b
                for i in range(6):  # (Bᵀ d) B: each row
                    (out[6 * i, p], out[6 * i + 1, p], out[6 * i + 2, p], out[6 * i + 3, p],
                     out[6 * i + 4, p], out[6 * i + 5, p]) = _bt(t[i, 0], t[i, 1], t[i, 2], t[i, 3],
                                                                 t[i, 4], t[i, 5], k2, k4, k5)


@njit(cache=True, nogil=True, inline="always")
def _at(m0, m1, m2, m3, m4, m5, k2, k4, k8):
    """Aᵀ m for one column (or row) of a tile's products: the four sums of :data:`AT`'s rows."""
    p12, d12 = m1 + m2, m1 - m2
    p34, d34 = m3 + m4, m3 - m4
    return m0 + p12 + p34, d12 + k2 * d34, p12 + k4 * p34, d12 + k8 * d34 + m5


@njit(cache=True, nogil=True)
def _output_tiles(m, n, a0, a1, tw, bias, s, z, k2, k4, k8):
    """Y = Aᵀ M A (+ b) of the tiles in tile rows ``a0 .. a1 − 1``, written into ``z[n]``:
    ``m[ξ, o, (a − a0)·tw + b]`` holds M_ξ of tile (a, b), whose 4×4 outputs are
    ``z[n, o, 4a .. 4a + 3, 4b .. 4b + 3]`` (those inside the map).  ``s`` ``(4, 6)`` is
    scratch for one tile's Aᵀ M; ``k2``, ``k4``, ``k8`` are 2, 4 and 8 in ``z``'s dtype."""
    O, Ho, Wo = z.shape[1], z.shape[2], z.shape[3]
    for o in range(O):
        bo = bias[o]
        mo = m[:, o]
        zo = z[n, o]
        for a in range(a0, a1):
            r0 = 4 * a
            # the tile row's four output rows, made once here: a view made per tile costs
            # more than the tile's arithmetic (rows past the map repeat the last, unwritten)
            z0, z1, z2, z3 = zo[r0], zo[min(r0 + 1, Ho - 1)], zo[min(r0 + 2, Ho - 1)], zo[min(r0 + 3, Ho - 1)]
            for b in range(tw):
                p = (a - a0) * tw + b
                for j in range(6):  # Aᵀ M: each column
                    s[0, j], s[1, j], s[2, j], s[3, j] = _at(mo[j, p], mo[6 + j, p], mo[12 + j, p],
                                                             mo[18 + j, p], mo[24 + j, p], mo[30 + j, p],
                                                             k2, k4, k8)
                q = 4 * b  # (Aᵀ M) A: each row, into the map
                y0, y1, y2, y3 = _at(s[0, 0], s[0, 1], s[0, 2], s[0, 3], s[0, 4], s[0, 5], k2, k4, k8)
                _store(z0, q, Wo, y0 + bo, y1 + bo, y2 + bo, y3 + bo)
                if r0 + 1 < Ho:
                    y0, y1, y2, y3 = _at(s[1, 0], s[1, 1], s[1, 2], s[1, 3], s[1, 4], s[1, 5], k2, k4, k8)
                    _store(z1, q, Wo, y0 + bo, y1 + bo, y2 + bo, y3 + bo)
                if r0 + 2 < Ho:
                    y0, y1, y2, y3 = _at(s[2, 0], s[2, 1], s[2, 2], s[2, 3], s[2, 4], s[2, 5], k2, k4, k8)
                    _store(z2, q, Wo, y0 + bo, y1 + bo, y2 + bo, y3 + bo)
                if r0 + 3 < Ho:
                    y0, y1, y2, y3 = _at(s[3, 0], s[3, 1], s[3, 2], s[3, 3], s[3, 4], s[3, 5], k2, k4, k8)
                    _store(z3, q, Wo, y0 + bo, y1 + bo, y2 + bo, y3 + bo)


@njit(cache=True, nogil=True, inline="always")
def _store(zr, q, Wo, y0, y1, y2, y3):
    """Four outputs into row ``zr`` from column q on, those inside the map's Wo columns."""
    if q + 3 < Wo:
        zr[q], zr[q + 1], zr[q + 2], zr[q + 3] = y0, y1, y2, y3
    else:
        zr[q] = y0
        if q + 1 < Wo:
            zr[q + 1] = y1
        if q + 2 < Wo:
            zr[q + 2] = y2

#: Numbers of V_ξ and M_ξ (36 · (C + O) per tile) that one block of tiles may hold: its
#: scratch then stays in a core's cache (2 MB here) with the maps it reads and writes.
BLOCK_NUMBERS = 1 << 19


def _tile_rows(th, tw, maps):
    """Tile rows per block: as many as keep 36 · maps · tiles within BLOCK_NUMBERS, at least one."""
    return max(1, min(th, BLOCK_NUMBERS // (36 * maps * tw)))


def _matrices(rows, cols, dtype):
    """Scratch ``(36, rows, cols)`` for V_ξ or M_ξ whose 36 matrices do not start a multiple of
    4 KB apart.  The transforms read or write all 36 at once, one number each per tile; at
    such a distance the streams share a handful of cache sets and evict each other (F(2×2,
    3×3)'s input transform of a 32-map example took 410 µs that way, 53 µs staggered)."""
    pitch = cols + (-cols) % 16  # rows of whole cache lines
    flat = np.empty((36, rows * pitch + 16), dtype=dtype)  # and the matrices 16 numbers apart
    return flat[:, :rows * pitch].reshape(36, rows, pitch)[:, :, :cols]


def correlate_winograd(v, w, conn, bias, padding):
    """:func:`correlation.correlate` of a 3×3 kernel at stride 1 and dilation 1 (see
    ``cost_model.winograd_applies``), ``v`` ``(N, C, H, W)`` zero-padded by ``padding`` =
    (top, bottom, left, right): ``(N, O, Ho, Wo)``.  The work items are an example's bands
    of tile rows (:func:`_tile_rows`; the whole example unless its maps are large)."""
    N, C, H, W = v.shape
    O = w.shape[0]
    top, bottom, left, right = padding
    Ho, Wo = H + top + bottom - 2, W + left + right - 2
    th, tw = (Ho + 3) // 4, (Wo + 3) // 4  # tiles; the last ones read zeros past the padded map
    U = weight_transform(w, conn)
    b = np.zeros(O, dtype=v.dtype) if bias is None else np.ascontiguousarray(bias, dtype=v.dtype)
    v = np.ascontiguousarray(v)
    z = np.empty((N, O, Ho, Wo), dtype=v.dtype)
    k2, k4, k5, k8 = (v.dtype.type(k) for k in (2, 4, 5, 8))
    band = _tile_rows(th, tw, C + O)
    blocks = [(n, a0, min(th, a0 + band)) for n in range(N) for a0 in range(0, th, band)]

    def work(mine):
        rows = np.empty((4 * band + 2, 4 * tw + 2), dtype=v.dtype)
        t = np.empty((6, 6), dtype=v.dtype)
        s = np.empty((4, 6), dtype=v.dtype)
        vt = _matrices(C, band * tw, v.dtype)
        m = _matrices(O, band * tw, v.dtype)
        for _, (n, a0, a1) in mine:
            k = (a1 - a0) * tw
            _input_tiles(v, n, top, left, a0, a1, tw, rows, t, vt, k2, k4, k5)
            np.matmul(U, vt[:, :, :k], out=m[:, :, :k])  # the 36 products M_ξ = U_ξ @ V_ξ
            _output_tiles(m, n, a0, a1, tw, b, s, z, k2, k4, k8)

    run_chunks(work, blocks)
    return z

