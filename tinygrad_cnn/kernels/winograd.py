"""The ``"winograd"`` path of the correlation engine: 3×3 kernels at stride 1 in fewer products.

Two outputs of a row, ``y_i = Σ_l g_l · d_{i+l}`` (i = 0, 1; l = 0, 1, 2), take six
multiplications as written and four in Winograd's minimal filtering F(2, 3)::

    y = Aᵀ [ (G g) ∘ (Bᵀ d) ]        d: 4 inputs,  g: 3 weights,  y: 2 outputs

and nested over rows and columns, F(2×2, 3×3) gives a 2×2 block of outputs from a
4×4 tile of the input in 16 multiplications instead of 36 (Lavin & Gray, "Fast
Algorithms for Convolutional Neural Networks", 2016)::

    Y = Aᵀ [ U ∘ V ] A,   U = G g Gᵀ (the kernel, 4×4),   V = Bᵀ d B (the tile, 4×4)

The sum over input maps goes inside the brackets, where it is a matrix product:
for each of the 16 positions ξ of a transformed tile,
``M_ξ = U_ξ @ V_ξ`` with U_ξ ``(O, C)`` and V_ξ ``(C, tiles)``, one BLAS product
each.  So this path is: transform the weights once (:func:`weight_transform`), then
for each example transform its tiles (:func:`_input_tiles`), run the 16 products
and transform them back into the output maps (:func:`_output_tiles`, which also
adds the bias).  On a 3×3 layer with many maps in and out (32 → 64 maps) it does
2.25 times fewer multiply-adds than the tap loops, and runs them at BLAS's rate.

It computes the same sums in another order, with other roundings: its float32
results differ from the tap loops' by a few units in the last place of the
largest terms (a product of a tile's values with a transformed weight replaces
each plain product), and an infinity in the input reaches the whole 2×2 block of
its tiles, as NaN where the transforms subtract it from itself.  The cost model
(``kernels/cost_model.py``) offers it for dense 3×3 kernels at stride 1 and
dilation 1 with enough maps on both sides; unconnected pairs are zero weights here.

Each thread takes blocks of tiles (whole examples, or bands of tile rows of
large maps) from a shared queue (``_parallel.run_chunks``, BLAS single-threaded)
and keeps its own scratch arrays for all of them: a block's transformed tiles
and products (16·(C + O)·tiles numbers) stay in its core's cache.

Only the forward correlation and dA's take this path: the weight gradient by
F(3×3, 2×2) (dZ's 2×2 blocks as the filters of V's 4×4 tiles) measured slower
than the tap loops on the 32 → 64-map layer (7.1 against 6.8 ms on two threads),
its two transforms costing more than the products it saves.
"""
import numpy as np
from numba import njit

from ._parallel import run_chunks

__all__ = ["weight_transform", "correlate_winograd"]

#: G of F(2, 3): the kernel's transform, U = G g Gᵀ
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def weight_transform(w, conn):
    """U = G g Gᵀ for every kernel, as 16 matrices ``(16, O, C)`` (``U[4a + b, o, c]``),
    computed in float64 and rounded once to ``w``'s dtype.  Unconnected pairs get zero kernels
    (a NaN in one stays out)."""
    U = np.empty((16,) + w.shape[:2], dtype=w.dtype)
    _weight_transform(np.ascontiguousarray(w), conn, U)
    return U


@njit(cache=True, nogil=True)
def _weight_transform(w, conn, U):
    """G has rows (1, 0, 0), (½, ½, ½), (½, −½, ½), (0, 0, 1)."""
    O, C = w.shape[0], w.shape[1]
    t = np.empty((4, 3))
    for o in range(O):
        for c in range(C):
            if conn[o, c] == 0:
                U[:, o, c] = 0
                continue
            g = w[o, c]
            for k in range(3):  # G g: rows
                g0, g1, g2 = np.float64(g[0, k]), np.float64(g[1, k]), np.float64(g[2, k])
                t[0, k], t[1, k], t[2, k], t[3, k] = g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2
            for a in range(4):  # (G g) Gᵀ: columns
                h0, h1, h2 = t[a, 0], t[a, 1], t[a, 2]
                U[4 * a, o, c] = h0
                U[4 * a + 1, o, c] = 0.5 * (h0 + h1 + h2)
                U[4 * a + 2, o, c] = 0.5 * (h0 - h1 + h2)
                U[4 * a + 3, o, c] = h2


@njit(cache=True, nogil=True)
def _input_tiles(v, n, top, left, a0, a1, tw, cols, vt):
    """V_ξ = Bᵀ d B of the 4×4 tiles in tile rows ``a0 .. a1 − 1`` of example ``n`` of ``v``
    zero-padded by ``top`` rows and ``left`` columns: tile (a, b) starts at padded cell
    (2a, 2b) and is ``vt[ξ, c, (a − a0)·tw + b]``.

    ``cols`` ``(2, ≥ 2·(a1 − a0) + 2, tw + 1)`` is scratch: the padded rows the tiles cover,
    split into their even and odd columns, so that each of a tile's 16 cells is a unit-stride
    run over the tiles of a row.  Bᵀ's rows are (1, 0, −1, 0), (0, 1, 1, 0), (0, −1, 1, 0),
    (0, 1, 0, −1).
    """
    C, H, W = v.shape[1], v.shape[2], v.shape[3]
    R = 2 * (a1 - a0) + 2
    for c in range(C):
        cols[:, :R, :] = 0
        for r in range(R):
            i = 2 * a0 + r - top
            if i < 0 or i >= H:
                continue
            src = v[n, c, i]
            for j in range(W):
                s = j + left
                if s < 2 * (tw + 1):
                    cols[s % 2, r, s // 2] = src[j]
        out = vt[:, c]
        for a in range(a1 - a0):
            e0, o0 = cols[0, 2 * a], cols[1, 2 * a]
            e1, o1 = cols[0, 2 * a + 1], cols[1, 2 * a + 1]
            e2, o2 = cols[0, 2 * a + 2], cols[1, 2 * a + 2]
            e3, o3 = cols[0, 2 * a + 3], cols[1, 2 * a + 3]
            p0 = a * tw
            for b in range(tw):
                # the tile's rows u = 0..3, columns 2b .. 2b + 3: even, odd, even, odd
                d00, d01, d02, d03 = e0[b], o0[b], e0[b + 1], o0[b + 1]
                d10, d11, d12, d13 = e1[b], o1[b], e1[b + 1], o1[b + 1]
                d20, d21, d22, d23 = e2[b], o2[b], e2[b + 1], o2[b + 1]
                d30, d31, d32, d33 = e3[b], o3[b], e3[b + 1], o3[b + 1]
                # Bᵀ d: rows
                t00, t01, t02, t03 = d00 - d20, d01 - d21, d02 - d22, d03 - d23
                t10, t11, t12, t13 = d10 + d20, d11 + d21, d12 + d22, d13 + d23
                t20, t21, t22, t23 = d20 - d10, d21 - d11, d22 - d12, d23 - d13
                t30, t31, t32, t33 = d10 - d30, d11 - d31, d12 - d32, d13 - d33
                # (Bᵀ d) B: columns
                p = p0 + b
                out[0, p], out[1, p], out[2, p], out[3, p] = t00 - t02, t01 + t02, t02 - t01, t01 - t03
                out[4, p], out[5, p], out[6, p], out[7, p] = t10 - t12, t11 + t12, t12 - t11, t11 - t13
                out[8, p], out[9, p], out[10, p], out[11, p] = t20 - t22, t21 + t22, t22 - t21, t21 - t23
                out[12, p], out[13, p], out[14, p], out[15, p] = t30 - t32, t31 + t32, t32 - t31, t31 - t33


@njit(cache=True, nogil=True)
def _output_tiles(m, n, a0, a1, tw, bias, z):
    """Y = Aᵀ M A (+ b) of the tiles in tile rows ``a0 .. a1 − 1``, written into ``z[n]``:
    ``m[ξ, o, (a − a0)·tw + b]`` holds M_ξ of tile (a, b), whose 2×2 outputs are
    ``z[n, o, 2a .. 2a + 1, 2b .. 2b + 1]`` (those inside the map).  Aᵀ's rows are
    (1, 1, 1, 0) and (0, 1, −1, −1)."""
    O, Ho, Wo = z.shape[1], z.shape[2], z.shape[3]
    for o in range(O):
        bo = bias[o]
        mo = m[:, o]
        for a in range(a0, a1):
            i = 2 * a
            z0 = z[n, o, i]
            z1 = z[n, o, min(i + 1, Ho - 1)]  # (written only when row i + 1 is in the map)
            for b in range(tw):
                p = (a - a0) * tw + b
                # Aᵀ M: rows
                s00 = mo[0, p] + mo[4, p] + mo[8, p]
                s01 = mo[1, p] + mo[5, p] + mo[9, p]
                s02 = mo[2, p] + mo[6, p] + mo[10, p]
                s03 = mo[3, p] + mo[7, p] + mo[11, p]
                s10 = mo[4, p] - mo[8, p] - mo[12, p]
                s11 = mo[5, p] - mo[9, p] - mo[13, p]
                s12 = mo[6, p] - mo[10, p] - mo[14, p]
                s13 = mo[7, p] - mo[11, p] - mo[15, p]
                # (Aᵀ M) A: columns
                j = 2 * b
                z0[j] = s00 + s01 + s02 + bo
                if i + 1 < Ho:
                    z1[j] = s10 + s11 + s12 + bo
                if j + 1 < Wo:
                    z0[j + 1] = s01 - s02 - s03 + bo
                    if i + 1 < Ho:
                        z1[j + 1] = s11 - s12 - s13 + bo


#: Numbers of V_ξ and M_ξ (16 · (C + O) per tile) that one block of tiles may hold: its
#: scratch then stays in a core's cache (2 MB here) with the maps it reads and writes.
BLOCK_NUMBERS = 1 << 19


def _tile_rows(th, tw, maps):
    """Tile rows per block: as many as keep 16 · maps · tiles within BLOCK_NUMBERS, at least one."""
    return max(1, min(th, BLOCK_NUMBERS // (16 * maps * tw)))


def _sixteen_matrices(rows, cols, dtype):
    """Scratch ``(16, rows, cols)`` for V_ξ or M_ξ whose 16 matrices do not start a multiple of
    4 KB apart.  The transforms read or write all 16 at once, one number each per tile; at
    such a distance (e.g. 32 rows of 256 tiles) the 16 streams share a handful of cache sets
    and evict each other: the input transform of a 32-map example took 410 µs, 53 µs staggered."""
    pitch = cols + (-cols) % 16  # rows of whole cache lines
    flat = np.empty((16, rows * pitch + 16), dtype=dtype)  # and the matrices 16 numbers apart
    return flat[:, :rows * pitch].reshape(16, rows, pitch)[:, :, :cols]


def correlate_winograd(v, w, conn, bias, padding):
    """:func:`correlation.correlate` of a 3×3 kernel at stride 1 and dilation 1 (see
    ``cost_model.winograd_applies``), ``v`` ``(N, C, H, W)`` zero-padded by ``padding`` =
    (top, bottom, left, right): ``(N, O, Ho, Wo)``.  The work items are an example's bands
    of tile rows (:func:`_tile_rows`; the whole example unless its maps are large)."""
    N, C, H, W = v.shape
    O = w.shape[0]
    top, bottom, left, right = padding
    Ho, Wo = H + top + bottom - 2, W + left + right - 2
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2  # tiles; an odd side's last tile reads one zero row or column more
    U = weight_transform(w, conn)
    b = np.zeros(O, dtype=v.dtype) if bias is None else np.ascontiguousarray(bias, dtype=v.dtype)
    v = np.ascontiguousarray(v)
    z = np.empty((N, O, Ho, Wo), dtype=v.dtype)

    rows = _tile_rows(th, tw, C + O)
    blocks = [(n, a0, min(th, a0 + rows)) for n in range(N) for a0 in range(0, th, rows)]

    def work(mine):
        cols = np.empty((2, 2 * rows + 2, tw + 1), dtype=v.dtype)
        vt = _sixteen_matrices(C, rows * tw, v.dtype)
        m = _sixteen_matrices(O, rows * tw, v.dtype)
        for _, (n, a0, a1) in mine:
            t = (a1 - a0) * tw
            _input_tiles(v, n, top, left, a0, a1, tw, cols, vt)
            np.matmul(U, vt[:, :, :t], out=m[:, :, :t])  # the 16 products M_ξ = U_ξ @ V_ξ
            _output_tiles(m, n, a0, a1, tw, b, z)

    run_chunks(work, blocks)
    return z

