"""Compiled (Numba) kernels for the lecture's convolution layer.

Plain array-in / array-out functions; no graph or autograd logic lives here.
The autograd ``Function`` layer validates its arguments, pads the input, and
calls these kernels with C-contiguous 4-D arrays.

Notation (Lecture 8, 0-based indices, stride ``S`` = ``(sh, sw)``):

* forward, the weight function with a connection matrix C^m::

      Z^{h} = Σ_{l ∈ C^{h}} W^{(h,l)} ⊛ A^{l}
      z_{i,j} = Σ_k Σ_l w_{k,l} v_{i·S+k, j·S+l}

* input gradient (full correlation with the 180°-rotated kernel; with a
  stride, dZ is dilated by S-1 zeros between its elements)::

      dA^{l} = Σ_{h : l ∈ C^{h}} rot180(W^{(h,l)}) ⋆ dZ^{h}

* weight gradient::

      dW^{(h,l)} = dZ^{h} ⋆ V^{l}
      dw_{u,v} = Σ_i Σ_j dz_{i,j} v_{u+i·S, v+j·S}

The bias gradient db^{h} = Σ_i Σ_j dn_{i,j} is a plain numpy sum done by the
caller.

How the loops are laid out (the "wide row" trick): a feature map of width Wp
is treated as one flat vector.  With stride 1, output cell (i, j) sits at
i·Wp + j of a "wide" output whose rows have the input's pitch Wp, and kernel
tap (k, l) reads the input at that position plus the constant offset
k·Wp + l.  One tap is then a single long, contiguous, vectorisable loop
``out[m] += w · in[m + offset]`` over the whole map instead of Ho short rows
(the Wp - Wo extra columns per row are discarded).  Taps are applied four at
a time to cut loads and stores of the output.  The backward pass for the
input is the same tap loop run on a zero-padded, dilated dZ with the kernel
rotated by 180 degrees, which is exactly the lecture's rot180(W) ⋆ dZ.

Array requirements (not checked here; the caller guarantees them):

* ``xp``, ``w``, ``bias``, ``dz`` share one float dtype (float32 or float64);
  the output has that dtype.  Mixing dtypes compiles another specialisation
  and accumulates in the output's dtype.
* ``conn`` is an ``(O, C)`` array of 0/1 (all ones for a dense layer),
  ideally ``uint8``; any other dtype, layout or a read-only table is copied
  to a writeable C-contiguous ``uint8`` array first (no recompile).
* Arrays should be C-contiguous: other layouts give the same result but
  compile another specialisation (and ``xp`` is then copied).
* The kernel fits the padded input (``kh <= Hp``, ``kw <= Wp``), the strides
  are >= 1, and ``dz`` has the forward output's shape.  For such input no
  kernel reads or writes out of bounds.

Each public function is a thin Python wrapper around a compiled
``parallel=True`` body (``_conv2d_forward`` ...); the wrapper runs the body
on one thread when the work is small (``_parallel.run_kernel``).

Beside each kernel sits its naive reference, the lecture's scalar equations as
plain Python loops (:func:`conv2d_reference`, :func:`conv2d_backward_reference`):
slow on purpose, the oracle of the tests and the naive column of the benchmark.
"""
import numpy as np
from numba import njit, prange

from .. import _checks as check
from ._parallel import conn_array, run_kernel

__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight"]

@njit(cache=True)
def _accumulate_taps(out, L, src, base, offs, ws, nt, step):
    """``out[m] += Σ_t ws[t] · src[base + offs[t] + m·step]`` for m < L.

    The shared inner loop of the convolution kernels: ``nt`` kernel taps,
    each a weight and an offset into the flat source map.  Taps are summed
    four at a time (in tap order) to save loads and stores of ``out``.
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
                out[m] += w0 * s0[m] + w1 * s1[m] + w2 * s2[m] + w3 * s3[m]
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


def conv2d_forward(xp, w, bias, sh, sw, conn):
    """Forward convolution  Z^{h} = b^{h} + Σ_{l ∈ C^{h}} W^{(h,l)} ⊛ A^{l}.

    The lecture's scalar form, 0-based and with stride (sh, sw)::

        z[n,o,i,j] = bias[o] + Σ_{c : conn[o,c]=1} Σ_k Σ_l
                         w[o,c,k,l] · xp[n,c, i·sh+k, j·sw+l]

    (cross-correlation, no kernel flip, as in PyTorch).  Unconnected
    (o, c) pairs are skipped, not multiplied by zero.  One parallel
    iteration per output map (n, o), so writes never race.

    Parameters
    ----------
    xp : (N, C, Hp, Wp) float array, the input already zero-padded by P^d.
    w : (O, C, kh, kw) kernels W^{(h,l)}.
    bias : (O,) one scalar b^{h} per output feature map (zeros for no bias).
    sh, sw : int strides S^t (>= 1).
    conn : (O, C) uint8 connection matrix C^m (1 = connected).

    Returns
    -------
    z : (N, O, Ho, Wo) with Ho = (Hp - kh)//sh + 1, Wo = (Wp - kw)//sw + 1.
    """
    N, C, Hp, Wp = xp.shape
    O, _, kh, kw = w.shape
    work = N * O * C * kh * kw * check.output_size(Hp, kh, sh) * Wp
    return run_kernel(_conv2d_forward, work, xp, w, bias, sh, sw, conn_array(conn))


@njit(cache=True)
def _forward_taps(w, conn, Wp, plane):
    """Per output map o, its taps (offset into the flat padded input, weight) over connected maps only."""
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
                    offs[o, nt] = c * plane + k * Wp + l
                    ws[o, nt] = w[o, c, k, l]
                    nt += 1
        nts[o] = nt
    return offs, ws, nts


@njit(parallel=True, cache=True)
def _conv2d_forward(xp, w, bias, sh, sw, conn):
    """Compiled body of :func:`conv2d_forward`."""
    N, C, Hp, Wp = xp.shape
    O = w.shape[0]
    kh = w.shape[2]
    kw = w.shape[3]
    Ho = (Hp - kh) // sh + 1
    Wo = (Wp - kw) // sw + 1
    plane = Hp * Wp
    xf = np.ascontiguousarray(xp).reshape(N, C * plane)  # no copy when C-contiguous
    z = np.empty((N, O, Ho, Wo), dtype=xp.dtype)
    offs, ws, nts = _forward_taps(w, conn, Wp, plane)
    # wide output: row pitch Wp, last row only Wo long
    L = (Ho - 1) * Wp + Wo
    # One iteration per example: disjoint writes, no races; buffers allocated once per example.
    for n in prange(N):
        buf = np.empty(L, dtype=xp.dtype)
        for o in range(O):
            b = bias[o]
            if sh == 1 and sw == 1:
                buf[:] = b
                _accumulate_taps(buf, L, xf[n], 0, offs[o], ws[o], nts[o], 1)
                for i in range(Ho):
                    z[n, o, i, :] = buf[i * Wp:i * Wp + Wo]
            else:
                for i in range(Ho):
                    zrow = z[n, o, i]
                    zrow[:] = b
                    _accumulate_taps(zrow, Wo, xf[n], i * sh * Wp, offs[o], ws[o], nts[o], sw)
    return z


# --------------------------------------------------------------- naive reference of the forward pass
def _reference_batch(x):
    """``x`` as a float64 ``(N, C, H, W)`` array and its original rank (2, 3 or 4)."""
    return check.as_4d(np.asarray(x, dtype=np.float64), "x", "reference")


def _zero_pad(x, ph, pw):
    """Surround every map with P^d rows/columns of zeros (the lecture's padding)."""
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    xp[n, c, i + ph, j + pw] = x[n, c, i, j]
    return xp


def conv2d_reference(x, w, bias=None, stride=(1, 1), padding=(0, 0), connection=None):
    """Naive loops for :func:`conv2d_forward`: the lecture's Z = W ⊛ V with a connection matrix.

    The lecture's scalar form (1-based in the lecture, 0-based here)::

        z_{i,j} = Σ_{k=1}^{r} Σ_{l=1}^{c} w_{k,l} v_{i+k-1, j+l-1}

    and, with feature maps and the connection matrix C^m::

        z^{m,h}_{i,j} = Σ_{l ∈ C^{m,h}} Σ_u Σ_v w^{m,(h,l)}_{u,v} a^{m-1,l}_{i+u-1, j+v-1}

    plus the scalar bias b^{h} of each output map.  The input is zero-padded by
    P^d = ``padding`` (symmetric, an int or a pair) and the window moves by
    S^t = ``stride``.  ``x`` is ``(N, C, H, W)``, ``(C, H, W)`` or one ``(H, W)`` map
    (then ``w`` may be one ``(kh, kw)`` kernel); ``w`` is ``(O, C, kh, kw)``,
    ``connection`` an ``(O, C)`` 0/1 matrix or None.  Returns float64 ``(N, O, Ho, Wo)``
    (without the batch or map axes for unbatched input).
    """
    x, rank = _reference_batch(x)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 2:
        w = w[None, None]
    sh, sw = check.pair(stride, "stride")
    ph, pw = check.pair(padding, "padding", minimum=0)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    conn = np.ones((O, C)) if connection is None else np.asarray(connection)
    xp = _zero_pad(x, ph, pw)
    Ho = check.output_size(H, kh, sh, 2 * ph)
    Wo = check.output_size(W, kw, sw, 2 * pw)
    z = np.zeros((N, O, Ho, Wo))
    for n in range(N):
        for h in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    s = 0.0 if bias is None else float(bias[h])
                    for l in range(C):
                        if not conn[h, l]:
                            continue
                        for u in range(kh):
                            for v in range(kw):
                                s += w[h, l, u, v] * xp[n, l, i * sh + u, j * sw + v]
                    z[n, h, i, j] = s
    return check.from_4d(z, rank)



def conv2d_backward_input(dz, w, sh, sw, conn, Hp, Wp):
    """Input gradient  dA^{l} = Σ_{h : conn[h,l]=1} rot180(W^{(h,l)}) ⋆ dZ^{h}.

    A full correlation of dZ with the 180°-rotated kernel.  The lecture's
    scalar form, 0-based and with stride::

        da[n,c,p,q] = Σ_{o : conn[o,c]=1} Σ_{i,j} dz[n,o,i,j] ·
                          w[o,c, p - i·sh, q - j·sw]

    over the (i, j) for which the kernel index lies inside the kernel.
    dZ is first dilated (S-1 zeros between elements) and zero-padded (kh
    rows above, zero columns at the right of each row), so that every cell
    of dA is one gather ``Σ_taps w · dZpad[cell - tap offset]``: each (n, c)
    plane of the result is owned by one parallel iteration, no write races.
    Rows and columns of the padded input that no window touches get 0.

    Parameters
    ----------
    dz : (N, O, Ho, Wo) upstream gradient dZ.
    w : (O, C, kh, kw) kernels.
    sh, sw : int strides.
    conn : (O, C) uint8 connection matrix.
    Hp, Wp : int, spatial size of the padded input.

    Returns
    -------
    dxp : (N, C, Hp, Wp) gradient with respect to the padded input (the
        caller crops the padding off).
    """
    N, O = dz.shape[0], dz.shape[1]
    _, C, kh, kw = w.shape
    work = N * C * O * kh * kw * Hp * Wp
    return run_kernel(_conv2d_backward_input, work, dz, w, sh, sw, conn_array(conn), Hp, Wp)


@njit(parallel=True, cache=True)
def _conv2d_backward_input(dz, w, sh, sw, conn, Hp, Wp):
    """Compiled body of :func:`conv2d_backward_input`."""
    N, O, Ho, Wo = dz.shape
    C = w.shape[1]
    kh = w.shape[2]
    kw = w.shape[3]
    plane = Hp * Wp
    # dZ dilated by the stride, with kh zero rows above it, in maps of pitch Wp
    pplane = (Hp + kh) * Wp
    dzp = np.zeros((N, O * pplane), dtype=dz.dtype)
    for t in prange(N * O):
        n = t // O
        o = t % O
        for i in range(Ho):
            row = o * pplane + (kh + i * sh) * Wp
            for j in range(Wo):
                dzp[n, row + j * sw] = dz[n, o, i, j]
    # taps of rot180(W) per input map c: dA[p, q] gathers dZpad[kh + p - k, q - l]
    offs = np.empty((C, O * kh * kw), dtype=np.int64)
    ws = np.empty((C, O * kh * kw), dtype=dz.dtype)
    nts = np.zeros(C, dtype=np.int64)
    for c in range(C):
        nt = 0
        for o in range(O):
            if conn[o, c] == 0:
                continue
            for k in range(kh):
                for l in range(kw):
                    offs[c, nt] = o * pplane + (kh - k) * Wp - l
                    ws[c, nt] = w[o, c, k, l]
                    nt += 1
        nts[c] = nt
    dxp = np.zeros((N, C, Hp, Wp), dtype=dz.dtype)
    dxf = dxp.reshape(N, C * plane)
    for t in prange(N * C):
        n = t // C
        c = t % C
        out = dxf[n, c * plane:(c + 1) * plane]
        _accumulate_taps(out, plane, dzp[n], 0, offs[c], ws[c], nts[c], 1)
    return dxp


def conv2d_backward_weight(dz, xp, kh, kw, sh, sw, conn):
    """Weight gradient  dW^{(h,l)} = dZ^{h} ⋆ V^{l}  (summed over the batch).

    The lecture's scalar form, 0-based and with stride::

        dw[o,c,u,v] = Σ_n Σ_i Σ_j dz[n,o,i,j] · xp[n,c, u + i·sh, v + j·sw]

    One parallel iteration per (o, c) kernel; unconnected kernels
    (conn[o,c] = 0) are skipped and their gradient is exactly 0.  The sums
    are kept elementwise in a buffer (one row per tap, vectorisable without
    reassociating floating-point additions) and reduced at the end.

    Parameters
    ----------
    dz : (N, O, Ho, Wo) upstream gradient dZ.
    xp : (N, C, Hp, Wp) the zero-padded forward input V.
    kh, kw : int kernel size.
    sh, sw : int strides.
    conn : (O, C) uint8 connection matrix.

    Returns
    -------
    dw : (O, C, kh, kw) with the dtype of ``xp``.
    """
    N, O, Ho, _ = dz.shape
    C, Wp = xp.shape[1], xp.shape[3]
    work = N * O * C * kh * kw * Ho * Wp
    return run_kernel(_conv2d_backward_weight, work, dz, xp, kh, kw, sh, sw,
                      conn_array(conn))


@njit(parallel=True, cache=True)
def _conv2d_backward_weight(dz, xp, kh, kw, sh, sw, conn):
    """Compiled body of :func:`conv2d_backward_weight`."""
    N, O, Ho, Wo = dz.shape
    C, Hp, Wp = xp.shape[1], xp.shape[2], xp.shape[3]
    plane = Hp * Wp
    xf = np.ascontiguousarray(xp).reshape(N, C * plane)  # no copy when C-contiguous
    dw = np.zeros((O, C, kh, kw), dtype=xp.dtype)
    if sh == 1 and sw == 1:
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
        acc = np.zeros((kh * kw, L), dtype=xp.dtype)
        for n in range(N):
            xc = xf[n, c * plane:(c + 1) * plane]
            if sh == 1 and sw == 1:
                d = dzw[n, o]
                for k in range(kh):
                    for l in range(kw):
                        a = acc[k * kw + l]
                        off = k * Wp + l
                        xs = xc[off:off + L]
                        for m in range(L):
                            a[m] += d[m] * xs[m]
            else:
                for i in range(Ho):
                    d = dz[n, o, i]
                    for k in range(kh):
                        row = (i * sh + k) * Wp
                        for l in range(kw):
                            a = acc[k * kw + l]
                            for m in range(L):
                                a[m] += d[m] * xc[row + l + m * sw]
        for k in range(kh):
            for l in range(kw):
                a = acc[k * kw + l]
                s = a[0]
                for m in range(1, L):
                    s += a[m]
                dw[o, c, k, l] = s
    return dw


# --------------------------------------------------------------- naive reference of the backward pass
def conv2d_backward_reference(x, w, dz, stride=(1, 1), padding=(0, 0), connection=None):
    """Naive loops for :func:`conv2d_backward_input`, :func:`conv2d_backward_weight` and db.

    The lecture's scalar forms, 0-based and with stride S (the window of output
    (u, v) starts at (u·S_r, v·S_c))::

        da^{m-1,l}_{i,j} = Σ_{h ∈ C^{m,l}} Σ_u Σ_v dz^{m,h}_{u,v} w^{m,(h,l)}_{i-u+1, j-v+1}
            i.e.  dA^{m-1,l} = Σ_h rot180(W^{m,(h,l)}) ⋆ dZ^{m,h}
        dw^{m,h,l}_{u,v} = Σ_i Σ_j dz^{m,h}_{i,j} v^{m,l}_{u+i-1, v+j-1}
            i.e.  dW^{m,h,l} = dZ^{m,h} ⋆ V^{m,l}
        db^{m,h} = Σ_i Σ_j dn^{m,h}_{i,j}   (dZ = dN across the summation)

    Terms whose kernel index falls outside the kernel are zero.  ``da`` is computed
    for the zero-padded input and the padding is cropped off; weights of unconnected
    pairs (C^m[h, l] = 0) get a zero gradient.  ``x`` ``(N, C, H, W)``, ``w``
    ``(O, C, kh, kw)``, ``dz`` ``(N, O, Ho, Wo)``; returns float64 ``(dx, dw, db)``.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    sh, sw = check.pair(stride, "stride")
    ph, pw = check.pair(padding, "padding", minimum=0)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    _, _, Ho, Wo = dz.shape
    conn = np.ones((O, C)) if connection is None else np.asarray(connection)
    xp = _zero_pad(x, ph, pw)
    Hp, Wp = H + 2 * ph, W + 2 * pw

    # da_{i,j} = Σ_h Σ_u Σ_v dz_{u,v} w_{i-u·S, j-v·S}  (on the padded input)
    dxp = np.zeros((N, C, Hp, Wp))
    for n in range(N):
        for l in range(C):
            for i in range(Hp):
                for j in range(Wp):
                    s = 0.0
                    for h in range(O):
                        if not conn[h, l]:
                            continue
                        for u in range(Ho):
                            k = i - u * sh
                            if k < 0 or k >= kh:
                                continue
                            for v in range(Wo):
                                q = j - v * sw
                                if q < 0 or q >= kw:
                                    continue
                                s += dz[n, h, u, v] * w[h, l, k, q]
                    dxp[n, l, i, j] = s
    dx = dxp[:, :, ph:ph + H, pw:pw + W].copy()

    # dw_{u,v} = Σ_n Σ_i Σ_j dz_{i,j} v_{u+i·S, v+j·S}
    dw = np.zeros((O, C, kh, kw))
    for h in range(O):
        for l in range(C):
            if not conn[h, l]:
                continue
            for u in range(kh):
                for v in range(kw):
                    s = 0.0
                    for n in range(N):
                        for i in range(Ho):
                            for j in range(Wo):
                                s += dz[n, h, i, j] * xp[n, l, u + i * sh, v + j * sw]
                    dw[h, l, u, v] = s

    # db = Σ_i Σ_j dn_{i,j}  (summed over the batch as well)
    db = np.zeros(O)
    for h in range(O):
        s = 0.0
        for n in range(N):
            for i in range(Ho):
                for j in range(Wo):
                    s += dz[n, h, i, j]
        db[h] = s
    return dx, dw, db
