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
  per pass, the same operations in the same order; the compiler may fuse a
  multiply-add in one loop and not in the other, so the last bit can differ), one
  parallel iteration per output row, which it then writes into every example's
  map.  A tap whose input row is padding is skipped as the taps path skips it.
* :func:`weight_gradient_batch`, dW = dZ ⋆ V: for each tap, the dot products
  ``Σ_i Σ_m dzt[o, i, m] · vt[c, i + k·D_r, l·D_c·N + m]`` over m < Wo·N, four
  output maps × four taps per pass (``conv_weight_grad._dots_4x4``); one
  parallel iteration per input map and block of its output maps, each dW entry
  summed by one iteration in a fixed order: the same bits on any thread count.

The copies cost a pass over V and one over Z; ``correlation.choose_path`` weighs
them against the thrown-away columns of the taps path.
"""
import numpy as np
from numba import njit, prange

from ._parallel import run_kernel
from .correlation import _four_outputs, _one_output, _outputs_of_inputs, _two_outputs
from .dots import _dots_2x4, _dots_4x4, _taps_dots

__all__ = ["batch_inner", "correlate_batch", "weight_gradient_batch"]


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


def correlate_batch(v, w, dilation, conn, padding, bias):
    """:func:`correlation.correlate` at stride 1, ``v`` ``(N, C, H, W)`` zero-padded by
    ``padding`` = (top, bottom, left, right) >= 0: ``(N, O, Ho, Wo)``."""
    N, C, H, W = v.shape
    O, _, kh, kw = w.shape
    dh, dw = dilation
    top, bottom, left, right = padding
    Hp, Wp = H + top + bottom, W + left + right
    Ho, Wo = Hp - dh * (kh - 1), Wp - dw * (kw - 1)
    vt = batch_inner(v, top, left, Hp, Wp)
    work = N * O * C * kh * kw * Ho * Wo
    return run_kernel(_correlate_batch, work, vt, np.ascontiguousarray(w), bias, conn, dh, dw, top, H, Ho, Wo)


@njit(parallel=True, cache=True, fastmath={"contract"})
def _correlate_batch(vt, w, bias, conn, dh, dw, top, H, Ho, Wo):
    """Compiled body of :func:`correlate_batch`: ``vt`` from :func:`batch_inner`, ``H`` the
    rows of V in it (from row ``top`` on), ``bias`` one number per output map."""
    C, Hp, Wp, N = vt.shape
    O, _, kh, kw = w.shape
    T = kh * kw
    L = Wo * N  # one output row of every example
    wf = w.reshape(O, C, T)
    vf = vt.reshape(C, Hp * Wp * N)
    outs, nout = _outputs_of_inputs(conn)
    offs = np.empty(T, dtype=np.int64)
    # per output row, the taps that run over it (lo 0, hi L) or not (lo L, hi 0): a tap whose
    # input row is padding does not, unless the taps path would run it with its group of four
    lo = np.empty((Ho, T), dtype=np.int64)
    hi = np.empty((Ho, T), dtype=np.int64)
    for k in range(kh):
        first = max(0, top - k * dh)      # output rows whose input row k·D_r below is a row of V
        last = min(Ho, top + H - k * dh)
        for l in range(kw):
            t = k * kw + l
            offs[t] = (k * dh * Wp + l * dw) * N
            for i in range(Ho):
                runs = first <= i < last
                lo[i, t] = 0 if runs else L
                hi[i, t] = L if runs else 0
    z = np.empty((N, O, Ho, Wo), dtype=vt.dtype)
    # one iteration per output row: it writes row i of every output map of every example
    for i in prange(Ho):
        buf = np.empty((O, L), dtype=vt.dtype)
        for o in range(O):
            buf[o, :] = bias[o]
        for c in range(C):
            x = vf[c, i * Wp * N:]
            q = 0
            while q + 4 <= nout[c]:
                o0, o1, o2, o3 = outs[c, q], outs[c, q + 1], outs[c, q + 2], outs[c, q + 3]
                _four_outputs(buf[o0], buf[o1], buf[o2], buf[o3], x, offs, lo[i], hi[i],
                              wf[o0, c], wf[o1, c], wf[o2, c], wf[o3, c])
                q += 4
            if q + 2 <= nout[c]:
                o0, o1 = outs[c, q], outs[c, q + 1]
                _two_outputs(buf[o0], buf[o1], x, offs, lo[i], hi[i], wf[o0, c], wf[o1, c])
                q += 2
            if q < nout[c]:
                _one_output(buf[outs[c, q]], x, offs, lo[i], hi[i], wf[outs[c, q], c])
        for o in range(O):
            b = buf[o]
            for n in range(N):
                zrow = z[n, o, i]
                for j in range(Wo):
                    zrow[j] = b[j * N + n]
    return z


def weight_gradient_batch(dz, v, kernel, dilation, conn, padding):
    """:func:`conv_weight_grad.weight_gradient` at stride 1, ``v`` ``(N, C, H, W)`` zero-padded
    by ``padding`` >= 0: ``(O, C, kh, kw)``, exactly 0 for unconnected pairs."""
    N, O, Ho, Wo = dz.shape
    C, H, W = v.shape[1:]
    top, bottom, left, right = padding
    Hp, Wp = H + top + bottom, W + left + right
    vt = batch_inner(v, top, left, Hp, Wp)
    dzt = batch_inner(dz, 0, 0, Ho, Wo)
    kh, kw = kernel
    work = N * O * C * kh * kw * Ho * Wo
    return run_kernel(_weight_gradient_batch, work, dzt, vt, kh, kw, dilation[0], dilation[1], conn)


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _weight_gradient_batch(dzt, vt, kh, kw, dh, dw, conn):
    """Compiled body of :func:`weight_gradient_batch` on ``dzt`` and ``vt`` from :func:`batch_inner`."""
    O, Ho, Wo, N = dzt.shape
    C, Hp, Wp, _ = vt.shape
    T = kh * kw
    L = Wo * N
    dzf = dzt.reshape(O, Ho * L)
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
            x = vf[c, i * Wp * N:]
            d0 = dzf[block[0], i * L:(i + 1) * L]
            t = 0
            if count == 4:
                d1 = dzf[block[1], i * L:(i + 1) * L]
                d2 = dzf[block[2], i * L:(i + 1) * L]
                d3 = dzf[block[3], i * L:(i + 1) * L]
                while t + 4 <= T:
                    _dots_4x4(d0, d1, d2, d3, x, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3],
                              acc, block, c, t)
                    t += 4
            elif count >= 2:
                d1 = dzf[block[1], i * L:(i + 1) * L]
                while t + 4 <= T:
                    _dots_2x4(d0, d1, x, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3],
                              acc, block[0], block[1], c, t)
                    t += 4
            # the taps the passes above left, and every tap of a map they did not take
            paired = 4 if count == 4 else (2 if count >= 2 else 0)
            for r in range(count):
                _taps_dots(dzf[block[r], i * L:(i + 1) * L], x, L, offs, acc, block[r], c,
                           t if r < paired else 0)
    dW = np.empty((O, C, kh, kw), dtype=vt.dtype)
    # one iteration per output map: it writes only that map's kernels
    for o in prange(O):
        for c in range(C):
            for k in range(kh):
                for l in range(kw):
                    dW[o, c, k, l] = acc[o, c, k * kw + l] if conn[o, c] != 0 else 0.0
    return dW

