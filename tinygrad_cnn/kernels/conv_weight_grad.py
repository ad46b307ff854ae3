"""The weight gradient of the convolution layer: dW = dZ ⋆ V, summed over the batch.

The lecture's scalar form, 0-based, with stride S and dilation D::

    dw[o,c,u,v] = Σ_n Σ_i Σ_j dz[n,o,i,j] · v[n,c, i·S_r + u·D_r, j·S_c + v·D_c]

for connected pairs (conn[o,c] = 1); the kernels of unconnected pairs get
exactly 0 and their work is skipped.  ``v`` is the zero-padded forward input.

Two paths, picked by the engine's cost model (``correlation.choose_path``): the
``"taps"`` loops below, or im2col + one BLAS product per chunk
(``im2col.weight_gradient_gemm``).

The taps loops: for stride 1, dZ of one example is laid out in "wide rows"
of the input's pitch Wp (zeros beyond Wo), so that tap (u, v) is one long dot
product ``Σ_m dzw[m] · v[offset(u, v) + m]`` over the flat map.  Four output
maps are blocked together, so each loaded input value feeds four sums.  The
batch is split into a fixed number of slots (examples n ≡ t mod SLOTS), each
slot summing into its own partial dW; the threads share the slots and the
partials are added in slot order at the end: no races, and the same bits on
any number of threads.
"""
import numpy as np
from numba import njit, prange

from ._parallel import conn_array, run_kernel
from .correlation import choose_path

__all__ = ["weight_gradient"]

#: Partial sums over the batch (examples n ≡ t mod SLOTS go to slot t).
SLOTS = 8


def weight_gradient(dz, v, kernel, stride=(1, 1), dilation=(1, 1), conn=None):
    """dW = dZ ⋆ V: ``(O, C, kh, kw)`` from dZ ``(N, O, Ho, Wo)`` and the padded V ``(N, C, Hp, Wp)``."""
    from . import im2col

    dz = np.ascontiguousarray(dz)
    v = np.ascontiguousarray(v)
    N, O, Ho, Wo = dz.shape
    C, Wp = v.shape[1], v.shape[3]
    kh, kw = kernel
    conn = np.ones((O, C), np.uint8) if conn is None else conn_array(conn)
    if choose_path(N, C, O, kh, kw, Ho, Wo, Wp, tuple(stride), conn) == "im2col":
        return im2col.weight_gradient_gemm(dz, v, kernel, stride, dilation, conn)
    work = N * O * C * kh * kw * Ho * Wp
    (sh, sw), (dh, dw) = stride, dilation
    slots = max(1, min(SLOTS, N))
    partial = run_kernel(_weight_gradient_taps, work, dz, v, kh, kw, sh, sw, dh, dw, conn, slots)
    out = partial[0]
    for t in range(1, slots):
        out += partial[t]
    return out


@njit(cache=True)
def _connected_outputs(conn):
    """For every input map c, the output maps o with conn[o, c] = 1, in order."""
    O, C = conn.shape
    outs = np.empty((C, O), dtype=np.int64)
    counts = np.zeros(C, dtype=np.int64)
    for c in range(C):
        for o in range(O):
            if conn[o, c] != 0:
                outs[c, counts[c]] = o
                counts[c] += 1
    return outs, counts


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot4(d0, d1, d2, d3, xs, L):
    s0 = d0[0] * 0
    s1 = s0
    s2 = s0
    s3 = s0
    for m in range(L):
        x = xs[m]
        s0 += d0[m] * x
        s1 += d1[m] * x
        s2 += d2[m] * x
        s3 += d3[m] * x
    return s0, s1, s2, s3


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(d0, xs, L):
    s0 = d0[0] * 0
    for m in range(L):
        s0 += d0[m] * xs[m]
    return s0


@njit(parallel=True, cache=True)
def _weight_gradient_taps(dz, v, kh, kw, sh, sw, dh, dw, conn, slots):
    """Compiled body of the ``"taps"`` path: ``(slots, O, C, kh, kw)`` partial sums."""
    N, O, Ho, Wo = dz.shape
    C, Hp, Wp = v.shape[1], v.shape[2], v.shape[3]
    plane = Hp * Wp
    vf = v.reshape(N, C * plane)
    partial = np.zeros((slots, O, C, kh, kw), dtype=v.dtype)
    outs, counts = _connected_outputs(conn)
    unit = sh == 1 and sw == 1
    L = (Ho - 1) * Wp + Wo if unit else Wo
    for t in prange(slots):
        # this slot's dZ rows: wide (pitch Wp, zero gaps) for stride 1, else gathered input rows
        dzw = np.zeros((O, L), dtype=dz.dtype)
        xrow = np.empty(Wo, dtype=v.dtype)
        acc = partial[t]
        for n in range(t, N, slots):
            if unit:
                for o in range(O):
                    for i in range(Ho):
                        dzw[o, i * Wp:i * Wp + Wo] = dz[n, o, i]
            for c in range(C):
                xc = vf[n, c * plane:(c + 1) * plane]
                nc = counts[c]
                for u in range(kh):
                    for q in range(kw):
                        off = u * dh * Wp + q * dw
                        if unit:
                            xs = xc[off:off + L]
                            b = 0
                            while b + 4 <= nc:
                                o0 = outs[c, b]
                                o1 = outs[c, b + 1]
                                o2 = outs[c, b + 2]
                                o3 = outs[c, b + 3]
                                s0, s1, s2, s3 = _dot4(dzw[o0], dzw[o1], dzw[o2], dzw[o3], xs, L)
                                acc[o0, c, u, q] += s0
                                acc[o1, c, u, q] += s1
                                acc[o2, c, u, q] += s2
                                acc[o3, c, u, q] += s3
                                b += 4
                            while b < nc:
                                o0 = outs[c, b]
                                acc[o0, c, u, q] += _dot(dzw[o0], xs, L)
                                b += 1
                        else:
                            for i in range(Ho):
                                r = i * sh * Wp + off
                                for j in range(Wo):
                                    xrow[j] = xc[r + j * sw]
                                for b in range(nc):
                                    o0 = outs[c, b]
                                    acc[o0, c, u, q] += _dot(dz[n, o0, i], xrow, Wo)
    return partial
