"""Pointwise maths beyond + - * /: abs, sqrt, clamp, maximum, minimum, rounded division,
remainder (``%``, ``fmod``) and atan2.

Each backward is the derivative of the scalar function applied elementwise, as a
Hadamard product ∘ with the incoming gradient.  Where the derivative is not
defined (|x| at 0, a clamp bound, a tie of maximum) the choice is PyTorch's, so
gradients match it to the last bit.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function
from .elementwise import unbroadcast


class Abs(Function):
    """y = |x|; dx = sign(x) ∘ dy, with sign(0) = 0 (PyTorch's choice)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    rule = "dX {x} = sign(x) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Sqrt(Function):
    """y = √x; dx = dy / (2 y) (infinite at x = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    rule = "dX {x} = dY {g} / (2√x)"

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / (2 * out)


class Clamp(Function):
    """y = min(max(x, low), high) (either bound may be None; low > high gives high, as PyTorch);
    dx = dy where low ≤ x ≤ high, else 0: the bounds themselves pass the gradient (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        out = x
        if low is not None:
            out = np.maximum(out, low)
        if high is not None:
            out = np.minimum(out, high)
        return out.copy() if out is x else out

    rule = "dX {x} = dY {g} where low ≤ x ≤ high, else 0"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        keep = np.ones(x.shape, dtype=bool)
        if ctx.low is not None:
            keep &= x >= ctx.low
        if ctx.high is not None:
            keep &= x <= ctx.high
        return np.where(keep, grad, grad.dtype.type(0))


class ClampTensor(Function):
    """y = min(max(x, low), high) with tensor bounds, all three broadcast (a bound may be None).
    The element that y equals receives dy (PyTorch's rule): dx where low ≤ x ≤ high,
    dlow where x < low (and low < high when both are given), dhigh where x > high or
    high < low; each summed back to its own shape."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x, low, high)
        out = x if low is None else np.maximum(x, low)
        out = out if high is None else np.minimum(out, high)
        return np.array(np.broadcast_to(out, np.broadcast_shapes(*(a.shape for a in (x, low, high) if a is not None))))

    rule = {0: "dX {0} = dY {g} where low ≤ x ≤ high", 1: "dlow {1} = dY {g} where x < low{sum}", 2: "dhigh {2} = dY {g} where x > high{sum}"}

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        to_x = np.ones(x.shape, dtype=bool)
        if low is not None:
            to_x = to_x & (x >= low)
        if high is not None:
            to_x = to_x & (x <= high)
        to_low = None if low is None else (x < low) & (True if high is None else low < high)
        to_high = None if high is None else (x > high) | (False if low is None else high < low)
        zero = grad.dtype.type(0)
        out = []
        for arr, mask, need in ((x, to_x, ctx.needs_input_grad[0]), (low, to_low, ctx.needs_input_grad[1]),
                                (high, to_high, ctx.needs_input_grad[2])):
            out.append(unbroadcast(np.where(mask, grad, zero), arr.shape) if need else None)
        return tuple(out)


def _tie_weights(a, b, loser):
    """1 where this operand won, 0 where it lost, ½ on a tie (and 1 where either is NaN)."""
    return np.where(a == b, 0.5, np.where(loser, 0.0, 1.0))


class Maximum(Function):
    """y = max(a, b) elementwise with broadcasting; the larger operand receives dy, and on a tie
    each receives dy/2 (PyTorch's rule); NaN propagates and both operands then receive dy."""

    pick = staticmethod(np.maximum)  # Minimum below reuses everything but these two
    larger_wins = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return type(ctx).pick(a, b)

    rule = {
        0: "dA {0} = dY {g} where a > b (½ on ties){sum}",
        1: "dB {1} = dY {g} where b > a (½ on ties){sum}",
    }

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = db = None
        a_lost, b_lost = (a < b, b < a) if ctx.larger_wins else (a > b, b > a)
        if ctx.needs_input_grad[0]:
            da = unbroadcast((grad * _tie_weights(a, b, a_lost)).astype(a.dtype, copy=False), a.shape)
        if ctx.needs_input_grad[1]:
            db = unbroadcast((grad * _tie_weights(a, b, b_lost)).astype(b.dtype, copy=False), b.shape)
        return da, db


class Minimum(Maximum):
    """y = min(a, b) elementwise with broadcasting; the smaller operand receives dy, a tie
    splits it in halves (PyTorch's rule): :class:`Maximum`'s routing with the comparison turned."""

    pick = staticmethod(np.minimum)
    larger_wins = False
    rule = {
        0: "dA {0} = dY {g} where a < b (½ on ties){sum}",
        1: "dB {1} = dY {g} where b < a (½ on ties){sum}",
    }


def rounded_divide(a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
    """a / b rounded toward zero (``'trunc'``) or toward −∞ (``'floor'``), as PyTorch's div.

    Floats: ``'floor'`` is numpy's floor_divide (Python's ``//``, exact for large quotients),
    ``'trunc'`` is trunc(a / b).  Integers stay integers: ``'trunc'`` is C's division,
    (a − fmod(a, b)) // b, which is exact because a − fmod(a, b) is a multiple of b.
    """
    integral = np.result_type(a, b).kind in "biu"
    if integral:
        if np.any(np.asarray(b) == 0):
            raise ZeroDivisionError("div: integer division by zero (the divisor holds a 0)")
        return np.floor_divide(a, b) if mode == "floor" else np.floor_divide(a - np.fmod(a, b), b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b) if mode == "floor" else np.trunc(a / b)


def rounded_divide_reference(a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
    """One element at a time with Python's own arithmetic (``//`` floors; int() truncates)."""
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape, dtype=np.result_type(a, b))
    for k in np.ndindex(a.shape):
        x, y = a[k].item(), b[k].item()
        if mode == "floor":
            out[k] = x // y
        elif isinstance(x, int) and isinstance(y, int):
            out[k] = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        else:
            out[k] = float(np.trunc(x / y))
    return out


class RoundedDiv(Function):
    """y = round(a / b) with ``mode`` 'trunc' or 'floor'.  The rounding is a step function, so
    da = db = 0 everywhere (PyTorch returns zero gradients too, not none)."""

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.inputs = (a.shape, a.dtype), (b.shape, b.dtype)
        return np.asarray(rounded_divide(a, b, mode))

    rule = {0: "dA {0} = 0 (rounding is a step function)", 1: "dB {1} = 0"}

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.zeros(shape, dtype) for shape, dtype in ctx.inputs)


class Remainder(Function):
    """y = a − round(a / b)·b with ``mode`` 'floor' (``remainder``, ``%``: the divisor's sign) or
    'trunc' (``fmod``: the dividend's sign); da = dy, db = −round(a / b) ∘ dy (PyTorch's)."""

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.save_for_backward(a, b)
        ctx.mode = mode
        return np.asarray(np.mod(a, b) if mode == "floor" else np.fmod(a, b))

    rule = {0: "dA {0} = dY {g}", 1: "dB {1} = −round(a / b) ∘ dY {g}"}

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = unbroadcast(grad, a.shape) if ctx.needs_input_grad[0] else None
        db = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.floor(a / b) if ctx.mode == "floor" else np.trunc(a / b)
            db = unbroadcast(-grad * q, b.shape)
        return da, db


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a); da = b/(a² + b²) ∘ dy, db = −a/(a² + b²) ∘ dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    rule = {0: "dA {0} = b/(a² + b²) ∘ dY {g}", 1: "dB {1} = −a/(a² + b²) ∘ dY {g}"}

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            r = grad / (a * a + b * b)
        return unbroadcast(r * b, a.shape), unbroadcast(-r * a, b.shape)
