"""Elementwise functions numpy lacks or runs in several passes, compiled: erf (for GELU) and
the one-pass backward rules dN = Ḟ ∘ dA of tanh, sigmoid and ReLU.

numpy has no erf; Numba compiles ``math.erf`` to the C library's, so the result is
exactly Python's ``math.erf`` element by element (``erf_reference``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["erf", "erf_reference", "tanh_backward", "sigmoid_backward", "relu_backward"]


@njit(cache=True)
def _erf_flat(x, out):
    for i in range(x.size):
        out[i] = math.erf(x[i])


def erf(x: np.ndarray) -> np.ndarray:
    """erf(x) elementwise, same shape and float dtype as ``x`` (computed in float64)."""
    x = np.asarray(x)
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    _erf_flat(flat, out)
    return out.reshape(x.shape).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def erf_reference(x) -> np.ndarray:
    """Python's math.erf applied one element at a time."""
    x = np.asarray(x, dtype=np.float64)
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# --------------------------------------------------------------- dN = Ḟ ∘ dA in one compiled pass
# numpy evaluates ``grad * (1 - a * a)`` as three passes over memory with two
# temporaries; these loops do it in one, with the same operations in the same
# order and dtype (no fused multiply-add), so the bits are numpy's.

@njit(cache=True)
def _tanh_backward(a, g, one, out):
    for i in range(a.size):
        out[i] = g[i] * (one - a[i] * a[i])


@njit(cache=True)
def _scaled_tanh_backward(t, g, one, A, S, out):
    # the order of the three Functions it replaces: dA·A, then ∘ (1 − t²), then ·S
    for i in range(t.size):
        out[i] = g[i] * A * (one - t[i] * t[i]) * S


@njit(cache=True)
def _sigmoid_backward(a, g, one, out):
    for i in range(a.size):
        out[i] = g[i] * a[i] * (one - a[i])


@njit(cache=True)
def _relu_backward(x, g, zero, out):
    for i in range(x.size):
        out[i] = zero if x[i] <= zero else g[i]


def _fused(kernel, saved, grad, *consts):
    """Run a one-pass backward on flat C-contiguous views; None when the dtypes differ (numpy then)."""
    if grad.dtype != saved.dtype or grad.shape != saved.shape:
        return None
    t = saved.dtype.type
    out = np.empty(saved.shape, dtype=saved.dtype)
    kernel(np.ascontiguousarray(saved).reshape(-1), np.ascontiguousarray(grad).reshape(-1),
           *(t(c) for c in consts), out.reshape(-1))
    return out


def tanh_backward(a, grad):
    """dN = dA ∘ (1 − a²) for a = tanh(n)."""
    out = _fused(_tanh_backward, a, grad, 1)
    return grad * (1 - a * a) if out is None else out


def scaled_tanh_backward(t, grad, A, S):
    """dN = dA·A ∘ (1 − t²)·S for a = A·tanh(S·n), t = tanh(S·n)."""
    out = _fused(_scaled_tanh_backward, t, grad, 1, A, S)
    if out is None:
        dt = t.dtype.type
        return grad * dt(A) * (1 - t * t) * dt(S)
    return out


def sigmoid_backward(a, grad):
    """dN = dA ∘ a ∘ (1 − a) for a = σ(n)."""
    out = _fused(_sigmoid_backward, a, grad, 1)
    return grad * a * (1 - a) if out is None else out


def relu_backward(x, grad):
    """dN = dA where n > 0, else 0 (also 0 at n = 0; NaN n passes dA)."""
    out = _fused(_relu_backward, x, grad, 0)
    return np.where(x <= 0, grad.dtype.type(0), grad) if out is None else out
