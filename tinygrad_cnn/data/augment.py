"""Random distortions of training images, drawn from the epoch's generator.

Each factory returns ``augment(x_batch, rng) -> new batch``, the form
:func:`tinygrad_cnn.train.fit` takes as ``augment``: the draws come from ``rng`` (the epoch's
``numpy.random.Generator``), so a seeded run is reproducible and a resumed run continues
exactly. The input batch is never modified.
"""

from __future__ import annotations

import numpy as np

from .. import _checks

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
        cy, cx = (h - 1) / 2, (w - 1) / 2
        yy, xx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
        cos = (np.cos(angle) / scale)[:, None, None]
        sin = (np.sin(angle) / scale)[:, None, None]
        # output pixel (i, j) samples the input at the inverse transform of (i, j)
        sy = np.clip(cos * yy - sin * xx + cy - ty[:, None, None], 0, h - 1)
        sx = np.clip(sin * yy + cos * xx + cx - tx[:, None, None], 0, w - 1)
        y0 = np.floor(sy).astype(np.intp)
        x0 = np.floor(sx).astype(np.intp)
        y1 = np.minimum(y0 + 1, h - 1)
        x1 = np.minimum(x0 + 1, w - 1)
        fy = (sy - y0)[:, None]
        fx = (sx - x0)[:, None]
        ni = np.arange(n)[:, None, None]

        def gather(yi, xi):  # (n, C, h, w)
            return np.moveaxis(x[ni, :, yi, xi], -1, 1)

        out = (gather(y0, x0) * (1 - fy) * (1 - fx) + gather(y0, x1) * (1 - fy) * fx
               + gather(y1, x0) * fy * (1 - fx) + gather(y1, x1) * fy * fx)
        return np.ascontiguousarray(out.astype(xb.dtype, copy=False).reshape(shape))

    augment.params = (max_rotation, max_scale, max_shift)
    return augment
