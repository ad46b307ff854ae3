"""Bilinear resizing of images (numpy, ``align_corners=False``) and the small integer check
the loaders share."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["resize_bilinear"]


def _check_int(name, value, minimum=1):
    """Return ``value`` as int if it is an integer >= minimum, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r} "
                         f"({type(value).__name__})")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def _interp_matrix(n_in, n_out):
    """(n_out, n_in) bilinear interpolation weights, align_corners=False (half-pixel centres).

    Output pixel ``i`` samples input coordinate ``(i + 0.5) * n_in / n_out - 0.5``, clamped to
    the valid range (edge pixels are replicated), as PyTorch / OpenCV / PIL bilinear resize.
    Every row sums to 1, so a constant image stays constant.
    """
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


def resize_bilinear(images, size):
    """Bilinearly resize the last two axes of ``images`` to ``size`` (int or ``(h, w)``).

    Uses half-pixel centres (``align_corners=False``), like ``torch.nn.functional.interpolate``
    with ``mode='bilinear'`` (no antialiasing when shrinking). Returns float32 unless the input
    is float64.
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"images must have at least 2 dimensions (..., H, W), "
                         f"got shape {images.shape}")
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"size must be an int or a pair (h, w), got {size!r}")
        out_h, out_w = (_check_int("size", s) for s in size)
    else:
        out_h = out_w = _check_int("size", size)
    in_h, in_w = images.shape[-2:]
    if in_h < 1 or in_w < 1:
        raise ValueError(f"images must have non-empty spatial dimensions, got shape "
                         f"{images.shape}")
    dtype = np.float64 if images.dtype == np.float64 else np.float32
    rh = _interp_matrix(in_h, out_h)
    rw = _interp_matrix(in_w, out_w)
    # out[..., i, j] = sum_{k,l} rh[i, k] * img[..., k, l] * rw[j, l]
    out = np.einsum("ik,...kl,jl->...ij", rh, images.astype(np.float64), rw, optimize=True)
    return np.ascontiguousarray(out, dtype=dtype)
