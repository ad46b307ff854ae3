"""Inverted dropout: y = x ∘ m / (1 − p), the mask m drawn once per forward.

The mask is drawn by ``functional.dropout`` from the package generator and reaches
the Function as a constant, already scaled: ``scaled_mask`` holds 1/(1 − p) where
an element (or, for ``dropout2d``, a whole channel) is kept and 0 where it is
dropped, broadcastable to x.  Backward is the same Hadamard product.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function

__all__ = ["Dropout", "dropout_mask", "dropout_reference"]


class Dropout(Function):
    """y = x ∘ M, M = m / (1 − p) (broadcast over x); dx = dy ∘ M."""

    @staticmethod
    def forward(ctx, x, scaled_mask):
        ctx.save_for_backward(scaled_mask)
        return x * scaled_mask

    rule = {0: "dX {0} = m/(1 − p) ∘ dY {g}"}

    @staticmethod
    def backward(ctx, grad):
        (scaled_mask,) = ctx.saved_tensors
        return grad * scaled_mask, None


def dropout_mask(rng: np.random.Generator, shape: tuple, p: float, dtype) -> np.ndarray:
    """m / (1 − p) of ``shape`` in ``dtype``: element kept (value 1/(1 − p)) where u ≥ p, u ~ U[0, 1).

    P(kept) = 1 − p; p = 0 keeps everything and p = 1 drops everything (mask 0,
    no division by zero).  The scale is rounded to ``dtype`` first, as PyTorch's
    ``x · (mask · (1/(1 − p)))``.
    """
    dtype = np.dtype(dtype)
    scale = dtype.type(0.0) if p >= 1.0 else dtype.type(1.0 / (1.0 - p))
    keep = rng.random(shape) >= p
    return np.where(keep, scale, dtype.type(0.0)).astype(dtype, copy=False)


def dropout_reference(x, p: float, seed: int, channels: bool = False) -> np.ndarray:
    """Naive inverted dropout: after ``manual_seed(seed)``, one uniform draw u per element
    (per (n, c) channel when ``channels``), in row-major order; keep where u ≥ p, scaled by 1/(1 − p)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    if channels:
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                if rng.random() >= p:
                    out[n, c] = x[n, c] * scale
        return out
    for idx in np.ndindex(x.shape):
        if rng.random() >= p:
            out[idx] = x[idx] * scale
    return out
