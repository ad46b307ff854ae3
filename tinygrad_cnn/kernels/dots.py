"""The dot-product passes of the weight gradient dW = dZ ⋆ V, shared by its two tap paths.

Each pass computes several dot products ``Σ_m d[m] · x[a + m]`` at once, so that every
value loaded feeds several multiply-adds: one output map × four taps
(:func:`_dots_1x4`), four × four (:func:`_dots_4x4`), two × four (:func:`_dots_2x4`),
and the taps one map has left (:func:`_taps_dots`).  The sums may be reassociated
(vectorised with several partial sums): their order is fixed by the compiled code,
never by the thread count.  Used by ``conv_weight_grad`` (whole maps, wide rows) and
``batch_inner`` (the examples innermost).
"""
from numba import njit


@njit(cache=True, inline="always", fastmath={"reassoc", "contract"})
def _dots_1x4(d, x, L, a0, a1, a2, a3):
    """Four dot products ``Σ_m d[m] · x[a_r + m]``: each d[m] is loaded once for four taps.

    The sums may be reassociated (vectorised with several partial sums): the
    order is fixed by the compiled code, not by the thread count.
    """
    x0 = x[a0:a0 + L]
    x1 = x[a1:a1 + L]
    x2 = x[a2:a2 + L]
    x3 = x[a3:a3 + L]
    s0 = s1 = s2 = s3 = x.dtype.type(0)
    for m in range(L):
        e = d[m]
        s0 += e * x0[m]
        s1 += e * x1[m]
        s2 += e * x2[m]
        s3 += e * x3[m]
    return s0, s1, s2, s3


@njit(cache=True, inline="always", fastmath={"reassoc", "contract"})
def _dots_4x4(d0, d1, d2, d3, x, L, a0, a1, a2, a3, acc, outs, c, t):
    """``acc[outs[r], c, t + q] += Σ_m d_r[m] · x[a_q + m]`` for four output maps r and four taps q.

    Sixteen dot products in one pass: every value of dZ and of V loaded is used
    four times.
    """
    x0 = x[a0:a0 + L]
    x1 = x[a1:a1 + L]
    x2 = x[a2:a2 + L]
    x3 = x[a3:a3 + L]
    z = x.dtype.type(0)
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = z
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = z
    for m in range(L):
        y0 = x0[m]
        y1 = x1[m]
        y2 = x2[m]
        y3 = x3[m]
        e = d0[m]
        s00 += e * y0
        s01 += e * y1
        s02 += e * y2
        s03 += e * y3
        e = d1[m]
        s10 += e * y0
        s11 += e * y1
        s12 += e * y2
        s13 += e * y3
        e = d2[m]
        s20 += e * y0
        s21 += e * y1
        s22 += e * y2
        s23 += e * y3
        e = d3[m]
        s30 += e * y0
        s31 += e * y1
        s32 += e * y2
        s33 += e * y3
    o0, o1, o2, o3 = outs[0], outs[1], outs[2], outs[3]
    acc[o0, c, t] += s00
    acc[o0, c, t + 1] += s01
    acc[o0, c, t + 2] += s02
    acc[o0, c, t + 3] += s03
    acc[o1, c, t] += s10
    acc[o1, c, t + 1] += s11
    acc[o1, c, t + 2] += s12
    acc[o1, c, t + 3] += s13
    acc[o2, c, t] += s20
    acc[o2, c, t + 1] += s21
    acc[o2, c, t + 2] += s22
    acc[o2, c, t + 3] += s23
    acc[o3, c, t] += s30
    acc[o3, c, t + 1] += s31
    acc[o3, c, t + 2] += s32
    acc[o3, c, t + 3] += s33


@njit(cache=True, inline="always", fastmath={"reassoc", "contract"})
def _dots_2x4(d0, d1, x, L, a0, a1, a2, a3, acc, o0, o1, c, t):
    """:func:`_dots_4x4` for two output maps (what is left of a block of four): eight dot
    products in one pass, every value of V loaded used twice."""
    x0 = x[a0:a0 + L]
    x1 = x[a1:a1 + L]
    x2 = x[a2:a2 + L]
    x3 = x[a3:a3 + L]
    z = x.dtype.type(0)
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = z
    for m in range(L):
        y0 = x0[m]
        y1 = x1[m]
        y2 = x2[m]
        y3 = x3[m]
        e = d0[m]
        s00 += e * y0
        s01 += e * y1
        s02 += e * y2
        s03 += e * y3
        e = d1[m]
        s10 += e * y0
        s11 += e * y1
        s12 += e * y2
        s13 += e * y3
    acc[o0, c, t] += s00
    acc[o0, c, t + 1] += s01
    acc[o0, c, t + 2] += s02
    acc[o0, c, t + 3] += s03
    acc[o1, c, t] += s10
    acc[o1, c, t + 1] += s11
    acc[o1, c, t + 2] += s12
    acc[o1, c, t + 3] += s13


@njit(cache=True, inline="always", fastmath={"reassoc", "contract"})
def _taps_dots(d, x, L, offs, acc, o, c, t0):
    """``acc[o, c, t] += Σ_m d[m] · x[offs[t] + m]`` for the taps t0, t0+1, … of one pair (o, c)."""
    T = offs.shape[0]
    t = t0
    while t + 4 <= T:
        s0, s1, s2, s3 = _dots_1x4(d, x, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3])
        acc[o, c, t] += s0
        acc[o, c, t + 1] += s1
        acc[o, c, t + 2] += s2
        acc[o, c, t + 3] += s3
        t += 4
    while t < T:
        xs = x[offs[t]:offs[t] + L]
        s = x.dtype.type(0)
        for m in range(L):
            s += d[m] * xs[m]
        acc[o, c, t] += s
        t += 1
