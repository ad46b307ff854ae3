"""Random distortions of training images, drawn from the epoch's generator.

Each factory returns ``augment(x_batch, rng) -> new batch``, the form
:func:`tinygrad_cnn.train.fit` takes as ``augment``: the draws come from ``rng`` (the epoch's
``numpy.random.Generator``), so a seeded run is reproducible and a resumed run continues
exactly. The input batch is never modified.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import _checks
from ..kernels._parallel import run_kernel

__all__ = ["random_shift", "random_affine"]


def random_shift(max_shift=2):
    """Data augmentation for :func:`tinygrad_cnn.train.fit`: translate each image by a random whole number of
    pixels in ``[-max_shift, max_shift]`` along each of the last two axes, independently per
    image; the vacated border is filled by replicating the edge pixels (background for digits).

    Returns ``augment(x_batch, rng) -> new batch`` (same shape and dtype; the input is not
    modified). ``max_shift=0`` returns the batch unchanged.
    """
    max_shift = _checks.nonneg_int(max_shift, "max_shift")

    def augment(xb, rng):
        if max_shift == 0:
            return xb
        xb = np.asarray(xb)
        if xb.ndim < 2:
            raise ValueError(f"random_shift: images must have at least 2 axes (N, ..., H, W), "
                             f"got shape {xb.shape}")
        s = max_shift
        n, (h, w) = xb.shape[0], xb.shape[-2:]
        pad = [(0, 0)] * (xb.ndim - 2) + [(s, s), (s, s)]
        padded = np.pad(xb, pad, mode="edge")
        dy = rng.integers(0, 2 * s + 1, size=n)
        dx = rng.integers(0, 2 * s + 1, size=n)
        rows = (dy[:, None] + np.arange(h))  # (n, h)
        cols = (dx[:, None] + np.arange(w))  # (n, w)
        # move the sample axis next to the spatial ones, gather, move it back
        p = np.moveaxis(padded, 0, -3)  # (..., n, H+2s, W+2s)
        out = p[..., np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return np.ascontiguousarray(np.moveaxis(out, -3, 0))

    augment.max_shift = max_shift
    return augment


def random_affine(max_rotation=10.0, max_scale=0.1, max_shift=2.0):
    """Data augmentation for :func:`tinygrad_cnn.train.fit`: a random affine distortion of each image.

    Each image (all its channels alike) is rotated about its centre by an angle drawn
    uniformly from ``[-max_rotation, max_rotation]`` degrees, scaled by a factor from
    ``[1 - max_scale, 1 + max_scale]`` and translated by ``[-max_shift, max_shift]`` pixels
    (real-valued) along each axis, then resampled bilinearly; points that fall outside the
    image take the nearest edge pixel (the background for digits).

    Returns ``augment(x_batch, rng) -> new batch`` of the same shape and dtype (the input is not
    modified); the images are the last two axes, the first axis indexes them. With all three
    ranges 0 the batch is returned unchanged.
    """
    max_rotation = _checks.real(max_rotation, "max_rotation", 0.0)
    max_scale = _checks.real(max_scale, "max_scale", 0.0, 1.0, high_open=True)
    max_shift = _checks.real(max_shift, "max_shift", 0.0)

    def augment(xb, rng):
        if max_rotation == max_scale == max_shift == 0:
            return xb
        xb = np.asarray(xb)
        if xb.ndim < 3:
            raise ValueError(f"random_affine: images must be (N, ..., H, W), got shape {xb.shape}")
        shape = xb.shape
        n, h, w = shape[0], shape[-2], shape[-1]
        x = xb.reshape(n, -1, h, w)
        angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
        scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, n)
        ty = rng.uniform(-max_shift, max_shift, n)
        tx = rng.uniform(-max_shift, max_shift, n)
        cos = np.cos(angle) / scale
        sin = np.sin(angle) / scale
        out = np.empty(x.shape, dtype=xb.dtype)
        run_kernel(_affine_resample, x.size * 16, np.ascontiguousarray(x), cos, sin, ty, tx, out)
        return out.reshape(shape)

    augment.params = (max_rotation, max_scale, max_shift)
    return augment


@njit(parallel=True, cache=True)
def _affine_resample(x, cos, sin, ty, tx, out):
    """Bilinear resampling of each image ``x[k]`` at the inverse affine map of every output pixel.

    Output pixel (i, j) of image k, about the centre (cy, cx), samples the input at
    ``sy = cos·(i−cy) − sin·(j−cx) + cy − ty``, ``sx = sin·(i−cy) + cos·(j−cx) + cx − tx``
    (cos and sin already divided by the scale), clipped to the image, so that points outside
    take the nearest edge pixel; the four neighbours are weighted by the fractional parts.
    Computed in float64 and rounded once to the output's dtype.  One parallel iteration per image.
    """
    n, C, h, w = x.shape
    cy = (h - 1) / 2
    cx = (w - 1) / 2
    for k in prange(n):
        for i in range(h):
            yy = i - cy
            for j in range(w):
                xx = j - cx
                sy = min(max(cos[k] * yy - sin[k] * xx + cy - ty[k], 0.0), h - 1.0)
                sx = min(max(sin[k] * yy + cos[k] * xx + cx - tx[k], 0.0), w - 1.0)
                y0 = int(np.floor(sy))
                x0 = int(np.floor(sx))
                y1 = min(y0 + 1, h - 1)
                x1 = min(x0 + 1, w - 1)
                fy = sy - y0
                fx = sx - x0
                for c in range(C):
                    out[k, c, i, j] = (np.float64(x[k, c, y0, x0]) * (1 - fy) * (1 - fx)
                                       + np.float64(x[k, c, y0, x1]) * (1 - fy) * fx
                                       + np.float64(x[k, c, y1, x0]) * fy * (1 - fx)
                                       + np.float64(x[k, c, y1, x1]) * fy * fx)
