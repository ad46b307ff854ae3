"""Batch normalisation over the batch and spatial axes of ``(N, C)``, ``(N, C, L)`` and ``(N, C, H, W)``.

Per channel c, with M = N·L (or N·H·W) values x_i of that channel:

    training:  μ = (1/M) Σ x_i,  σ² = (1/M) Σ (x_i − μ)²  (biased),  x̂ = (x − μ)/√(σ² + ε)
    eval:      μ, σ² are the running statistics (constants)
    y = γ ∘ x̂ + β

γ (``weight``) and β (``bias``) may be None (no affine part).  The running
statistics are updated by ``functional.batch_norm``, not here: they are not part
of the graph.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function

__all__ = ["BatchNorm", "batch_norm_reference"]


def _channel_shape(x: np.ndarray) -> tuple:
    """(1, C, 1, ...): a per-channel vector broadcast against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """y = γ x̂ + β with x̂ = (x − μ)/σ, σ = √(σ² + ε); the statistics of the batch (``training``)
    or the given ``mean``/``var`` (eval).

    Backward, sums Σ over the M positions of a channel:

        dγ = Σ dy ∘ x̂,   dβ = Σ dy
        training:  dx = (1/M) · γ/σ · (M·dy − Σ dy − x̂ · Σ(dy ∘ x̂))   (through μ and σ² too)
        eval:      dx = γ/σ · dy
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, mean, var, eps, training):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        if training:
            mean = x.mean(axis=axes)
            var = np.square(x - mean.reshape(shape)).mean(axis=axes)
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        x_hat = (x - mean.reshape(shape).astype(x.dtype, copy=False)) * inv_std.reshape(shape)
        y = x_hat if weight is None else x_hat * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.shape, ctx.training, ctx.has_bias = axes, shape, training, bias is not None
        return y.astype(x.dtype, copy=False)

    rule = {0: "dx {0} = γ/σ ∘ (dy {g} − mean(dy) − x̂ ∘ mean(dy ∘ x̂))", 1: "dγ {1} = Σ dy {g} ∘ x̂", 2: "dβ {2} = Σ dy {g}"}

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        sum_dy = grad.sum(axis=axes)
        sum_dy_xhat = (grad * x_hat).sum(axis=axes)
        gamma = np.ones_like(inv_std) if weight is None else weight
        scale = (gamma * inv_std).reshape(shape)
        if ctx.training:
            m = grad.size // grad.shape[1]
            dx = scale / m * (m * grad - sum_dy.reshape(shape) - x_hat * sum_dy_xhat.reshape(shape))
        else:
            dx = scale * grad
        dweight = sum_dy_xhat if weight is not None and ctx.needs_input_grad[1] else None
        dbias = sum_dy if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dweight, dbias


def batch_norm_reference(x, weight=None, bias=None, running_mean=None, running_var=None,
                         training=False, eps=1e-5):
    """Naive batch norm: per channel, Python sums over every (n, spatial) position (float64)."""
    x = np.asarray(x, dtype=np.float64)
    C = x.shape[1]
    out = np.empty_like(x)
    for c in range(C):
        values = [x[(n, c) + rest] for n in range(x.shape[0]) for rest in np.ndindex(x.shape[2:])]
        if training:
            mu = sum(values) / len(values)
            var = sum((v - mu) ** 2 for v in values) / len(values)
        else:
            mu, var = float(running_mean[c]), float(running_var[c])
        g = 1.0 if weight is None else float(weight[c])
        b = 0.0 if bias is None else float(bias[c])
        for n in range(x.shape[0]):
            for rest in np.ndindex(x.shape[2:]):
                idx = (n, c) + rest
                out[idx] = g * (x[idx] - mu) / np.sqrt(var + eps) + b
    return out
