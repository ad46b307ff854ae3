"""Elementwise functions numpy lacks, compiled: the error function erf (for GELU).

numpy has no erf; Numba compiles ``math.erf`` to the C library's, so the result is
exactly Python's ``math.erf`` element by element (``erf_reference``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["erf", "erf_reference"]


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
