"""The convolution weight function Z = W ⊛ V + b, its transpose, and rot180, with the lecture's
backward rules.

Arrays reaching these Functions are already validated and 4-D ``(N, C, H, W)``
(see ``tinygrad_cnn.functional``).  Every sum runs in one compiled correlation
engine, ``kernels.correlate`` (it picks its loops — direct taps, the examples
innermost, or im2col + BLAS — by cost);
the array helpers ``pad``, ``dilate``, ``rot180`` are plain numpy
(``kernels/conv.py``).
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..kernels.conv import dilate, full_padding, rot180, transpose_maps
from ..tensor import Function


class Conv2d(Function):
    """Z = W ⊛ V + b:  z^{h}_{i,j} = b^{h} + Σ_{l∈C^{h}} Σ_k Σ_l w^{(h,l)}_{k,l} v^{l}_{i·S+k·D, j·S+l·D}.

    V is the input A^{m−1} zero-padded by P^d, S the stride, D the dilation (taps
    D apart), C^{h} the input maps connected to output map h (the connection
    matrix, which already holds the groups' block-diagonal pattern).

    Backward, from the lecture (dZ arrives as ``grad``; dZ = dN because the net
    input is a plain sum):

    * db = Σ dZ:                 db^{h} = Σ_{i,j} dz^{h}_{i,j}
    * dW = dZ ⋆ V:               dW^{(h,l)} = dZ^{h} ⋆ V^{l}  (zero for unconnected pairs)
    * dA = Σ rot180(W) ⋆ dZ:     dA^{l} = Σ_{h∈C_b^{l}} rot180(W^{(h,l)}) ⋆ dZ^{h}, the FULL
      correlation of dZ (dilated by S−1 zeros for a stride S, zero-padded by the
      kernel's extent) with rot180(W), maps transposed (h, l) → (l, h) and the
      connection matrix with them.  With dilation D the kernel's taps are D apart,
      i.e. it is rot180 of the dilated kernel.  The cells of the forward's padding
      are left out; the engine pads dZ (``padding=``), so that it may skip the zeros.

    dA comes before dW only so that a copy of dZ the engine makes for the full
    correlation can serve the weight gradient too (``copies``; the sums are the same
    in either order).
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, A, W, b=None, *, stride, padding, conn, dilation=(1, 1), groups=1):
        given = W
        W = ungroup(W, groups)                   # (O, C/g, kh, kw) -> (O, C, kh, kw), 0 off the groups
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups, ctx.conn = stride, padding, dilation, groups, conn
        copies = K.LayoutCopies()  # the engine's rearranged copies of V (and dZ), made once for all three sums
        # with groups, the given weight too: changing it in place before backward is then noticed
        ctx.save_for_backward(A, W, copies, *(() if groups == 1 else (given,)))
        return K.correlate(A, W, stride, dilation, conn, b, padding=padding, copies=copies)  # Z = W ⊛ V + b

    rule = {
        2: "db {2} = Σ dN {g}",
        1: "dW {1} = dZ {g} ⋆ V {0}",
        0: "dA {0} = Σ rot180(W {1}) ⋆ dZ {g}",
    }

    @staticmethod
    def backward(ctx, dZ):
        A, W, copies = ctx.saved_tensors[:3]
        S, D, P, conn = ctx.stride, ctx.dilation, ctx.padding, ctx.conn
        need_dA, need_dW = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_db = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        dZ = np.ascontiguousarray(dZ, dtype=W.dtype)
        dA = dW = db = None
        if need_db:
            db = dZ.sum(axis=0).reshape(dZ.shape[1], -1).sum(axis=1)             # db = Σ dZ
        if need_dA:                                                              # dA = Σ rot180(W) ⋆ dZ
            dZ_dilated = dilate(dZ, S)
            V_shape = (A.shape[2] + P[0] + P[1], A.shape[3] + P[2] + P[3])
            full = full_padding(W.shape[2:], D, dZ_dilated.shape, V_shape, crop=P)
            dA = K.correlate(dZ_dilated, transpose_maps(rot180(W)), (1, 1), D, conn.T, padding=full, copies=copies)
        if need_dW:                                                              # dW = dZ ⋆ V
            dW = regroup(K.weight_gradient(dZ, A, W.shape[2:], S, D, conn, padding=P, copies=copies), ctx.groups)
        return dA, dW, db


class ConvTranspose2d(Function):
    """Y = Wᵀ ⊛ X + b, the transposed convolution: the adjoint of the convolution Z = W ⊛ V that
    maps a V of Y's size to a Z of X's, i.e. the lecture's dA rule applied to X in place of dZ:

        Y^{o} = b^{o} + Σ_{c} rot180(W^{(c,o)}) ⋆ X^{c}, the FULL correlation of X dilated
        by S−1 zeros (each input pixel scatters a copy of its kernel, S apart), with the
        convolution's padding P^d cropped off.

    ``W`` is ``(C_in, C_out/groups, kh, kw)`` (PyTorch's layout): the convolution's
    ``(O, C, kh, kw)`` with O = C_in, C = C_out.  Backward, the convolution's own rules with
    the roles of the arrays exchanged:

    * db = Σ dY
    * dX = W ⊛ dY:   the convolution's forward (the adjoint of the adjoint)
    * dW = X ⋆ dY:   the convolution's dW = dZ ⋆ V with dZ = X and V = dY
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, X, W, b=None, *, stride, padding, dilation, groups, out_hw):
        given = W
        W = ungroup(W, groups)                   # (C_in, C_out, kh, kw), 0 off the groups
        conn = group_connection(groups, *W.shape[:2])
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups, ctx.conn = stride, padding, dilation, groups, conn
        ctx.save_for_backward(X, W, *(() if groups == 1 else (given,)))
        P = padding
        X_dilated = dilate(np.ascontiguousarray(X), stride)
        Y_shape = (out_hw[0] + P[0] + P[1], out_hw[1] + P[2] + P[3])
        full = full_padding(W.shape[2:], dilation, X_dilated.shape, Y_shape, crop=P)
        return K.correlate(X_dilated, transpose_maps(rot180(W)), (1, 1), dilation, conn.T, b, padding=full)

    rule = {
        2: "db {2} = Σ dY {g}",
        1: "dW {1} = X {0} ⋆ dY {g}",
        0: "dX {0} = W {1} ⊛ dY {g}",
    }

    @staticmethod
    def backward(ctx, dY):
        X, W = ctx.saved_tensors[:2]
        S, D, P, conn = ctx.stride, ctx.dilation, ctx.padding, ctx.conn
        dY = np.ascontiguousarray(dY, dtype=W.dtype)
        need_dX, need_dW = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_db = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        dX = dW = db = None
        # an output_padding of S or more (allowed below the dilation) gives Y rows the
        # convolution of Y would map beyond X: X counts as zero there
        H, Wd = X.shape[2:]
        X_full = np.pad(X, ((0, 0), (0, 0), (0, _convolved(dY.shape[2], W.shape[2], S[0], P[0] + P[1], D[0]) - H),
                            (0, _convolved(dY.shape[3], W.shape[3], S[1], P[2] + P[3], D[1]) - Wd)))
        if need_db:
            db = dY.sum(axis=0).reshape(dY.shape[1], -1).sum(axis=1)             # db = Σ dY
        if need_dX:                                                              # dX = W ⊛ dY
            dX = np.ascontiguousarray(K.correlate(dY, W, S, D, conn, padding=P)[:, :, :H, :Wd])
        if need_dW:                                                              # dW = X ⋆ dY
            dW = regroup(K.weight_gradient(np.ascontiguousarray(X_full), dY, W.shape[2:], S, D, conn, padding=P),
                         ctx.groups)
        return dX, dW, db


def _convolved(size, kernel, stride, pad_total, dilation):
    """The convolution's output size along one axis (the windows in the padded input)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def ungroup(W, groups):
    """The grouped weight ``(O, C/g, kh, kw)`` as the dense ``(O, C, kh, kw)`` it stands for.

    Output map h of group g = h // (O/g) sees only input maps g·C/g … (g+1)·C/g − 1;
    the other kernels are 0 and unconnected (the connection matrix skips them).
    """
    if groups == 1:
        return np.ascontiguousarray(W)
    O, Cg, kh, kw = W.shape
    Og = O // groups
    dense = np.zeros((O, Cg * groups, kh, kw), dtype=W.dtype)
    for g in range(groups):
        dense[g * Og:(g + 1) * Og, g * Cg:(g + 1) * Cg] = W[g * Og:(g + 1) * Og]
    return dense


def regroup(dW, groups):
    """The gradient of the dense weight back in the grouped shape ``(O, C/g, kh, kw)``."""
    if groups == 1:
        return dW
    O, C = dW.shape[:2]
    Og, Cg = O // groups, C // groups
    return np.concatenate([dW[g * Og:(g + 1) * Og, g * Cg:(g + 1) * Cg] for g in range(groups)])


def group_connection(groups, out_channels, in_channels):
    """The block-diagonal ``(O, C)`` connection matrix of ``groups`` groups (uint8)."""
    og, cg = out_channels // groups, in_channels // groups
    return np.kron(np.eye(groups, dtype=np.uint8), np.ones((og, cg), np.uint8))


class Rot180(Function):
    """Rotate the last two axes by 180°; its own inverse, so backward is rot180(dZ)."""

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(rot180(x))  # a tensor of its own, not a view of x

    rule = "dA {x} = rot180(dZ {g})"

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(rot180(grad))


def rot180_reference(x):
    """Naive loops for :class:`Rot180`: ``rot180(A)_{i,j} = a_{R-1-i, C-1-j}`` on the last two axes."""
    x = np.asarray(x)
    R, Cc = x.shape[-2], x.shape[-1]
    out = np.empty_like(x)
    for i in range(R):
        for j in range(Cc):
            out[..., i, j] = x[..., R - 1 - i, Cc - 1 - j]
    return out
