"""Arithmetic with numpy broadcasting: + - * / ** @, negation and casts.

When an input was broadcast in the forward pass, its gradient is summed back
over the broadcast axes (:func:`unbroadcast`), so every input receives a
gradient of its own shape.
"""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..runtime import single_threaded_blas
from ..tensor import Function


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if len(stretched) > 1 and stretched[0] == 0:
        # the batch axis first: adding whole planes is a few times faster than numpy's
        # reduction over several non-adjacent axes at once (a (1, C, 1, 1) bias)
        grad = grad.sum(axis=0, keepdims=True)
        stretched = stretched[1:]
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    rule = {0: "dA {0} = dC {g}{sum}", 1: "dB {1} = dC {g}{sum}"}

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    rule = {0: "dA {0} = dC {g}{sum}", 1: "dB {1} = −dC {g}{sum}"}

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(-grad, sb)


class Mul(Function):
    """Elementwise product; between equal shapes it is the lecture's Hadamard product ∘."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    rule = {0: "dA {0} = dC {g} ∘ B {1}{sum}", 1: "dB {1} = dC {g} ∘ A {0}{sum}"}

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = unbroadcast(grad * b, a.shape) if ctx.needs_input_grad[0] else None
        db = unbroadcast(grad * a, b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    rule = {0: "dA {0} = dC {g} / B {1}{sum}", 1: "dB {1} = −dC {g} ∘ A / B²{sum}"}

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = unbroadcast(grad / b, a.shape) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-grad * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return da, db


class Pow(Function):
    """a ** b; d/da = b·a^(b-1), d/db = a^b·ln a."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    rule = {0: "dA {0} = dC {g} ∘ b·a^(b−1){sum}", 1: "dB {1} = dC {g} ∘ a^b·ln a{sum}"}

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(grad * b * a ** (b - 1), a.shape)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0, np.nan))
            db = unbroadcast(grad * out * log_a, b.shape)
        return da, db


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    rule = "dA {x} = −dC {g}"

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    rule = "dA {x} = dC {g} cast back to the input's dtype"

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)


class MatMul(Function):
    """a @ b with numpy's rules: 1-D operands, batched and broadcast leading axes.

    dA = dC · Bᵀ and dB = Aᵀ · dC on the last two axes, summed over broadcast batch axes.
    BLAS runs on one thread here (``runtime.single_threaded_blas``): these
    products are small, and BLAS's own threads would compete with the
    kernels' threads for the same cores.
    """

    @classmethod
    def apply(cls, a, b):
        check.matmul_shapes(a.shape, b.shape)  # before forward, which receives valid shapes
        return super().apply(a, b)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with single_threaded_blas():
            return a @ b

    rule = {1: "dW = dn pᵀ: dB {1} = Pᵀ {0} · dN {g}", 0: "dp = Wᵀ dn: dP {0} = dN {g} · Bᵀ {1}"}

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # Treat 1-D operands as a row (a) or column (b) matrix, as numpy does.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = grad.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        da = db = None
        with single_threaded_blas():
            if ctx.needs_input_grad[0]:
                da = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
            if ctx.needs_input_grad[1]:
                db = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return da, db
