"""Naive reference: the lecture's scalar equations as plain Python loops.

Nothing here is fast or clever on purpose.  Every function transcribes one
scalar equation of Lecture 8 ("Convolution Networks") with explicit loops, so
that the compiled kernels (``tinygrad_cnn.kernels``) and the autograd layer
can be tested against it, and so that a benchmark has a naive baseline.

Conventions
-----------
* Arrays are batched ``(N, C, H, W)`` (PyTorch's layout); the forward
  functions also accept a single 2-D map ``(H, W)`` (with a 2-D kernel for
  the convolution) and then return a 2-D map.
* The lecture counts from 1; the code counts from 0, so the lecture's
  ``v_{i+k-1, j+l-1}`` becomes ``v[i + k, j + l]``.  With a stride S the
  window of output (i, j) starts at (i·S_r, j·S_c).
* ``stride``, ``padding`` and ``kernel_size`` are pairs (an int is taken
  for both directions).  Output sizes use floor division, like PyTorch:
  ``Ho = (H + 2·P_r - r)//S_r + 1``.
* Results are float64 (sums are accumulated in float64); gradients keep the
  shape of what they differentiate.

The figures of the lecture (Hagan & Jafari, *Neural Network Design: Deep
Learning*, ch. 8) are here too: :func:`square`, :func:`diamond`,
:data:`FIGURE_KERNELS`, the 5×5 example of "Example convolution"
(:func:`small_diamond`, :data:`EXAMPLE_KERNEL`, :data:`EXAMPLE_Z`) and LeNet-5's
C3 connection matrix :data:`LENET_C3_TABLE`.
"""
import math

import numpy as np

__all__ = [
    "conv2d",
    "conv2d_backward",
    "rot180",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "vec",
    "unvec",
    "square",
    "diamond",
    "small_diamond",
    "FIGURE_KERNELS",
    "EXAMPLE_KERNEL",
    "EXAMPLE_Z",
    "LENET_C3_TABLE",
]


def _pair(v):
    """``3 -> (3, 3)``; a pair is returned as a tuple of two ints."""
    if np.ndim(v) == 0:
        return int(v), int(v)
    a, b = v
    return int(a), int(b)


def _as_batch(x):
    """``(H, W) -> (1, 1, H, W)`` float64; 4-D arrays pass through as float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return x[None, None], True
    if x.ndim != 4:
        raise ValueError(f"expected an (N, C, H, W) or (H, W) array, got shape {x.shape}")
    return x, False


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


def _connection(connection, O, C):
    if connection is None:
        return np.ones((O, C), dtype=np.int64)
    return np.asarray(connection)


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------

def conv2d(x, w, bias=None, stride=(1, 1), padding=(0, 0), connection=None):
    """Convolution layer forward pass, Z = W ⊛ V with a connection matrix.

    The lecture's scalar form (1-based in the lecture, 0-based here)::

        z_{i,j} = Σ_{k=1}^{r} Σ_{l=1}^{c} w_{k,l} v_{i+k-1, j+l-1}

    and, with feature maps and the connection matrix C^m::

        z^{m,h}_{i,j} = Σ_{l ∈ C^{m,h}} Σ_u Σ_v w^{m,(h,l)}_{u,v} a^{m-1,l}_{i+u-1, j+v-1}
        Z^{m,h} = Σ_{l ∈ C^{m,h}} W^{m,(h,l)} ⊛ A^{m-1,l}

    plus the scalar bias b^{h} of each output map.  The input is zero-padded
    by P^d = ``padding`` first and the window moves by S^t = ``stride``.

    Parameters
    ----------
    x : (N, C, H, W) input maps A^{m-1}, or one (H, W) map V.
    w : (O, C, kh, kw) kernels W^{(h,l)}, or one (kh, kw) kernel W.
    bias : (O,) or None.
    stride, padding : pairs (or ints).
    connection : (O, C) 0/1 matrix C^m, or None for fully connected.

    Returns
    -------
    z : (N, O, Ho, Wo) float64, or (Ho, Wo) for 2-D input.
    """
    x, single = _as_batch(x)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 2:
        w = w[None, None]
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    conn = _connection(connection, O, C)
    xp = _zero_pad(x, ph, pw)
    Ho = (H + 2 * ph - kh) // sh + 1
    Wo = (W + 2 * pw - kw) // sw + 1
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
    return z[0, 0] if single else z


def conv2d_backward(x, w, dz, stride=(1, 1), padding=(0, 0), connection=None):
    """Backward pass of :func:`conv2d`: returns ``(dx, dw, db)``.

    The lecture's scalar forms, 0-based and with stride S (the window of
    output (u, v) starts at (u·S_r, v·S_c))::

        da^{m-1,l}_{i,j} = Σ_{h ∈ C^{m,l}} Σ_u Σ_v dz^{m,h}_{u,v} w^{m,(h,l)}_{i-u+1, j-v+1}
            i.e.  dA^{m-1,l} = Σ_h rot180(W^{m,(h,l)}) ⋆ dZ^{m,h}
        dw^{m,h,l}_{u,v} = Σ_i Σ_j dz^{m,h}_{i,j} v^{m,l}_{u+i-1, v+j-1}
            i.e.  dW^{m,h,l} = dZ^{m,h} ⋆ V^{m,l}
        db^{m,h} = Σ_i Σ_j dn^{m,h}_{i,j}   (dZ = dN across the summation)

    Terms whose kernel index falls outside the kernel are zero.  ``da`` is
    computed for the zero-padded input and the padding is cropped off.
    Weights of unconnected pairs (C^m[h, l] = 0) get a zero gradient.

    Parameters
    ----------
    x : (N, C, H, W) forward input.
    w : (O, C, kh, kw) kernels.
    dz : (N, O, Ho, Wo) upstream gradient dZ.
    stride, padding : pairs (or ints).
    connection : (O, C) 0/1 matrix or None.

    Returns
    -------
    dx : (N, C, H, W), dw : (O, C, kh, kw), db : (O,), all float64.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    _, _, Ho, Wo = dz.shape
    conn = _connection(connection, O, C)
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


def rot180(x):
    """Rotate the last two axes by 180 degrees: ``rot180(A)_{i,j} = a_{R-1-i, C-1-j}``."""
    x = np.asarray(x)
    R, Cc = x.shape[-2], x.shape[-1]
    out = np.empty_like(x)
    for i in range(R):
        for j in range(Cc):
            out[..., i, j] = x[..., R - 1 - i, Cc - 1 - j]
    return out


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------

def _pool_geometry(x, kernel_size, stride):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    Ho = (H - kh) // sh + 1
    Wo = (W - kw) // sw + 1
    return kh, kw, sh, sw, Ho, Wo


def _window_argmax(x, n, c, i0, j0, kh, kw):
    """First maximum of one window in row-major order; NaN wins (PyTorch's rule:
    ``if v > best or isnan(v)``, so the last NaN of the window is chosen)."""
    best = x[n, c, i0, j0]
    bi, bj = i0, j0
    for k in range(kh):
        for l in range(kw):
            v = x[n, c, i0 + k, j0 + l]
            if v > best or math.isnan(v):
                best, bi, bj = v, i0 + k, j0 + l
    return best, bi, bj


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling, Z = max_{r,c} V::

        z_{i,j} = max { v_{r(i-1)+k, c(j-1)+l} | k = 1..r; l = 1..c }

    generalised to a stride S (window of (i, j) starts at (i·S_r, j·S_c));
    ``stride=None`` means the window size (no overlap, the lecture's case).
    A window containing NaN gives NaN.

    Returns (N, C, Ho, Wo) float64 (or (Ho, Wo) for a 2-D input).
    """
    x, single = _as_batch(x)
    kh, kw, sh, sw, Ho, Wo = _pool_geometry(x, kernel_size, stride)
    N, C = x.shape[:2]
    z = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    z[n, c, i, j] = _window_argmax(x, n, c, i * sh, j * sw, kh, kw)[0]
    return z[0, 0] if single else z


def max_pool2d_backward(x, dz, kernel_size, stride=None):
    """Backward pass of :func:`max_pool2d`.

    ``da`` is dz_{i,j} at the position of the maximum of window (i, j) and 0
    elsewhere.  On ties the FIRST maximum in row-major window order gets the
    gradient; where windows overlap, the contributions accumulate.

    Returns dx of shape (N, C, H, W), float64.
    """
    x = np.asarray(x, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    kh, kw, sh, sw, Ho, Wo = _pool_geometry(x, kernel_size, stride)
    N, C = x.shape[:2]
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    _, bi, bj = _window_argmax(x, n, c, i * sh, j * sw, kh, kw)
                    dx[n, c, bi, bj] += dz[n, c, i, j]
    return dx


def avg_pool2d(x, kernel_size, stride=None, weight=None):
    """Average pooling, Z = w ⊞^{ave}_{r,c} V.

    The lecture's form, one trainable scalar w^{h} per feature map::

        z_{i,j} = { Σ_{k=1}^{r} Σ_{l=1}^{c} v_{r(i-1)+k, c(j-1)+l} } w

    generalised to a stride S.  With ``weight=None`` it is the window mean
    (w = 1/(r·c), PyTorch's avg_pool2d); otherwise ``weight`` is the (C,)
    vector of the w^{h}.

    Returns (N, C, Ho, Wo) float64 (or (Ho, Wo) for a 2-D input).
    """
    x, single = _as_batch(x)
    kh, kw, sh, sw, Ho, Wo = _pool_geometry(x, kernel_size, stride)
    N, C = x.shape[:2]
    z = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            wc = 1.0 / (kh * kw) if weight is None else float(weight[c])
            for i in range(Ho):
                for j in range(Wo):
                    s = 0.0
                    for k in range(kh):
                        for l in range(kw):
                            s += x[n, c, i * sh + k, j * sw + l]
                    z[n, c, i, j] = s * wc
    return z[0, 0] if single else z


def avg_pool2d_backward(x, dz, kernel_size, stride=None, weight=None):
    """Backward pass of :func:`avg_pool2d`.

    The lecture's scalar forms (generalised to a stride; overlapping windows
    accumulate, cells in no window get 0)::

        da_{r(i-1)+k, c(j-1)+l} = dz_{i,j} × w        for k = 1..r, l = 1..c
            i.e.  dA = w ⊠^{ave}_{r,c} dZ
        dw = Σ_i Σ_j dz_{i,j} { Σ_k Σ_l a_{r(i-1)+k, c(j-1)+l} }
            i.e.  dw = ⊞(dZ ∘ (⊞^{ave}_{r,c} A))

    ``dw^{h}`` is summed over the batch.

    Returns dx (N, C, H, W) when ``weight`` is None (w = 1/(r·c)), else
    ``(dx, dw)`` with dw of shape (C,).  Float64.
    """
    x = np.asarray(x, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    kh, kw, sh, sw, Ho, Wo = _pool_geometry(x, kernel_size, stride)
    N, C = x.shape[:2]
    dx = np.zeros(x.shape)
    dw = np.zeros(C)
    for n in range(N):
        for c in range(C):
            wc = 1.0 / (kh * kw) if weight is None else float(weight[c])
            for i in range(Ho):
                for j in range(Wo):
                    window_sum = 0.0
                    for k in range(kh):
                        for l in range(kw):
                            dx[n, c, i * sh + k, j * sw + l] += dz[n, c, i, j] * wc
                            window_sum += x[n, c, i * sh + k, j * sw + l]
                    dw[c] += dz[n, c, i, j] * window_sum
    if weight is None:
        return dx
    return dx, dw


# --------------------------------------------------------------------------
# Matrix <-> vector conversion
# --------------------------------------------------------------------------

def vec(x):
    """The lecture's vec(A^m): stack the COLUMNS of the feature maps, first
    map to last::

        vec(A) = [ (a^{1}_1)^T (a^{1}_2)^T ... (a^{1}_{S_c})^T (a^{2}_1)^T ... (a^{H}_{S_c})^T ]^T

    Element (c, i, j) of a (C, H, W) stack lands at ``c·H·W + j·H + i``.
    ``(N, C, H, W) -> (N, C·H·W)`` (one vector per example) and
    ``(C, H, W) -> (C·H·W,)``.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        return vec(x[None])[0]
    N, C, H, W = x.shape
    out = np.empty((N, C * H * W), dtype=x.dtype)
    for n in range(N):
        pos = 0
        for c in range(C):
            for j in range(W):  # column a_j of map c
                for i in range(H):
                    out[n, pos] = x[n, c, i, j]
                    pos += 1
    return out


def unvec(v, shape):
    """Inverse of :func:`vec` (vector to matrix): ``(N, C·H·W) -> (N, C, H, W)``
    and ``(C·H·W,) -> (C, H, W)`` for ``shape = (C, H, W)``."""
    v = np.asarray(v)
    C, H, W = shape
    if v.ndim == 1:
        return unvec(v[None], shape)[0]
    N = v.shape[0]
    out = np.empty((N, C, H, W), dtype=v.dtype)
    for n in range(N):
        pos = 0
        for c in range(C):
            for j in range(W):
                for i in range(H):
                    out[n, c, i, j] = v[n, pos]
                    pos += 1
    return out


# --------------------------------------------------------------------------
# The lecture's figures (Hagan & Jafari, Neural Network Design: Deep Learning, ch. 8) and LeNet-5's connection table
# --------------------------------------------------------------------------

def square():
    """Figure "Square": 15×15, ones on the border of the 9×9 block of rows and
    columns 3..11, zeros elsewhere (1 = white)."""
    s = np.zeros((15, 15))
    s[3:12, 3:12] = 1.0
    s[4:11, 4:11] = 0.0
    return s


def diamond():
    """Figure "Diamond": 15×15, ones where |i - 7| + |j - 7| = 4."""
    d = np.zeros((15, 15))
    for i in range(15):
        for j in range(15):
            if abs(i - 7) + abs(j - 7) == 4:
                d[i, j] = 1.0
    return d


def small_diamond():
    """The 5×5 diamond of the lecture's "Example convolution"."""
    return np.array(
        [[0, 0, 1, 0, 0],
         [0, 1, 0, 1, 0],
         [1, 0, 0, 0, 1],
         [0, 1, 0, 1, 0],
         [0, 0, 1, 0, 0]], dtype=np.float64)


#: The four 3×3 kernels of the figures (names as the book draws them).
FIGURE_KERNELS = {
    "horizontal": np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=np.float64),
    "vertical": np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float64),
    "slash": np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64),
    "backslash": np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float64),
}

#: The 2×2 anti-diagonal kernel of the lecture's "Example convolution".
EXAMPLE_KERNEL = np.array([[0, 1], [1, 0]], dtype=np.float64)

#: Its output Z = EXAMPLE_KERNEL ⊛ small_diamond() as printed in the lecture.
EXAMPLE_Z = np.array(
    [[0, 2, 0, 1],
     [2, 0, 1, 0],
     [0, 1, 0, 2],
     [1, 0, 2, 0]], dtype=np.float64)

#: LeNet-5's C3 connection matrix (LeCun et al. 1998, Table I): rows are the
#: 16 C3 maps, columns the 6 S2 maps, 1 = connected (60 connections).
LENET_C3_TABLE = np.array(
    [[1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1],
     [1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 1],
     [1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1], [1, 0, 0, 1, 1, 1],
     [1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 1],
     [1, 1, 0, 1, 1, 0], [0, 1, 1, 0, 1, 1], [1, 0, 1, 1, 0, 1],
     [1, 1, 1, 1, 1, 1]], dtype=np.uint8)
LENET_C3_TABLE.flags.writeable = False  # shared by models and benchmarks: nobody edits it by accident
