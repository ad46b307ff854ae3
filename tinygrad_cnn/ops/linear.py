"""The fully connected layer's affine map, batched: y = x Wᵀ + b."""

from __future__ import annotations

import numpy as np

from ..runtime import single_threaded_blas
from ..tensor import Function

__all__ = ["Linear", "linear_reference", "Embedding", "embedding_reference"]


class Linear(Function):
    """y = x Wᵀ + b for x ``(*, in)``, W ``(out, in)``, b ``(out,)`` or None (the lecture's n = W p + b, per row).

    Backward, the lecture's rules for a batch of rows p (dn arrives as ``grad``):
    db = Σ_rows dn,  dW = Σ_rows dn pᵀ = dnᵀ·P,  dp = Wᵀ dn = dn·W  (rows: every leading index of x).
    BLAS runs on one thread here (``runtime.single_threaded_blas``): the products are
    small, and BLAS's own threads would compete with the kernels' threads.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        with single_threaded_blas():  # small products: BLAS's own threads would fight the kernels'
            y = np.matmul(x, weight.T)
        return y + bias if bias is not None else y

    rule = {2: "db {2} = Σ dn {g}", 1: "dW {1} = dnᵀ {g} · p {0}", 0: "dp {0} = dn {g} · W {1}"}

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        rows_dy = grad.reshape(-1, weight.shape[0])
        with single_threaded_blas():
            dx = np.matmul(grad, weight) if ctx.needs_input_grad[0] else None
            dw = rows_dy.T @ x.reshape(-1, weight.shape[1]) if ctx.needs_input_grad[1] else None
        db = rows_dy.sum(axis=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db


def linear_reference(x, weight, bias=None):
    """Naive y[..., o] = Σ_i x[..., i] W[o, i] + b[o], one output element at a time."""
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    out = np.zeros(x.shape[:-1] + (weight.shape[0],))
    for idx in np.ndindex(x.shape[:-1]):
        for o in range(weight.shape[0]):
            out[idx + (o,)] = sum(x[idx + (i,)] * weight[o, i] for i in range(weight.shape[1]))
            if bias is not None:
                out[idx + (o,)] += bias[o]
    return out


class Embedding(Function):
    """y = W[i]: the rows of W at the integer ``indices`` (a lookup, the product of one-hot rows
    with W).  dW = Σ over the lookups of row r of their dY (scattered back and added), times
    1/count(r) with ``scale_grad_by_freq``; the ``padding_idx`` row gets 0."""

    fresh_grads = True

    @staticmethod
    def forward(ctx, weight, *, indices, padding_idx, scale_grad_by_freq):
        ctx.indices, ctx.padding_idx, ctx.scale = indices, padding_idx, scale_grad_by_freq
        ctx.rows = weight.shape
        return weight[indices]

    rule = "dW {0} = dY {g} rows added into the rows looked up"

    @staticmethod
    def backward(ctx, grad):
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(flat.size, ctx.rows[1])
        if ctx.scale:
            counts = np.bincount(flat, minlength=ctx.rows[0])
            rows = rows / counts[flat].astype(grad.dtype)[:, None]
        dw = np.zeros(ctx.rows, dtype=grad.dtype)
        np.add.at(dw, flat, rows)
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return dw


def embedding_reference(indices, weight):
    """Naive lookup: out[..., d] = W[indices[...], d], one element at a time (float64)."""
    indices, weight = np.asarray(indices), np.asarray(weight, dtype=np.float64)
    out = np.empty(indices.shape + (weight.shape[1],))
    for idx in np.ndindex(indices.shape):
        for d in range(weight.shape[1]):
            out[idx + (d,)] = weight[int(indices[idx]), d]
    return out
