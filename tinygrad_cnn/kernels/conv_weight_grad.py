"""The weight gradient of the convolution layer: dW = dZ ⋆ V, summed over the batch.

The lecture's scalar form, 0-based, with stride S and dilation D::

    dw[o,c,u,v] = Σ_n Σ_i Σ_j dz[n,o,i,j] · v[n,c, i·S_r + u·D_r, j·S_c + v·D_c]

for connected pairs (conn[o,c] = 1); the kernels of unconnected pairs get
exactly 0 and their work is skipped.  ``v`` is the zero-padded forward input.

Two paths, picked by the engine's cost model (``correlation.choose_path``): the
``"taps"`` loops below, or im2col + one BLAS product per chunk
(``im2col.weight_gradient_gemm``).

The taps loops: for stride 1, dZ is laid out in "wide rows" of the input's
pitch Wp (zeros beyond Wo), so that tap (u, v) is one long loop
``acc[m] += dzw[m] · v[offset(u, v) + m]`` over the flat map, summed over the
batch elementwise (vectorised without reassociating additions) and reduced
at the end.  One parallel iteration per connected (o, c) kernel: no races, the
same bits on any number of threads.
"""
import numpy as np
from numba import njit, prange

from ._parallel import conn_array, run_kernel
from .correlation import choose_path

__all__ = ["weight_gradient"]

def weight_gradient(dz, v, kernel, stride=(1, 1), dilation=(1, 1), conn=None):
    """dW = dZ ⋆ V: ``(O, C, kh, kw)`` from dZ ``(N, O, Ho, Wo)`` and the padded V ``(N, C, Hp, Wp)``."""
    from . import im2col

    dz = np.ascontiguousarray(dz)
    v = np.ascontiguousarray(v)
    N, O, Ho, Wo = dz.shape
    C, Wp = v.shape[1], v.shape[3]
    kh, kw = kernel
    conn = np.ones((O, C), np.uint8) if conn is None else conn_array(conn)
    if choose_path(N, C, O, kh, kw, Ho, Wo, Wp, tuple(stride), conn, weight=True) == "im2col":
        return im2col.weight_gradient_gemm(dz, v, kernel, stride, dilation, conn)
    work = N * O * C * kh * kw * Ho * Wp
    (sh, sw), (dh, dw) = stride, dilation
    return run_kernel(_weight_gradient_taps, work, dz, v, kh, kw, sh, sw, dh, dw, conn)


@njit(cache=True, inline="always", fastmath={"reassoc", "contract"})
def _four_dots(d, x, L, a0, a1, a2, a3):
    """Four dot products ``Σ_m d[m] · x[a_r + m]`` at once: each d[m] is loaded once for four taps.

    The sums may be reassociated (vectorised with several partial sums): the
    order is fixed by the compiled code, not by the thread count.
    """
    x0 = x[a0:a0 + L]
    x1 = x[a1:a1 + L]
    x2 = x[a2:a2 + L]
    x3 = x[a3:a3 + L]
    s0 = s1 = s2 = s3 = x.dtype.type(0)
    for m in range(L):
        dm = d[m]
        s0 += dm * x0[m]
        s1 += dm * x1[m]
        s2 += dm * x2[m]
        s3 += dm * x3[m]
    return s0, s1, s2, s3


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _weight_gradient_taps(dz, v, kh, kw, sh, sw, dh, dw, conn):
    """Compiled body of the ``"taps"`` path: one parallel iteration per connected (o, c) kernel."""
    N, O, Ho, Wo = dz.shape
    C, Hp, Wp = v.shape[1], v.shape[2], v.shape[3]
    plane = Hp * Wp
    vf = v.reshape(N, C * plane)
    dW = np.zeros((O, C, kh, kw), dtype=v.dtype)
    T = kh * kw
    offs = np.empty(T, dtype=np.int64)
    for k in range(kh):
        for l in range(kw):
            offs[k * kw + l] = k * dh * Wp + l * dw
    if sh != 1 or sw != 1:
        return _strided(dz, vf, dW, offs, sh, sw, Wp, plane, conn)
    # dZ in wide rows of pitch Wp (zero columns beyond Wo)
    L = (Ho - 1) * Wp + Wo
    dzw = np.zeros((N, O, L), dtype=dz.dtype)
    for t in prange(N * O):
        n = t // O
        o = t % O
        for i in range(Ho):
            for j in range(Wo):
                dzw[n, o, i * Wp + j] = dz[n, o, i, j]
    for p in prange(O * C):
        o = p // C
        c = p % C
        if conn[o, c] == 0:
            continue
        acc = np.zeros(T, dtype=np.float64)
        for n in range(N):
            # tap (u, v): one dot product of the wide dZ with V shifted by the tap's offset
            d = dzw[n, o]
            xc = vf[n, c * plane:(c + 1) * plane]
            t = 0
            while t + 4 <= T:
                s0, s1, s2, s3 = _four_dots(d, xc, L, offs[t], offs[t + 1], offs[t + 2], offs[t + 3])
                acc[t] += s0
                acc[t + 1] += s1
                acc[t + 2] += s2
                acc[t + 3] += s3
                t += 4
            while t < T:
                xs = xc[offs[t]:offs[t] + L]
                s0 = xc.dtype.type(0)
                for m in range(L):
                    s0 += d[m] * xs[m]
                acc[t] += s0
                t += 1
        for t in range(T):
            dW[o, c, t // kw, t % kw] = acc[t]
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
