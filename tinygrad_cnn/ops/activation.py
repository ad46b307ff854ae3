"""Transfer functions a = f(n) and their backward rule dN = Ḟ ∘ dA.

Ḟ is the diagonal of f's derivative evaluated at the net input N; the
backward pass is its Hadamard product ∘ with the incoming gradient dA.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import elementwise as E
from ..kernels.elementwise import erf
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

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(x)
        return out.astype(x.dtype, copy=False)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where n > 0, else 0"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return E.relu_backward(x, grad)


class Tanh(Function):
    """tansig: a = tanh(n); Ḟ = 1 − a²."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 − a²"

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return E.tanh_backward(a, grad)  # grad * (1 - a * a), one compiled pass


class ScaledTanh(Function):
    """LeCun's squashing function a = A·tanh(S·n) as one op; Ḟ = A·S·(1 − t²), t = tanh(S·n).

    The same float operations, in the same order, as the three ops it stands for
    (n·S, tanh, ·A, and backward dA·A, ∘ (1 − t²), ·S), so the bits are theirs and
    PyTorch's; one node in the graph and one compiled pass backward instead of three.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, A, S):
        A, S = x.dtype.type(A), x.dtype.type(S)
        t = x * S
        np.tanh(t, out=t)
        ctx.save_for_backward(t)
        ctx.A, ctx.S = A, S
        return t * A

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = A·S·(1 − t²), t = tanh(S·n)"

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return E.scaled_tanh_backward(t, grad, ctx.A, ctx.S)


def scaled_tanh_reference(x, A=1.7159, S=2.0 / 3.0):
    """Naive LeCun squashing, one element at a time with Python's math.tanh (float64)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        out[idx] = A * math.tanh(S * float(x[idx]))
    return out


class Sigmoid(Function):
    """logsig: a = 1 / (1 + e^{−n}); Ḟ = a (1 − a). Evaluated without overflow for large |n|."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

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
        return E.sigmoid_backward(a, grad)


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


class LeakyReLU(Function):
    """a = n for n > 0, else s·n (s = ``negative_slope``); Ḟ = 1 for n > 0, else s (PyTorch's choice at 0)."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = x.dtype.type(negative_slope)
        return np.where(x > 0, x, x * ctx.slope)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where n > 0, else slope"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * ctx.slope)


class ELU(Function):
    """a = n for n > 0, else α(eⁿ − 1); Ḟ = 1 for n > 0, else α·eⁿ."""

    @staticmethod
    def forward(ctx, x, alpha):
        alpha = x.dtype.type(alpha)
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where n > 0, else a + α"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * ctx.alpha * np.exp(np.minimum(x, 0)))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


class GELU(Function):
    """a = n·Φ(n), Φ the standard normal CDF ½(1 + erf(n/√2)); Ḟ = Φ(n) + n·φ(n), φ(n) = e^{−n²/2}/√(2π).

    ``approximate='tanh'``: a = ½n(1 + t), t = tanh(u), u = √(2/π)(n + 0.044715n³);
    Ḟ = ½(1 + t) + ½n(1 − t²)·√(2/π)(1 + 3·0.044715n²).
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        return (x * normal_cdf(x)).astype(x.dtype, copy=False)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = Φ(n) + n φ(n)"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (normal_cdf(x) + x * pdf)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = ½(1 + erf(x/√2)), elementwise (erf from the C library, through the compiled ``erf``)."""
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def gelu_reference(x, approximate="none"):
    """Naive GELU, one element at a time with Python's math.erf / math.tanh (float64)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        v = float(x[idx])
        if approximate == "tanh":
            out[idx] = 0.5 * v * (1 + math.tanh(_SQRT_2_OVER_PI * (v + _GELU_CUBIC * v ** 3)))
        else:
            out[idx] = v * 0.5 * (1 + math.erf(v / math.sqrt(2.0)))
    return out
