"""The ``"batch"`` path of the correlation engine: the examples as the innermost axis.

Stride 1 only.  On small maps the ``"taps"`` path's whole-map loops run over
wide rows: of every row of Wp numbers, Wp − Wo are computed and thrown away
(4 of 14 for LeNet's C3 forward), and each loop is short (136 numbers for C3).
Here V is first copied, zero-padded, with the examples innermost:
``vt[c, r, q, n] = pad(V)[n, c, r, q]`` (:func:`batch_inner`).  Output row i of
map o for all N examples is then ``Wo·N`` contiguous numbers (column j of
example n at ``j·N + n``), and kernel tap (k, l) of input map c reads them as
one contiguous run of ``vt[c, i + k·D_r]`` from column l·D_c on: nothing is
thrown away, and the runs are long (640 numbers for C3 at batch 64).

* :func:`correlate_batch`, Z = W ⊛ V and the full correlation of dA: the taps
  path's own loops (``correlation._four_outputs``: four output maps × four taps
  per pass; the taps may come in another order, below, so the last bits can
  differ from the taps path's), one
  parallel iteration per output row, which it then writes into every example's
  map.  A tap runs only over the output columns whose input is one of V's cells
  (a contiguous range of the row here) and not at all on rows whose input row
  is padding (:func:`_row_taps`): the full correlation of dA multiplies no zeros
  of its padding, which are half of its taps on C3 (dA 260 → 228 µs there).
* :func:`weight_gradient_batch`, dW = dZ ⋆ V: for each tap, the dot products
  ``Σ_i Σ_m dzt[o, i, m] · vt[c, i + k·D_r, l·D_c·N + m]`` over m < Wo·N, four
  output maps × four taps per pass (``conv_weight_grad._dots_4x4``); one
  parallel iteration per input map and block of its output maps, each dW entry
  summed by one iteration in a fixed order: the same bits on any thread count.

The copies cost a pass over V and one over Z; ``cost_model.choose_path`` weighs
them against the thrown-away columns of the taps path.
"""
import numpy as np
from numba import njit, prange

from ._parallel import run_kernel
from .correlation import _input_map_taps, _outputs_of_inputs
from .dots import _dots_2x4, _dots_4x4, _taps_dots

__all__ = ["LayoutCopies", "batch_copy", "batch_inner", "correlate_batch", "weight_gradient_batch"]


def batch_inner(v, top, left, Hp, Wp):
    """``vt`` ``(C, Hp, Wp, N)``: ``v`` ``(N, C, H, W)`` zero-padded by ``top`` rows and ``left``
    columns (the rest of Hp × Wp is zeros too), the examples innermost."""
    N, C = v.shape[:2]
    return run_kernel(_batch_inner, N * C * Hp * Wp, np.ascontiguousarray(v), top, left, Hp, Wp)


@njit(parallel=True, cache=True)
def _batch_inner(v, top, left, Hp, Wp):
    N, C, H, W = v.shape
    vt = np.empty((C, Hp, Wp, N), dtype=v.dtype)
    # one iteration per row of vt, written column by column: each column's N numbers are
    # contiguous, read one from each example (35% faster than the other way round)
    for cr in prange(C * Hp):
        c = cr // Hp
        r = cr % Hp
        row = vt[c, r]
        i = r - top
        if i < 0 or i >= H:
            row[:, :] = 0
            continue
        for q in range(left):
            row[q, :] = 0
        for q in range(left + W, Wp):
            row[q, :] = 0
        for j in range(W):
            column = row[left + j]
            for n in range(N):
                column[n] = v[n, c, i, j]
    return vt


class LayoutCopies:
    """The copies one layer call makes with the examples innermost, kept to be used again.

    The forward copies V; dW = dZ ⋆ V reads that same copy in the backward pass.
    dA's copy of dZ, zero-padded for the full correlation, holds the unpadded
    dZ that dW reads.  (C3 at batch 64: a copy of V is 20 µs, one of dZ 25 µs,
    of a forward + backward of about 900.)  Each copy is kept with the array
    it was made from, compared by identity: an array changed in place after
    the forward pass is caught by the engine's version check before any copy
    of it is used.
    """

    def __init__(self):
        self._made = []  # (array, top, left, Hp, Wp, copy)

    def find(self, a, top, left, Hp, Wp):
        """``(copy, row0, col0)``: a copy of ``a`` padded by at least as much on every side as
        ``top``, ``left`` and the padded size (Hp, Wp) ask, the requested layout starting at row
        ``row0``, column ``col0`` of it; None if there is none."""
        for src, t, l, hp, wp, copy in self._made:
            if (src is a and t >= top and l >= left and hp - t >= Hp - top
                    and wp - l >= Wp - left):
                return copy, t - top, l - left
        return None

    def keep(self, a, top, left, Hp, Wp, copy):
        """Keep ``copy`` of ``a``: with the first copy kept (the forward's, of V), only the
        latest, so that a graph run backward again and again (``retain_graph=True``), each
        time with a new dZ, holds two copies, not one per run."""
        del self._made[1:]
        self._made.append((a, top, left, Hp, Wp, copy))


def batch_copy(a, top, left, Hp, Wp, copies=None):
    """``(vt, row0, col0)``: :func:`batch_inner` of ``a``, or a copy of it that ``copies`` (a
    :class:`LayoutCopies`) holds already, with the layout asked for at row ``row0`` and column
    ``col0``; a new copy is kept in ``copies``."""
    found = copies.find(a, top, left, Hp, Wp) if copies is not None else None
    if found is not None:
        return found
    vt = batch_inner(a, top, left, Hp, Wp)
    if copies is not None:
        copies.keep(a, top, left, Hp, Wp, vt)
    return vt, 0, 0


def correlate_batch(v, w, dilation, conn, padding, bias, copies=None):
    """:func:`correlation.correlate` at stride 1, ``v`` ``(N, C, H, W)`` zero-padded by
    ``padding`` = (top, bottom, left, right) >= 0: ``(N, O, Ho, Wo)``.  ``copies``: a
    :class:`LayoutCopies` to take the copy of ``v`` from, or keep it in."""
    N, C, H, W = v.shape
    O, _, kh, kw = w.shape
    dh, dw = dilation
    top, bottom, left, right = padding
    Hp, Wp = H + top + bottom, W + left + right
    Ho, Wo = Hp - dh * (kh - 1), Wp - dw * (kw - 1)
    vt, r0, c0 = batch_copy(v, top, left, Hp, Wp, copies)
    work = N * O * C * kh * kw * Ho * Wo
    return run_kernel(_correlate_batch, work, vt, r0, c0, np.ascontiguousarray(w), bias, conn, dh, dw, top, H,
                      left, W, Ho, Wo)


@njit(cache=True)
def _row_taps(kh, kw, dh, dw, top, H, left, W, Ho, Wo, N, Wp):
    """Per output row i, the taps that read V there, and over which columns.

    Tap (k, l) runs over row i when input row i + k·D_r is a row of V, and then
    over the output columns j whose input column j + l·D_c is a column of V,
    not padding: ``lo[i, s] <= m < hi[i, s]`` of the row's Wo·N numbers, for
    the s-th of the row's ``ntaps[i]`` taps, ``taps[i, s]``.  The taps are
    listed by column range (then in tap order), so that a group of four
    shares its range, or nearly: in the full correlation of dA, a 5×5 kernel's
    taps of one column share 10 of the row's 14 columns, where four taps in
    tap order span all 14.  With no column padding every range is the whole
    row and the order is the taps' own.
    """
    T = kh * kw
    taps = np.empty((Ho, T), dtype=np.int64)
    ntaps = np.zeros(Ho, dtype=np.int64)
    offs = np.empty((Ho, T), dtype=np.int64)
    lo = np.empty((Ho, T), dtype=np.int64)
    hi = np.empty((Ho, T), dtype=np.int64)
    for i in range(Ho):
        s = 0
        for k in range(kh):
            if not top <= i + k * dh < top + H:  # input row k·D_r below is padding
                continue
            for l in range(kw):
                j0 = max(0, left - l * dw)        # output columns whose input column is of V
                j1 = min(Wo, left + W - l * dw)
                if j1 <= j0:
                    continue
                taps[i, s] = k * kw + l
                offs[i, s] = (k * dh * Wp + l * dw) * N
                lo[i, s] = j0 * N
                hi[i, s] = j1 * N
                s += 1
        ntaps[i] = s
        _sort_by_range(taps[i, :s], offs[i, :s], lo[i, :s], hi[i, :s])
    return taps, ntaps, offs, lo, hi


@njit(cache=True)
def _sort_by_range(taps, offs, lo, hi):
    """Sort one row's taps by (lo, hi), stable: equal ranges together, in tap order within."""
    for a in range(1, taps.shape[0]):  # insertion sort of at most kh·kw entries
        b = a
        while b > 0 and (lo[b - 1] > lo[b] or (lo[b - 1] == lo[b] and hi[b - 1] > hi[b])):
            taps[b - 1], taps[b] = taps[b], taps[b - 1]
            offs[b - 1], offs[b] = offs[b], offs[b - 1]
            lo[b - 1], lo[b] = lo[b], lo[b - 1]
            hi[b - 1], hi[b] = hi[b], hi[b - 1]
            b -= 1


@njit(parallel=True, cache=True, fastmath={"contract"})
def _correlate_batch(vt, r0, c0, w, bias, conn, dh, dw, top, H, left, W, Ho, Wo):
    """Compiled body of :func:`correlate_batch`: ``vt`` from :func:`batch_copy`, the padded V
    from its row ``r0`` and column ``c0`` on, V's ``H`` rows and ``W`` columns in that from row
    ``top`` and column ``left`` on; ``bias`` one number per output map."""
    C, Hp, Wp, N = vt.shape
    O, _, kh, kw = w.shape
    T = kh * kw
    L = Wo * N  # one output row of every example
    wf = w.reshape(O, C, T)
    vf = vt.reshape(C, Hp * Wp * N)
    outs, nout = _outputs_of_inputs(conn)
    taps, ntaps, offs, lo, hi = _row_taps(kh, kw, dh, dw, top, H, left, W, Ho, Wo, N, Wp)
    z = np.empty((N, O, Ho, Wo), dtype=vt.dtype)
    # one iteration per output row: it writes row i of every output map of every example
    for i in prange(Ho):
        buf = np.empty((O, L), dtype=vt.dtype)
        for o in range(O):
            buf[o, :] = bias[o]
        nt = ntaps[i]
        wi = np.empty((O, C, nt), dtype=vt.dtype)  # the kernels' weights in this row's tap order
        for o in range(O):
            for c in range(C):
                for s in range(nt):
                    wi[o, c, s] = wf[o, c, taps[i, s]]
        ofs, lo_i, hi_i = offs[i, :nt], lo[i, :nt], hi[i, :nt]
        for c in range(C):
            x = vf[c, ((i + r0) * Wp + c0) * N:]
            _input_map_taps(buf, x, ofs, lo_i, hi_i, wi, c, outs, nout)
        for o in range(O):
            b = buf[o]
            for n in range(N):
                zrow = z[n, o, i]
                for j in range(Wo):
                    zrow[j] = b[j * N + n]
    return z


def weight_gradient_batch(dz, v, kernel, dilation, conn, padding, copies=None):
    """:func:`conv_weight_grad.weight_gradient` at stride 1, ``v`` ``(N, C, H, W)`` zero-padded
    by ``padding`` >= 0: ``(O, C, kh, kw)``, exactly 0 for unconnected pairs.  ``copies``: a
    :class:`LayoutCopies` holding copies of ``v`` and ``dz`` made already (by the forward pass
    and by dA's full correlation), or to keep new ones in."""
    N, O, Ho, Wo = dz.shape
    C, H, W = v.shape[1:]
    top, bottom, left, right = padding
    Hp, Wp = H + top + bottom, W + left + right
    vt, vr0, vc0 = batch_copy(v, top, left, Hp, Wp, copies)
    dzt, zr0, zc0 = batch_copy(dz, 0, 0, Ho, Wo, copies)
    kh, kw = kernel
    work = N * O * C * kh * kw * Ho * Wo
    return run_kernel(_weight_gradient_batch, work, dzt, zr0, zc0, Ho, Wo, vt, vr0, vc0, kh, kw,
                      dilation[0], dilation[1], conn)


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _weight_gradient_batch(dzt, zr0, zc0, Ho, Wo, vt, vr0, vc0, kh, kw, dh, dw, conn):
    """Compiled body of :func:`weight_gradient_batch` on ``dzt`` and ``vt`` from
    :func:`batch_copy`: dZ's Ho × Wo from row ``zr0`` and column ``zc0`` of ``dzt`` on, the
    padded V from row ``vr0`` and column ``vc0`` of ``vt`` on."""
    O, Hq, Wq, N = dzt.shape
    C, Hp, Wp, _ = vt.shape
    T = kh * kw
    L = Wo * N
    dzf = dzt.reshape(O, Hq * Wq * N)
    vf = vt.reshape(C, Hp * Wp * N)
    offs = np.empty(T, dtype=np.int64)
    for k in range(kh):
        for l in range(kw):
            offs[k * kw + l] = (k * dh * Wp + l * dw) * N
    outs, nout = _outputs_of_inputs(conn)
    # the work items: (input map, first of up to four of its output maps)
    items = 0
    for c in range(C):
        items += (nout[c] + 3) // 4
    item_c = np.empty(items, dtype=np.int64)
    item_q = np.empty(items, dtype=np.int64)
    p = 0
    for c in range(C):
        for q in range(0, nout[c], 4):
            item_c[p] = c
            item_q[p] = q
            p += 1
    acc = np.empty((O, C, T), dtype=np.float64)
    # one iteration per item: it writes acc[o, c, :] of its own output maps o only
    for p in prange(items):
        c, q = item_c[p], item_q[p]
        count = min(4, nout[c] - q)
        block = outs[c, q:q + 4]
        for r in range(count):
            acc[block[r], c, :] = 0.0
        for i in range(Ho):
            x = vf[c, ((i + vr0) * Wp + vc0) * N:]
            z0 = ((i + zr0) * Wq + zc0) * N  # row i of dZ: L numbers from here
            d0 = dzf[block[0], z0:z0 + L]
            t = 0
            if count == 4:
                d1 = dzf[block[1], z0:z0 + L]
                d2 = dzf[block[2], z0:z0 + L]
                d3 = dzf[block[3], z0:z0 + L]
                while t + 4 <= T:
                    _dots_4x4(d0, d1, d2, d3, x, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3],
                              acc, block, c, t)
                    t += 4
            elif count >= 2:
                d1 = dzf[block[1], z0:z0 + L]
                while t + 4 <= T:
                    _dots_2x4(d0, d1, x, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3],
                              acc, block[0], block[1], c, t)
                    t += 4
            # the taps the passes above left, and every tap of a map they did not take
            paired = 4 if count == 4 else (2 if count >= 2 else 0)
            for r in range(count):
                _taps_dots(dzf[block[r], z0:z0 + L], x, L, offs, acc, block[r], c,
                           t if r < paired else 0)
    dW = np.empty((O, C, kh, kw), dtype=vt.dtype)
    # one iteration per output map: it writes only that map's kernels
    for o in prange(O):
        for c in range(C):
            for k in range(kh):
                for l in range(kw):
                    dW[o, c, k, l] = acc[o, c, k * kw + l] if conn[o, c] != 0 else 0.0
    return dW

