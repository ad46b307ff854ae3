"""More transfer functions a = f(n) (PyTorch's other activations) and their rules dN = Ḟ ∘ dA.

As in ``ops/activation.py``: Ḟ is the diagonal of f's derivative at the net input N,
and backward is its Hadamard product ∘ with the incoming gradient dA.  Each forward
and backward evaluates PyTorch's own formula (its overflow-free forms, and its
one-sided choice of Ḟ at every kink), in the input's dtype; constants are cast to
that dtype first, so float32 stays float32.  Where a backward departs from PyTorch's
arithmetic (hardsigmoid's and celu's constants, tanhshrink's and softsign's Ḟ written
without cancellation), its docstring says how.  Each Function is followed by its naive
reference: one element at a time with Python's ``math``, in float64.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Function

#: SELU's constants (Klambauer et al. 2017), as PyTorch writes them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _each(x, f) -> np.ndarray:
    """``f`` applied to every element of ``x``, one Python float at a time (float64)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        out[idx] = f(float(x[idx]))
    return out


def _sigmoid(v: float) -> float:
    """σ(v) = 1/(1 + e^{−v}) without overflow."""
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def _log1p_exp(t: float) -> float:
    """log(1 + eᵗ) = max(t, 0) + log(1 + e^{−|t|}) without overflow."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


# --------------------------------------------------------------- smooth gates: silu, mish, softplus
class Silu(Function):
    """SiLU (swish): a = n·σ(n) = n / (1 + e^{−n}); Ḟ = σ(n)·(1 + n·(1 − σ(n))), σ(n) = 1/(1 + e^{−n}).

    For n < −709, e^{−n} overflows to inf and a = n/inf = −0, Ḟ = 0, as in PyTorch.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return x / (1 + np.exp(-x))

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = σ(n) ∘ (1 + n ∘ (1 − σ(n)))"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-x))
        return grad * s * (1 + x * (1 - s))


def silu_reference(x):
    """Naive SiLU: n·σ(n), one element at a time (float64)."""
    return _each(x, lambda v: v * _sigmoid(v))


class Mish(Function):
    """a = n·tanh(softplus(n)), softplus(n) = log(1 + eⁿ);
    Ḟ = t + n·σ(n)·(1 − t²), t = tanh(softplus(n)) (PyTorch's formula, softplus without threshold)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # eⁿ = inf for n > 709: softplus = inf, t = 1, a = n
            return x * np.tanh(np.log1p(np.exp(x)))

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = t + n ∘ σ(n) ∘ (1 − t²), t = tanh(softplus(n))"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-x))
            t = np.tanh(np.log1p(np.exp(x)))
        return grad * (t + x * s * (1 - t * t))


def mish_reference(x):
    """Naive Mish: n·tanh(log(1 + eⁿ)), one element at a time (float64)."""
    return _each(x, lambda v: v * math.tanh(_log1p_exp(v)))


class Softplus(Function):
    """a = log(1 + e^{βn})/β, and a = n where βn > threshold (PyTorch's linear tail);
    Ḟ = z/(z + 1), z = e^{βn}, and Ḟ = 1 where βn > threshold (βn = threshold takes the formula)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = x.dtype.type(beta), x.dtype.type(threshold)
        with np.errstate(over="ignore"):  # only where βn > threshold (unless threshold > 709)
            xb = x * ctx.beta
            soft = np.log1p(np.exp(xb)) / ctx.beta
        return np.where(xb > ctx.threshold, x, soft)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = e^{{βn}}/(e^{{βn}} + 1) where βn ≤ threshold, else 1"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore"):
            xb = x * ctx.beta
            z = np.exp(xb)
            soft = grad * z / (z + 1)
        return np.where(xb > ctx.threshold, grad, soft)


def softplus_reference(x, beta=1.0, threshold=20.0):
    """Naive softplus: n where βn > threshold, else log(1 + e^{βn})/β, one element at a time (float64)."""
    return _each(x, lambda v: v if v * beta > threshold else _log1p_exp(v * beta) / beta)


class Logsigmoid(Function):
    """a = log σ(n) = min(n, 0) − log(1 + e^{−|n|}) (no overflow for any n);
    Ḟ = 1 − σ(n) = q where n ≥ 0, 1 − q where n < 0, q = e^{−|n|}/(1 + e^{−|n|}) (PyTorch's split)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 − σ(n)"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        z = np.exp(-np.abs(x))
        q = z / (1 + z)
        return np.where(x < 0, grad * (1 - q), grad * q)


def logsigmoid_reference(x):
    """Naive log σ(n) = −log(1 + e^{−n}), one element at a time (float64)."""
    return _each(x, lambda v: -_log1p_exp(-v))


# --------------------------------------------------------------- exponential linear units: selu, celu
def _elu(x, negcoef, poscoef, negiptcoef):
    """PyTorch's ELU family: a = n·poscoef for n > 0, else (e^{n·negiptcoef} − 1)·negcoef."""
    neg = np.where(x <= 0, x, 0)  # the exponential only of n ≤ 0 (no overflow for large n)
    with np.errstate(over="ignore"):
        return np.where(x <= 0, np.expm1(neg * negiptcoef) * negcoef, x * poscoef)


def _elu_backward(x, grad, negcoef, poscoef, negiptcoef):
    """Ḟ = poscoef for n > 0, else negiptcoef·negcoef·e^{n·negiptcoef} (PyTorch's choice at 0: the left side)."""
    neg = np.where(x <= 0, x, 0)
    with np.errstate(over="ignore"):
        return np.where(x <= 0, grad * negiptcoef * negcoef * np.exp(neg * negiptcoef), grad * poscoef)


class Selu(Function):
    """a = λn for n > 0, else λα(eⁿ − 1) (α = SELU_ALPHA, λ = SELU_SCALE);
    Ḟ = λ for n > 0, else λα·eⁿ (so λα at n = 0, PyTorch's choice)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def _coefs(dtype):
        t = dtype.type
        return t(SELU_ALPHA) * t(SELU_SCALE), t(SELU_SCALE), t(1.0)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _elu(x, *Selu._coefs(x.dtype))

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = λ where n > 0, else λα·eⁿ"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _elu_backward(x, grad, *Selu._coefs(x.dtype))


def selu_reference(x):
    """Naive SELU: λ·n for n > 0, else λ·α·(eⁿ − 1), one element at a time (float64)."""
    return _each(x, lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)))


class Celu(Function):
    """a = n for n > 0, else α(e^{n/α} − 1); Ḟ = 1 for n > 0, else e^{n/α}
    (evaluated as PyTorch's forward does: (1/α)·α·e^{n·(1/α)}, 1/α rounded once).

    PyTorch's backward takes 1/α from α rounded to float32, also for float64 input (a relative
    ~1e-7 off when α is not a float32 number, 0.7 say); ours is the derivative of the forward.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, alpha):
        t = x.dtype.type
        ctx.coefs = t(alpha), t(1.0), t(1.0 / alpha)
        ctx.save_for_backward(x)
        return _elu(x, *ctx.coefs)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where n > 0, else e^{{n/α}}"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _elu_backward(x, grad, *ctx.coefs)


def celu_reference(x, alpha=1.0):
    """Naive CELU: max(0, n) + min(0, α(e^{n/α} − 1)), one element at a time (float64)."""
    return _each(x, lambda v: max(0.0, v) + min(0.0, alpha * math.expm1(v / alpha)))


# --------------------------------------------------------------- piecewise linear: hardtanh, relu6, hard*
class Hardtanh(Function):
    """a = min(max(n, min_val), max_val); Ḟ = 1 where min_val < n < max_val, else 0
    (PyTorch's choice: 0 at both bounds; a NaN input passes dA on)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = x.dtype.type(min_val), x.dtype.type(max_val)
        return np.clip(x, ctx.low, ctx.high)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where min_val < n < max_val, else 0"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where((x <= ctx.low) | (x >= ctx.high), grad.dtype.type(0), grad)


def hardtanh_reference(x, min_val=-1.0, max_val=1.0):
    """Naive hardtanh: min(max(n, min_val), max_val), one element at a time (float64)."""
    return _each(x, lambda v: min(max(v, min_val), max_val))


class Relu6(Hardtanh):
    """a = min(max(n, 0), 6): PyTorch's relu6 is hardtanh with bounds 0 and 6, its backward too;
    Ḟ = 1 where 0 < n < 6, else 0."""

    @staticmethod
    def forward(ctx, x):
        return Hardtanh.forward(ctx, x, min_val=0.0, max_val=6.0)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where 0 < n < 6, else 0"


def relu6_reference(x):
    """Naive relu6: min(max(n, 0), 6), one element at a time (float64)."""
    return _each(x, lambda v: min(max(v, 0.0), 6.0))


class Hardsigmoid(Function):
    """a = min(max(n + 3, 0), 6)/6; Ḟ = 1/6 where −3 < n < 3, else 0 (0 at ±3, as PyTorch).

    1/6 is taken in the input's dtype: in float64 PyTorch's CPU kernel multiplies by the
    float32 constant 1.0f/6.0f instead (0.16666667163…), a relative 3·10⁻⁸ away.
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x + 3, 0, 6) / 6

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1/6 where −3 < n < 3, else 0"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = grad.dtype.type
        return np.where((x > -3) & (x < 3), grad * t(1.0 / 6.0), t(0))


def hardsigmoid_reference(x):
    """Naive hardsigmoid: min(max(n + 3, 0), 6)/6, one element at a time (float64)."""
    return _each(x, lambda v: min(max(v + 3.0, 0.0), 6.0) / 6.0)


class Hardswish(Function):
    """a = n·min(max(n + 3, 0), 6)/6; Ḟ = 0 for n ≤ −3, n/3 + ½ for −3 < n < 3, 1 for n ≥ 3
    (PyTorch's choices at the kinks: 0 at −3, 1 at 3)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # PyTorch's order (n·clip)/6: inf beyond ~3e307, as PyTorch's
            return x * np.clip(x + 3, 0, 6) / 6

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 0 where n ≤ −3, n/3 + ½ where −3 < n < 3, else 1"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = grad.dtype.type
        return np.where(x <= -3, t(0), np.where(x < 3, grad * (x / 3 + t(0.5)), grad))


def hardswish_reference(x):
    """Naive hardswish: n·min(max(n + 3, 0), 6)/6, one element at a time (float64)."""
    return _each(x, lambda v: v * min(max(v + 3.0, 0.0), 6.0) / 6.0)


class Threshold(Function):
    """a = n where n > threshold, else value; Ḟ = 1 where n > threshold, else 0 (0 at the threshold)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = x.dtype.type(threshold)
        return np.where(x <= ctx.threshold, x.dtype.type(value), x)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1 where n > threshold, else 0"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x <= ctx.threshold, grad.dtype.type(0), grad)


def threshold_reference(x, threshold, value):
    """Naive threshold: n where n > threshold, else value, one element at a time (float64)."""
    return _each(x, lambda v: v if v > threshold else value)


class Prelu(Function):
    """a = n for n > 0, else w_c·n, w_c the weight of n's channel (axis 1; one weight may serve all);
    Ḟ = 1 where n > 0, else w_c (PyTorch's choice at 0); dw_c = Σ dA ∘ n over channel c where n ≤ 0."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def _per_element(x, w):
        """``w`` shaped to broadcast against ``x``: a scalar, or (C, 1, …, 1) along axis 1."""
        if w.size == 1:
            return w.reshape(())
        return w.reshape((w.size,) + (1,) * (x.ndim - 2))

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, Prelu._per_element(x, w) * x)

    rule = {0: "dN {0} = Ḟ ∘ dA {g}, Ḟ = 1 where n > 0, else w",
            1: "dw {1} = Σ dA {g} ∘ n where n ≤ 0, per channel"}

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = np.where(x > 0, grad, Prelu._per_element(x, w) * grad)
        if ctx.needs_input_grad[1]:
            part = np.where(x > 0, grad.dtype.type(0), x * grad)
            axes = tuple(a for a in range(x.ndim) if w.size == 1 or a != 1)
            gw = np.asarray(part.sum(axis=axes)).reshape(w.shape)
        return gx, gw


def prelu_reference(x, weight):
    """Naive PReLU: max(0, n) + w_c·min(0, n), c the element's index on axis 1, one element at a time."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        v = float(x[idx])
        c = idx[1] if w.size > 1 else 0
        out[idx] = max(0.0, v) + float(w[c]) * min(0.0, v)
    return out


# --------------------------------------------------------------- shrinkage and softsign
class Softshrink(Function):
    """a = n − λ for n > λ, n + λ for n < −λ, else 0; Ḟ = 0 where −λ ≤ n ≤ λ, else 1 (0 at ±λ)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lam = x.dtype.type(lambd)
        return np.where(x > lam, x - lam, np.where(x < -lam, x + lam, x * 0))

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 0 where |n| ≤ λ, else 1"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where((x >= -ctx.lambd) & (x <= ctx.lambd), grad.dtype.type(0), grad)


def softshrink_reference(x, lambd=0.5):
    """Naive softshrink: n ∓ λ outside [−λ, λ], 0 inside, one element at a time (float64)."""
    return _each(x, lambda v: v - lambd if v > lambd else v + lambd if v < -lambd else 0.0)


class Hardshrink(Function):
    """a = n outside [−λ, λ], else 0; Ḟ = 0 where −λ ≤ n ≤ λ, else 1 (0 at ±λ)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x, *, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lam = x.dtype.type(lambd)
        return np.where((x >= -lam) & (x <= lam), x.dtype.type(0), x)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 0 where |n| ≤ λ, else 1"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where((x >= -ctx.lambd) & (x <= ctx.lambd), grad.dtype.type(0), grad)


def hardshrink_reference(x, lambd=0.5):
    """Naive hardshrink: n outside [−λ, λ], 0 inside, one element at a time (float64)."""
    return _each(x, lambda v: v if v > lambd or v < -lambd else 0.0)


class Tanhshrink(Function):
    """a = n − tanh(n); Ḟ = 1 − (1 − tanh²(n)) = tanh²(n), multiplied out (no cancellation near 0)."""

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(x)
        ctx.save_for_backward(t)
        return x - t

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = t², t = tanh(n)"

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * (t * t)


def tanhshrink_reference(x):
    """Naive tanhshrink: n − tanh(n), one element at a time (float64)."""
    return _each(x, lambda v: v - math.tanh(v))


class Softsign(Function):
    """a = n/(1 + |n|); Ḟ = 1/(1 + |n|)² (1 at n = 0, as PyTorch's sign(0) = 0 gives).

    PyTorch differentiates the composite n/(|n| + 1) (two terms, the second through |n|);
    the single term here agrees to rounding, and at n = ±inf gives the limit 0 where
    PyTorch's gives NaN (the value a is NaN in both).
    """

    fresh_grads = True  # backward returns new arrays: a leaf keeps them uncopied

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (np.abs(x) + 1)

    rule = "dN {x} = Ḟ ∘ dA {g}, Ḟ = 1/(1 + |n|)²"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = np.abs(x) + 1
        return grad / d / d  # not / (d·d), which overflows for |n| > 1e154


def softsign_reference(x):
    """Naive softsign: n/(1 + |n|), one element at a time (float64)."""
    return _each(x, lambda v: v / (1.0 + abs(v)))
