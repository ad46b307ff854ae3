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


@njit(parallel=True, cache=True)
def _weight_gradient_taps(dz, v, kh, kw, sh, sw, dh, dw, conn):
    """Compiled body of the ``"taps"`` path: one parallel iteration per connected (o, c) kernel."""
    N, O, Ho, Wo = dz.shape
    C, Hp, Wp = v.shape[1], v.shape[2], v.shape[3]
    plane = Hp * Wp
    vf = v.reshape(N, C * plane)
    dW = np.zeros((O, C, kh, kw), dtype=v.dtype)
    unit = sh == 1 and sw == 1
    if unit:
        # dZ in wide rows of pitch Wp (zero columns beyond Wo)
        L = (Ho - 1) * Wp + Wo
        dzw = np.zeros((N, O, L), dtype=dz.dtype)
        for t in prange(N * O):
            n = t // O
            o = t % O
            for i in range(Ho):
                for j in range(Wo):
                    dzw[n, o, i * Wp + j] = dz[n, o, i, j]
    else:
        L = Wo
        dzw = np.zeros((1, 1, 1), dtype=dz.dtype)  # unused
    for t in prange(O * C):
        o = t // C
        c = t % C
        if conn[o, c] == 0:
            continue
        # one running sum per tap and position: vectorisable without reassociating the additions
        acc = np.zeros((kh * kw, L), dtype=v.dtype)
        for n in range(N):
            xc = vf[n, c * plane:(c + 1) * plane]
            if unit:
                d = dzw[n, o]
                for k in range(kh):
                    for l in range(kw):
                        a = acc[k * kw + l]
                        off = k * dh * Wp + l * dw
                        xs = xc[off:off + L]
                        for m in range(L):
                            a[m] += d[m] * xs[m]
            else:
                for i in range(Ho):
                    d = dz[n, o, i]
                    for k in range(kh):
                        row = (i * sh + k * dh) * Wp
                        for l in range(kw):
                            a = acc[k * kw + l]
                            base = row + l * dw
                            for m in range(L):
                                a[m] += d[m] * xc[base + m * sw]
        for k in range(kh):
            for l in range(kw):
                a = acc[k * kw + l]
                s = a[0]
                for m in range(1, L):
                    s += a[m]
                dW[o, c, k, l] = s
    return dW
