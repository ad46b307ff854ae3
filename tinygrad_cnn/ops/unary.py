"""Unary maths PyTorch programs reach for: sin, cos, tan, log1p, expm1, log2, log10, exp2,
rsqrt, reciprocal, erf, and the step functions sign, floor, ceil, round, trunc.

Each backward is the scalar derivative applied elementwise, a Hadamard product ∘ with the
incoming gradient, written as PyTorch writes it (so float64 results agree to the last
bits or nearly).  The step functions are flat almost everywhere: their gradient is 0, as
PyTorch's.  ``unary_reference`` evaluates the same functions one element at a time with
Python's ``math`` module.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels.elementwise import erf
from ..tensor import Function

__all__ = ["Sin", "Cos", "Tan", "Log1p", "Expm1", "Log2", "Log10", "Exp2", "Rsqrt", "Reciprocal", "Erf",
           "Sign", "Floor", "Ceil", "Round", "Trunc", "UNARY", "unary_reference"]

_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Sin(Function):
    """y = sin x; dx = cos x ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    rule = "dX {x} = cos(x) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Function):
    """y = cos x; dx = −sin x ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    rule = "dX {x} = −sin(x) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * -np.sin(x)


class Tan(Function):
    """y = tan x; dx = (1 + y²) ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    rule = "dX {x} = (1 + y²) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 + y * y)


class Log1p(Function):
    """y = log(1 + x), accurate near 0; dx = dy / (x + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    rule = "dX {x} = dY {g} / (x + 1)"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Expm1(Function):
    """y = eˣ − 1, accurate near 0; dx = (y + 1) ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    rule = "dX {x} = (y + 1) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Log2(Function):
    """y = log₂ x; dx = dy / (x · ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    rule = "dX {x} = dY {g} / (x · ln 2)"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x.dtype.type(_LN2))


class Log10(Function):
    """y = log₁₀ x; dx = dy / (x · ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    rule = "dX {x} = dY {g} / (x · ln 10)"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x.dtype.type(_LN10))


class Exp2(Function):
    """y = 2ˣ; dx = y · ln 2 ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp2(x)
        ctx.save_for_backward(out)
        return out

    rule = "dX {x} = y · ln 2 ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * y.dtype.type(_LN2)


class Rsqrt(Function):
    """y = 1/√x; dx = −½ y³ ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        out = 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    rule = "dX {x} = −½ y³ ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y.dtype.type(-0.5) * grad * (y * y * y)


class Reciprocal(Function):
    """y = 1/x; dx = −y² ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        out = 1 / x
        ctx.save_for_backward(out)
        return out

    rule = "dX {x} = −y² ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -grad * (y * y)


class Erf(Function):
    """y = erf x; dx = (2/√π) e^(−x²) ∘ dy."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf(x)

    rule = "dX {x} = (2/√π) e^(−x²) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x.dtype.type(_TWO_OVER_SQRT_PI) * np.exp(-(x * x)) * grad


class _Step(Function):
    """A step function: flat almost everywhere, so dx = 0 (PyTorch's choice at the jumps too)."""

    fresh_grads = True
    rule = "dX {x} = 0 (flat between its jumps)"

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Sign(_Step):
    @staticmethod
    def forward(ctx, x):
        return np.sign(x)


class Floor(_Step):
    @staticmethod
    def forward(ctx, x):
        return np.floor(x)


class Ceil(_Step):
    @staticmethod
    def forward(ctx, x):
        return np.ceil(x)


class Round(_Step):
    """Half to even, as PyTorch's ``round`` (and numpy's)."""

    @staticmethod
    def forward(ctx, x, *, decimals=0):
        return np.round(x, decimals)


class Trunc(_Step):
    @staticmethod
    def forward(ctx, x):
        return np.trunc(x)


#: method name → Function, for the Tensor methods and the package-level functions
UNARY = {"sin": Sin, "cos": Cos, "tan": Tan, "log1p": Log1p, "expm1": Expm1, "log2": Log2, "log10": Log10,
         "exp2": Exp2, "rsqrt": Rsqrt, "reciprocal": Reciprocal, "erf": Erf, "sign": Sign, "floor": Floor,
         "ceil": Ceil, "round": Round, "trunc": Trunc}


def _round_half_even(v):
    return float(round(v))


_SCALAR = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "log1p": math.log1p, "expm1": math.expm1,
           "log2": math.log2, "log10": math.log10, "exp2": lambda v: 2.0 ** v,
           "rsqrt": lambda v: 1.0 / math.sqrt(v), "reciprocal": lambda v: 1.0 / v, "erf": math.erf,
           "sign": lambda v: float((v > 0) - (v < 0)), "floor": lambda v: float(math.floor(v)),
           "ceil": lambda v: float(math.ceil(v)), "round": _round_half_even, "trunc": lambda v: float(math.trunc(v))}


def unary_reference(name: str, x):
    """``name`` applied one element at a time with Python's ``math`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    f = _SCALAR[name]
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        out[idx] = f(float(x[idx]))
    return out
