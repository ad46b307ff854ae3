"""The correlation engine of the convolution layer: one function for Z = W ⊛ V and for dA.

``correlate(v, w, stride, dilation, conn, bias)`` computes, 0-based, on an input
``v`` that is already zero-padded::

    z[n,o,i,j] = bias[o] + Σ_{c : conn[o,c]=1} Σ_k Σ_l w[o,c,k,l] · v[n,c, i·S_r + k·D_r, j·S_c + l·D_c]

the lecture's ``Z^{h} = Σ_{l ∈ C^{h}} W^{(h,l)} ⊛ A^{l}`` with stride S^t and the
kernel's taps spaced D apart (dilation).  The convolution layer calls it twice:

* forward:  ``Z = correlate(pad(V), W)``
* backward: ``dA = correlate(pad(dilate(dZ)), rot180(W)ᵀ)`` with the connection
  matrix transposed, then cropped: the lecture's full correlation
  ``dA^{l} = Σ_h rot180(W^{(h,l)}) ⋆ dZ^{h}`` (see ``ops/conv.py``).

Five ways to run the same sums, chosen here by a small cost model
(``kernels/cost_model.py``: :func:`choose_path`), never by the caller:

* ``"taps"``: direct loops.  A feature map of width Wp is one flat vector;
  with stride 1, output cell (i, j) sits at i·Wp + j of a "wide" output whose
  rows have the input's pitch, and kernel tap (k, l) of input map c reads the
  input at that position plus the constant offset c·Hp·Wp + k·D_r·Wp + l·D_c.
  One tap is then a single long, contiguous, vectorisable loop
  ``out[m] += w · v[m + offset]`` over the whole map (the Wp − Wo extra columns
  per row are discarded), run for four output maps and four taps at once, so
  that each value loaded feeds four multiply-adds.  Unconnected pairs have no
  taps: they are skipped, not multiplied by zero.  Each example is zero-padded
  on its own, in a buffer that stays in cache, and a tap skips the output rows
  whose input row is padding (most of the full correlation's border).  When
  both sides are padded by the kernel's extent (the full correlation), rows
  share their padding and the output has no extra columns; with other padding
  the loops read shifted copies of one map at a time (:func:`tap_layout`).
  Parallel over the batch.
* ``"batch"`` (stride 1, small maps): the same tap loops on a copy of V with
  the examples innermost (``kernels/batch_inner.py``), so that one output row
  of every example is one contiguous run: no discarded columns and long loops.
  Its copies must stay in cache: small maps only.
* ``"im2col"``: every window of V laid out as a column, one BLAS product per
  chunk of the batch (``kernels/im2col.py``).  Unconnected pairs are zero
  weights there, so the model picks it only for dense connection matrices.
* ``"scatter"`` (stride 1): input-driven, one BLAS product over the real
  cells of V only, each product then added to its output cell
  (``im2col.correlate_scatter``).  It never multiplies the zeros of the
  padding, which are most of the full correlation's input when dZ is small
  (LeNet's C5: a 1×1 dZ padded to 9×9).
* ``"winograd"`` (3×3 kernels, stride 1, dilation 1): Winograd's F(4×4, 3×3),
  each 4×4 block of outputs from its 6×6 input tile in 36 multiplications
  instead of 144, the sums over input maps as 36 BLAS products
  (``kernels/winograd.py``).  Dense tables only: a 3×3 layer with many maps in
  and out (32 → 64 on 32×32 maps: forward and dA about 35% faster).

Array requirements (the caller guarantees them, nothing is checked): ``v`` and
``w`` share one float dtype, the kernel's extent fits the padded input, strides
and dilations are >= 1, ``conn`` is an ``(O, C)`` 0/1 table.
"""
import numpy as np
from numba import njit, prange

from ._parallel import conn_array, run_kernel
from .cost_model import choose_path, covers_map

__all__ = ["correlate", "pad", "accumulate_taps"]

def pad(a, padding):
    """Zero padding P^d of the last two axes by ``(top, bottom, left, right)``, C-contiguous.

    A negative amount crops that side instead (used to leave out cells that the
    forward pass padded on).
    """
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return np.ascontiguousarray(a)
    crop = a[..., max(0, -top):a.shape[-2] - max(0, -bottom), max(0, -left):a.shape[-1] - max(0, -right)]
    out = np.zeros((*a.shape[:-2], crop.shape[-2] + max(0, top) + max(0, bottom),
                    crop.shape[-1] + max(0, left) + max(0, right)), dtype=a.dtype)
    out[..., max(0, top):max(0, top) + crop.shape[-2], max(0, left):max(0, left) + crop.shape[-1]] = crop
    return out


def correlate(v, w, stride=(1, 1), dilation=(1, 1), conn=None, bias=None, padding=(0, 0, 0, 0), copies=None):
    """Z = W ⊛ pad(V) (+ b): ``(N, O, Ho, Wo)`` from ``v`` ``(N, C, H, W)`` and ``w`` ``(O, C, kh, kw)``.

    ``padding`` = (top, bottom, left, right) zeros around V (negative: crop);
    Ho = (H + top + bottom − D_r·(kh − 1) − 1) // S_r + 1 and likewise Wo.
    ``conn`` is the ``(O, C)`` connection matrix (None: all ones), ``bias`` one
    scalar per output map or None.  ``copies``: a ``batch_inner.LayoutCopies`` in which
    the batch path keeps its copy of ``v`` (or finds one), for the weight gradient.
    """
    N, C, H, W = v.shape
    O, _, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    top, bottom, left, right = padding
    Hp, Wp = H + top + bottom, W + left + right
    Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
    Wo = (Wp - dw * (kw - 1) - 1) // sw + 1
    conn = np.ones((O, C), np.uint8) if conn is None else conn_array(conn)
    real = (H, W) if min(padding) >= 0 else None
    layout = tap_layout(W, Wp, left, kw, dw) if (sh, sw) == (1, 1) and real is not None else WIDE_ROWS
    P = Wp if layout == WIDE_ROWS else Wo  # the tap loops' row length
    path = choose_path(N, C, O, kh, kw, Ho, Wo, P, (sh, sw), conn, input_size=real,
                       whole=covers_map((Hp, Wp), kh, kw, dilation), dilation=(dh, dw),
                       padding=padding if real is not None else None)
    if path == "scatter" and (sh, sw) == (1, 1) and real is not None:
        return im2col.correlate_scatter(np.ascontiguousarray(v), w, (dh, dw), conn, padding, bias)
    w = np.ascontiguousarray(w)  # the tap loops index the kernels; the other paths take views
    b = np.zeros(O, dtype=w.dtype) if bias is None else np.ascontiguousarray(bias, dtype=w.dtype)
    if path == "batch":  # (the cost model offers it at stride 1 on a padded, not cropped, V only)
        return batch_inner.correlate_batch(v, w, (dh, dw), conn, padding, b, copies)
    if path == "winograd":  # (3×3, stride 1, dilation 1, V padded: cost_model.winograd_applies)
        return winograd.correlate_winograd(v, w, conn, bias, padding)
    work = N * O * C * kh * kw * Ho * P
    if path == "taps" and (sh, sw) == (1, 1) and real is not None:
        # the tap loops pad one example at a time, in a buffer that stays in cache
        return run_kernel(_correlate_taps, work, np.ascontiguousarray(v), w, b, 1, 1, dh, dw, conn, top, left,
                          Hp, Wp, layout)
    v = pad(v, padding)
    if path == "im2col":
        return im2col.correlate_gemm(v, w, (sh, sw), (dh, dw), conn, bias)
    return run_kernel(_correlate_taps, work, v, w, b, sh, sw, dh, dw, conn, 0, 0, Hp, Wp, WIDE_ROWS)


#: The layouts of a padded example in the stride-1 tap loops (:func:`tap_layout`).
WIDE_ROWS, SHARED_PADDING, SHIFTED_COPIES = 0, 1, 2


def tap_layout(W, Wp, left, kw, dw):
    """How the stride-1 tap loops lay out an example of width W padded to Wp.

    * WIDE_ROWS (no column padding, e.g. LeNet's C1 and C3 forward): the input
      as it is, the output in rows of the input's pitch Wp, its Wp − Wo extra
      columns discarded.
    * SHARED_PADDING (both sides padded by at least the kernel's extent
      D_c·(kw − 1), as in the full correlation of dZ): rows of pitch Wo, a row's
      right padding doubling as the next row's left padding (taps that run past
      a row's end read those zeros); the output needs no extra columns and is
      written in place.
    * SHIFTED_COPIES (any other padding, e.g. a 3×3 kernel padded by 1): one map
      at a time, kw copies of it each shifted left by l·D_c and Wo wide, so that
      tap (k, l) reads copy l; again rows of pitch Wo and the output in place,
      and the padded map is small enough to stay in cache.
    """
    if W == Wp:
        return WIDE_ROWS
    if min(left, Wp - W - left) >= dw * (kw - 1):
        return SHARED_PADDING
    return SHIFTED_COPIES


@njit(cache=True, fastmath={"contract"})
def accumulate_taps(out, L, src, base, offs, ws, nt, step):
    """``out[m] += Σ_t ws[t] · src[base + offs[t] + m·step]`` for m < L.

    The inner loop of the engine: ``nt`` kernel taps, each a weight and an
    offset into the flat source.  Taps are added four at a time (in tap
    order, each product to the running sum: fused multiply-adds) to save
    loads and stores of ``out``.
    """
    t = 0
    if step == 1:
        while t + 4 <= nt:
            w0 = ws[t]
            w1 = ws[t + 1]
            w2 = ws[t + 2]
            w3 = ws[t + 3]
            a0 = base + offs[t]
            a1 = base + offs[t + 1]
            a2 = base + offs[t + 2]
            a3 = base + offs[t + 3]
            s0 = src[a0:a0 + L]
            s1 = src[a1:a1 + L]
            s2 = src[a2:a2 + L]
            s3 = src[a3:a3 + L]
            for m in range(L):
                out[m] = (((out[m] + w0 * s0[m]) + w1 * s1[m]) + w2 * s2[m]) + w3 * s3[m]
            t += 4
        while t < nt:
            w0 = ws[t]
            a0 = base + offs[t]
            s0 = src[a0:a0 + L]
            for m in range(L):
                out[m] += w0 * s0[m]
            t += 1
    else:
        while t < nt:
            w0 = ws[t]
            a0 = base + offs[t]
            for m in range(L):
                out[m] += w0 * src[a0 + m * step]
            t += 1


@njit(cache=True)
def _tap_table(w, conn, Wp, plane, dh, dw):
    """Per output map o, its taps over the connected input maps only:
    (offset c·plane + k·D_r·Wp + l·D_c into the flat input, weight w[o,c,k,l])."""
    O, C, kh, kw = w.shape
    offs = np.empty((O, C * kh * kw), dtype=np.int64)
    ws = np.empty((O, C * kh * kw), dtype=w.dtype)
    nts = np.zeros(O, dtype=np.int64)
    for o in range(O):
        nt = 0
        for c in range(C):
            if conn[o, c] == 0:
                continue
            for k in range(kh):
                for l in range(kw):
                    offs[o, nt] = c * plane + k * dh * Wp + l * dw
                    ws[o, nt] = w[o, c, k, l]
                    nt += 1
        nts[o] = nt
    return offs, ws, nts


@njit(cache=True, inline="always")
def shifted_copies(x, base, pitch, vmap, kw, dw, top, left, Hp, Wo):
    """Write one map ``vmap`` (H, W), zero-padded by ``top`` rows and ``left`` columns, into
    ``x`` as kw copies of Hp rows × Wo: copy l starts at ``base + l·pitch`` and is the padded
    map shifted left by l·D_c, so that tap (k, l) reads copy l at k·D_r·Wo.  Only the map's
    cells are written: the padding keeps the zeros ``x`` was made with.  (``pitch`` = Hp·Wo
    for one map; the weight gradient stacks several examples' maps in each copy.)"""
    H, W = vmap.shape
    for l in range(kw):
        shift = l * dw - left
        j0 = max(0, -shift)
        j1 = min(Wo, W - shift)
        if j1 <= j0:  # this copy sees only padding
            continue
        for r in range(H):
            start = base + l * pitch + (top + r) * Wo
            x[start + j0:start + j1] = vmap[r, j0 + shift:j1 + shift]


@njit(cache=True)
def _outputs_of_inputs(conn):
    """For each input map c, the output maps connected to it (row c of ``outs``, ``nout[c]`` of them)."""
    O, C = conn.shape
    outs = np.empty((C, O), dtype=np.int64)
    nout = np.zeros(C, dtype=np.int64)
    for c in range(C):
        for o in range(O):
            if conn[o, c] != 0:
                outs[c, nout[c]] = o
                nout[c] += 1
    return outs, nout


@njit(cache=True, inline="always", fastmath={"contract"})
def _four_outputs(b0, b1, b2, b3, x, offs, lo, hi, w0, w1, w2, w3):
    """``b_r[m] += Σ_t w_r[t] · x[offs[t] + m]`` for four output maps r that read the same input map.

    Four taps at a time: every input value loaded is used by 4 × 4
    multiply-adds, and each output value is loaded and stored once per four
    taps.  The four products are added to the output one after another,
    ``(((b + w0·x0) + w1·x1) + w2·x2) + w3·x3``: four fused multiply-adds.
    (Summing the products first, ``b + (w0·x0 + … + w3·x3)``, costs a multiply
    and an add more per output, and the loop is bound by the floating-point
    ports: C3's forward took 287 µs that way, 259 µs this way.)  Tap t only runs over ``lo[t] <= m < hi[t]`` (a group of four over
    the widest of its ranges): the output rows whose input row is not zero
    padding, so that the full correlation's wide padding is not multiplied.
    """
    T = offs.shape[0]
    t = 0
    while t + 4 <= T:
        m0 = min(min(lo[t], lo[t + 1]), min(lo[t + 2], lo[t + 3]))
        m1 = max(max(hi[t], hi[t + 1]), max(hi[t + 2], hi[t + 3]))
        _four_by_four(b0[m0:m1], b1[m0:m1], b2[m0:m1], b3[m0:m1],
                      x[offs[t] + m0:offs[t] + m1], x[offs[t + 1] + m0:offs[t + 1] + m1],
                      x[offs[t + 2] + m0:offs[t + 2] + m1], x[offs[t + 3] + m0:offs[t + 3] + m1],
                      w0[t:t + 4], w1[t:t + 4], w2[t:t + 4], w3[t:t + 4])
        t += 4
    while t < T:
        m0, m1 = lo[t], hi[t]
        x0 = x[offs[t] + m0:offs[t] + m1]
        c0 = b0[m0:m1]
        c1 = b1[m0:m1]
        c2 = b2[m0:m1]
        c3 = b3[m0:m1]
        a0, e0, f0, g0 = w0[t], w1[t], w2[t], w3[t]
        for m in range(m1 - m0):
            y0 = x0[m]
            c0[m] += a0 * y0
            c1[m] += e0 * y0
            c2[m] += f0 * y0
            c3[m] += g0 * y0
        t += 1


@njit(cache=True, inline="always", fastmath={"contract"})
def _four_by_four(b0, b1, b2, b3, x0, x1, x2, x3, w0, w1, w2, w3):
    """``b_r[m] += Σ_q w_r[q] · x_q[m]``: four outputs from the same four shifted inputs."""
    a0, a1, a2, a3 = w0[0], w0[1], w0[2], w0[3]
    e0, e1, e2, e3 = w1[0], w1[1], w1[2], w1[3]
    f0, f1, f2, f3 = w2[0], w2[1], w2[2], w2[3]
    g0, g1, g2, g3 = w3[0], w3[1], w3[2], w3[3]
    for m in range(b0.shape[0]):
        y0 = x0[m]
        y1 = x1[m]
        y2 = x2[m]
        y3 = x3[m]
        b0[m] = (((b0[m] + a0 * y0) + a1 * y1) + a2 * y2) + a3 * y3
        b1[m] = (((b1[m] + e0 * y0) + e1 * y1) + e2 * y2) + e3 * y3
        b2[m] = (((b2[m] + f0 * y0) + f1 * y1) + f2 * y2) + f3 * y3
        b3[m] = (((b3[m] + g0 * y0) + g1 * y1) + g2 * y2) + g3 * y3


@njit(cache=True, inline="always", fastmath={"contract"})
def _two_outputs(b0, b1, x, offs, lo, hi, w0, w1):
    """:func:`_four_outputs` for two output maps (what is left of a block of four)."""
    T = offs.shape[0]
    t = 0
    while t + 4 <= T:
        m0 = min(min(lo[t], lo[t + 1]), min(lo[t + 2], lo[t + 3]))
        m1 = max(max(hi[t], hi[t + 1]), max(hi[t + 2], hi[t + 3]))
        c0 = b0[m0:m1]
        c1 = b1[m0:m1]
        x0 = x[offs[t] + m0:offs[t] + m1]
        x1 = x[offs[t + 1] + m0:offs[t + 1] + m1]
        x2 = x[offs[t + 2] + m0:offs[t + 2] + m1]
        x3 = x[offs[t + 3] + m0:offs[t + 3] + m1]
        a0, a1, a2, a3 = w0[t], w0[t + 1], w0[t + 2], w0[t + 3]
        e0, e1, e2, e3 = w1[t], w1[t + 1], w1[t + 2], w1[t + 3]
        for m in range(m1 - m0):
            y0 = x0[m]
            y1 = x1[m]
            y2 = x2[m]
            y3 = x3[m]
            c0[m] = (((c0[m] + a0 * y0) + a1 * y1) + a2 * y2) + a3 * y3
            c1[m] = (((c1[m] + e0 * y0) + e1 * y1) + e2 * y2) + e3 * y3
        t += 4
    while t < T:
        m0, m1 = lo[t], hi[t]
        c0 = b0[m0:m1]
        c1 = b1[m0:m1]
        x0 = x[offs[t] + m0:offs[t] + m1]
        a0, e0 = w0[t], w1[t]
        for m in range(m1 - m0):
            y0 = x0[m]
            c0[m] += a0 * y0
            c1[m] += e0 * y0
        t += 1


@njit(cache=True, inline="always", fastmath={"contract"})
def _one_output(b0, x, offs, lo, hi, w0):
    """:func:`_four_outputs` for a single output map: ``b0[m] += Σ_t w0[t] · x[offs[t] + m]``."""
    T = offs.shape[0]
    t = 0
    while t + 4 <= T:
        m0 = min(min(lo[t], lo[t + 1]), min(lo[t + 2], lo[t + 3]))
        m1 = max(max(hi[t], hi[t + 1]), max(hi[t + 2], hi[t + 3]))
        c0 = b0[m0:m1]
        x0 = x[offs[t] + m0:offs[t] + m1]
        x1 = x[offs[t + 1] + m0:offs[t + 1] + m1]
        x2 = x[offs[t + 2] + m0:offs[t + 2] + m1]
        x3 = x[offs[t + 3] + m0:offs[t + 3] + m1]
        a0, a1, a2, a3 = w0[t], w0[t + 1], w0[t + 2], w0[t + 3]
        for m in range(m1 - m0):
            c0[m] = (((c0[m] + a0 * x0[m]) + a1 * x1[m]) + a2 * x2[m]) + a3 * x3[m]
        t += 4
    while t < T:
        m0, m1 = lo[t], hi[t]
        c0 = b0[m0:m1]
        x0 = x[offs[t] + m0:offs[t] + m1]
        a0 = w0[t]
        for m in range(m1 - m0):
            c0[m] += a0 * x0[m]
        t += 1


@njit(cache=True, inline="always", fastmath={"contract"})
def _input_map_taps(buf, x, offs, lo, hi, w, c, outs, nout):
    """``buf[o] += Σ_t w[o, c, t] · x[offs[t] + m]`` for every output map o connected to input
    map c (``outs[c, :nout[c]]``): four at a time, then two, then one."""
    q = 0
    while q + 4 <= nout[c]:
        o0, o1, o2, o3 = outs[c, q], outs[c, q + 1], outs[c, q + 2], outs[c, q + 3]
        _four_outputs(buf[o0], buf[o1], buf[o2], buf[o3], x, offs, lo, hi,
                      w[o0, c], w[o1, c], w[o2, c], w[o3, c])
        q += 4
    if q + 2 <= nout[c]:
        o0, o1 = outs[c, q], outs[c, q + 1]
        _two_outputs(buf[o0], buf[o1], x, offs, lo, hi, w[o0, c], w[o1, c])
        q += 2
    if q < nout[c]:
        _one_output(buf[outs[c, q]], x, offs, lo, hi, w[outs[c, q], c])


@njit(parallel=True, cache=True, fastmath={"contract"})
def _correlate_taps(v, w, bias, sh, sw, dh, dw, conn, top, left, Hp, Wp, layout):
    """Compiled body of the ``"taps"`` path of :func:`correlate`.

    Stride 1: for each input map, its connected output maps four at a time
    (:func:`_four_outputs`), in rows of the pitch the ``layout`` gives
    (:func:`tap_layout`); ``v`` may come unpadded, each example (or map) then
    zero-padded to (Hp, Wp) with ``top`` rows above and ``left`` columns to the left.
    Other strides: ``v`` comes padded; per output map, its taps over each output row.
    """
    N, C, H, W = v.shape
    O, _, kh, kw = w.shape
    Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
    Wo = (Wp - dw * (kw - 1) - 1) // sw + 1
    plane = Hp * Wp
    vf = v.reshape(N, C * H * W)
    z = np.empty((N, O, Ho, Wo), dtype=v.dtype)
    if sh == 1 and sw == 1:
        T = kh * kw
        wf = w.reshape(O, C, T)
        outs, nout = _outputs_of_inputs(conn)
        P = Wp if layout == WIDE_ROWS else Wo  # the row pitch of the input and of the output
        if layout == SHIFTED_COPIES:
            pplane = kw * Hp * Wo  # kw copies of one padded map, each Wo wide
        elif layout == SHARED_PADDING:
            pplane = Hp * Wo + dw * (kw - 1)  # + the last row's right padding
        else:
            pplane = plane
        L = (Ho - 1) * P + Wo  # output rows of pitch P, the last row only Wo long
        offs = np.empty(T, dtype=np.int64)
        lo = np.empty(T, dtype=np.int64)  # tap t runs over lo[t] <= m < hi[t]: the output rows
        hi = np.empty(T, dtype=np.int64)  # whose input row k·D_r below is a row of V, not padding
        for k in range(kh):
            first = max(0, top - k * dh)
            last = min(Ho, top + H - k * dh)
            for l in range(kw):
                if layout == SHIFTED_COPIES:  # copy l holds the map shifted left by l·D_c
                    offs[k * kw + l] = l * Hp * Wo + k * dh * Wo
                else:
                    offs[k * kw + l] = k * dh * P + l * dw
                lo[k * kw + l] = min(first * P, L)
                hi[k * kw + l] = max(min(last * P, L), lo[k * kw + l])
        in_place = P == Wo
        padded = (H, W) != (Hp, Wp)
        # one iteration per example: disjoint writes, no races
        for n in prange(N):
            buf = z[n].reshape(O, L) if in_place else np.empty((O, L), dtype=v.dtype)
            for o in range(O):
                buf[o, :] = bias[o]
            if layout == SHIFTED_COPIES:  # one map at a time, below
                xf = np.zeros(pplane, dtype=v.dtype)
            elif padded:
                xf = np.zeros(C * pplane, dtype=v.dtype)
                for c in range(C):
                    for r in range(H):
                        start = c * pplane + (top + r) * P + left
                        xf[start:start + W] = v[n, c, r]
            else:
                xf = vf[n]
            for c in range(C):
                if layout == SHIFTED_COPIES:
                    x = xf
                    shifted_copies(x, 0, Hp * Wo, v[n, c], kw, dw, top, left, Hp, Wo)
                else:
                    x = xf[c * pplane:(c + 1) * pplane]
                _input_map_taps(buf, x, offs, lo, hi, wf, c, outs, nout)
            if not in_place:
                for o in range(O):
                    for i in range(Ho):
                        z[n, o, i, :] = buf[o, i * P:i * P + Wo]
        return z
    offs2, ws, nts = _tap_table(w, conn, Wp, plane, dh, dw)
    for n in prange(N):
        for o in range(O):
            b = bias[o]
            for i in range(Ho):
                zrow = z[n, o, i]
                zrow[:] = b
                accumulate_taps(zrow, Wo, vf[n], i * sh * Wp, offs2[o], ws[o], nts[o], sw)
    return z


# last: these paths import names from this module
from . import batch_inner, im2col, winograd  # noqa: E402
