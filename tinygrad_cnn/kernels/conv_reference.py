"""Naive loops of the convolution layer: the lecture's scalar equations, slow on purpose.

The oracle of the tests and the naive column of the benchmark.  0-based indices,
stride S, dilation D (the kernel's taps D apart), groups g (output map h sees only
the input maps of its group, weight ``(O, C/g, kh, kw)``) and the connection
matrix C^m (``connection[h, l] = 1`` when input map l feeds output map h).
"""
import numpy as np

from .. import _checks as check

__all__ = ["conv2d_reference", "conv2d_backward_reference", "conv_transpose2d_reference"]


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


def _pairs(O, C, groups, connection):
    """connected[h][l]: does input map l feed output map h (its group, and the table if any)?"""
    og, cg = O // groups, C // groups
    conn = np.ones((O, C)) if connection is None else np.asarray(connection)
    return [[bool(conn[h, l]) and l // cg == h // og for l in range(C)] for h in range(O)], cg


def conv2d_reference(x, w, bias=None, stride=(1, 1), padding=(0, 0), connection=None, dilation=(1, 1),
                     groups=1):
    """Naive loops for the forward pass: the lecture's Z = W ⊛ V with a connection matrix.

    The lecture's scalar form (1-based in the lecture, 0-based here)::

        z_{i,j} = Σ_{k=1}^{r} Σ_{l=1}^{c} w_{k,l} v_{i+k-1, j+l-1}

    and, with feature maps and the connection matrix C^m::

        z^{m,h}_{i,j} = Σ_{l ∈ C^{m,h}} Σ_u Σ_v w^{m,(h,l)}_{u,v} a^{m-1,l}_{i·S+u·D, j·S+v·D}

    plus the scalar bias b^{h} of each output map.  The input is zero-padded by
    P^d = ``padding`` (symmetric, an int or a pair), the window moves by
    S^t = ``stride`` and its taps are ``dilation`` apart.  ``x`` is ``(N, C, H, W)``,
    ``(C, H, W)`` or one ``(H, W)`` map (then ``w`` may be one ``(kh, kw)`` kernel);
    ``w`` is ``(O, C/groups, kh, kw)``, ``connection`` an ``(O, C)`` 0/1 matrix or None.
    Returns float64 ``(N, O, Ho, Wo)`` (without the batch or map axes for unbatched input).
    """
    x, rank = _reference_batch(x)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 2:
        w = w[None, None]
    sh, sw = check.pair(stride, "stride")
    ph, pw = check.pair(padding, "padding", minimum=0)
    dh, dw = check.pair(dilation, "dilation")
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    connected, cg = _pairs(O, C, groups, connection)
    xp = _zero_pad(x, ph, pw)
    Ho = check.output_size(H, dh * (kh - 1) + 1, sh, 2 * ph)
    Wo = check.output_size(W, dw * (kw - 1) + 1, sw, 2 * pw)
    z = np.zeros((N, O, Ho, Wo))
    for n in range(N):
        for h in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    s = 0.0 if bias is None else float(bias[h])
                    for l in range(C):
                        if not connected[h][l]:
                            continue
                        for u in range(kh):
                            for v in range(kw):
                                s += w[h, l % cg, u, v] * xp[n, l, i * sh + u * dh, j * sw + v * dw]
                    z[n, h, i, j] = s
    return check.from_4d(z, rank)


def conv2d_backward_reference(x, w, dz, stride=(1, 1), padding=(0, 0), connection=None, dilation=(1, 1),
                              groups=1):
    """Naive loops for the three backward rules (dA, dW and db).

    The lecture's scalar forms, 0-based, with stride S and dilation D (the window
    of output (u, v) starts at (u·S_r, v·S_c), its taps D apart)::

        da^{m-1,l}_{i,j} = Σ_{h ∈ C^{m,l}} Σ_u Σ_v dz^{m,h}_{u,v} w^{m,(h,l)}_{k,q}  where i = u·S + k·D
            i.e.  dA^{m-1,l} = Σ_h rot180(W^{m,(h,l)}) ⋆ dZ^{m,h}
        dw^{m,h,l}_{u,v} = Σ_i Σ_j dz^{m,h}_{i,j} v^{m,l}_{i·S+u·D, j·S+v·D}
            i.e.  dW^{m,h,l} = dZ^{m,h} ⋆ V^{m,l}
        db^{m,h} = Σ_i Σ_j dn^{m,h}_{i,j}   (dZ = dN across the summation)

    ``da`` is computed for the zero-padded input and the padding is cropped off;
    weights of unconnected pairs get a zero gradient.  ``x`` ``(N, C, H, W)``, ``w``
    ``(O, C/groups, kh, kw)``, ``dz`` ``(N, O, Ho, Wo)``; returns float64 ``(dx, dw, db)``.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    sh, sw = check.pair(stride, "stride")
    ph, pw = check.pair(padding, "padding", minimum=0)
    dh, dw_ = check.pair(dilation, "dilation")
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    _, _, Ho, Wo = dz.shape
    connected, cg = _pairs(O, C, groups, connection)
    xp = _zero_pad(x, ph, pw)
    Hp, Wp = H + 2 * ph, W + 2 * pw

    # da_{i,j} = Σ_h Σ_u Σ_v dz_{u,v} w_{k,q} over i = u·S + k·D, j = v·S + q·D  (on the padded input)
    dxp = np.zeros((N, C, Hp, Wp))
    for n in range(N):
        for l in range(C):
            for i in range(Hp):
                for j in range(Wp):
                    s = 0.0
                    for h in range(O):
                        if not connected[h][l]:
                            continue
                        for u in range(Ho):
                            for k in range(kh):
                                if u * sh + k * dh != i:
                                    continue
                                for v in range(Wo):
                                    for q in range(kw):
                                        if v * sw + q * dw_ == j:
                                            s += dz[n, h, u, v] * w[h, l % cg, k, q]
                    dxp[n, l, i, j] = s
    dx = dxp[:, :, ph:ph + H, pw:pw + W].copy()

    # dw_{u,v} = Σ_n Σ_i Σ_j dz_{i,j} v_{i·S+u·D, j·S+v·D}
    dw = np.zeros(w.shape)
    for h in range(O):
        for l in range(C):
            if not connected[h][l]:
                continue
            for u in range(kh):
                for v in range(kw):
                    s = 0.0
                    for n in range(N):
                        for i in range(Ho):
                            for j in range(Wo):
                                s += dz[n, h, i, j] * xp[n, l, i * sh + u * dh, j * sw + v * dw_]
                    dw[h, l % cg, u, v] += s

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


def conv_transpose2d_reference(x, w, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                               groups=1, dilation=(1, 1)):
    """Naive transposed convolution, float64: every input pixel x[n, c, i, j] adds its value times
    the kernel w[c, o] to the output window it came from, y[n, o, i·S − P + k·D, j·S − P + l·D]
    (cells falling in the padding are dropped), then the bias.  ``w`` is ``(C_in, C_out/groups,
    kh, kw)``; input map c feeds the output maps of its group."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    N, C, H, W = x.shape
    _, Og, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    y = np.zeros((N, Og * groups, Ho, Wo))
    Cg = C // groups
    for n in range(N):
        for c in range(C):
            g = c // Cg
            for o in range(Og):
                for i in range(H):
                    for j in range(W):
                        for k in range(kh):
                            for l in range(kw):
                                r, q = i * sh - ph + k * dh, j * sw - pw + l * dw
                                if 0 <= r < Ho and 0 <= q < Wo:
                                    y[n, g * Og + o, r, q] += x[n, c, i, j] * w[c, o, k, l]
    if bias is not None:
        y += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return y
