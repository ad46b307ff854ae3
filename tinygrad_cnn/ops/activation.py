"""Transfer functions a = f(n) and their backward rule dN = Ḟ ∘ dA.

Ḟ is the diagonal of f's derivative evaluated at the net input N; the
backward pass is its Hadamard product ∘ with the incoming gradient dA.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = eⁿ"

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1/n"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class ReLU(Function):
    """poslin: a = max(0, n); Ḟ = 0 where n ≤ 0, else 1 (PyTorch's choices: 0 at n = 0, 1 at NaN)."""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(x)
        return out.astype(x.dtype, copy=False)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where n > 0, else 0"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x <= 0, grad.dtype.type(0), grad)


class Tanh(Function):
    """tansig: a = tanh(n); Ḟ = 1 − a²."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 − a²"

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (1 - a * a)


class Sigmoid(Function):
    """logsig: a = 1 / (1 + e^{−n}); Ḟ = a (1 − a). Evaluated without overflow for large |n|."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = a ∘ (1 − a)"

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a * (1 - a)


class Softmax(Function):
    """a_i = e^{n_i} / Σ_j e^{n_j}; dN = a ∘ (dA − Σ_j a_j dA_j)."""

    @staticmethod
    def forward(ctx, x, axis):
        axis = None if x.ndim == 0 else axis  # a 0-d tensor is its own softmax axis
        # initial=-inf: an empty axis has no maximum; the result is then empty too
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        e = np.exp(shifted)
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    rule = "dN {x} = a ∘ (dA {g} − Σ a ∘ dA)"

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return a * (grad - (grad * a).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """a_i = n_i − log Σ_j e^{n_j} (shifted by the max, stable at logits of ±1000);
    dN = dA − softmax(n) Σ_j dA_j."""

    @staticmethod
    def forward(ctx, x, axis):
        axis = None if x.ndim == 0 else axis
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        with np.errstate(divide="ignore"):  # log 0 only where the axis is empty (the result is too)
            out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    rule = "dN {x} = dA {g} − softmax(n) Σ dA"

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)
