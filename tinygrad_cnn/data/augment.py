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

#: The largest ``max_shift`` of :func:`random_affine`, in pixels (far beyond any image).
MAX_SHIFT = 1e6


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
    image take the nearest edge pixel (the background for digits).  ``max_rotation`` is at
    most 360 and ``max_shift`` at most :data:`MAX_SHIFT`; images are floats or integers.

    Returns ``augment(x_batch, rng) -> new batch`` of the same shape and dtype (the input is not
    modified); the images are the last two axes, the first axis indexes them. With all three
    ranges 0 the batch is returned unchanged.
    """
    max_rotation = _checks.real(max_rotation, "max_rotation", 0.0, 360.0)
    max_scale = _checks.real(max_scale, "max_scale", 0.0, 1.0, high_open=True)
    max_shift = _checks.real(max_shift, "max_shift", 0.0, MAX_SHIFT)

    def augment(xb, rng):
        if max_rotation == max_scale == max_shift == 0:
            return xb
        xb = np.asarray(xb)
        if xb.ndim < 3:
            raise ValueError(f"random_affine: images must be (N, ..., H, W), got shape {xb.shape}")
        if xb.dtype.kind not in "fiu":
            raise TypeError(f"random_affine: images must be real numbers, got dtype {xb.dtype} "
                            f"with shape {xb.shape}")
        shape = xb.shape
        n, h, w = shape[0], shape[-2], shape[-1]
        # the kernel is built for native float32 and float64: other dtypes are resampled in
        # one of the two (integers in float64) and returned in their own dtype, truncated
        work = np.float32 if xb.dtype.kind == "f" and xb.dtype.itemsize <= 4 else np.float64
        x = xb.reshape(n, -1, h, w).astype(work, copy=False)
        angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
        scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, n)
        ty = rng.uniform(-max_shift, max_shift, n)
        tx = rng.uniform(-max_shift, max_shift, n)
        _check_draws(n, angle=angle, scale=scale, ty=ty, tx=tx)  # the kernel indexes each by image
        cos = np.cos(angle) / scale
        sin = np.sin(angle) / scale
        out = np.empty(x.shape, dtype=work)
        run_kernel(_affine_resample, x.size * 16, np.ascontiguousarray(x), cos, sin, ty, tx, out)
        return out.reshape(shape).astype(xb.dtype, copy=False)

    augment.params = (max_rotation, max_scale, max_shift)
    return augment


def _check_draws(n, **draws):
    """Each draw a finite float array of one value per image (an rng of one's own may return anything)."""
    for name, value in draws.items():
        a = np.asarray(value)
        if a.shape != (n,) or a.dtype.kind != "f" or not np.isfinite(a).all():
            raise ValueError(f"random_affine: the rng's draws for {name} must be {n} finite floats, one per "
                             f"image, got dtype {a.dtype} with shape {a.shape}")


@njit(parallel=True, cache=True)
def _affine_resample(x, cos, sin, ty, tx, out):
    """Bilinear resampling of each image ``x[k]`` at the inverse affine map of every output pixel.

    Output pixel (i, j) of image k, about the centre (cy, cx), samples the input at
    ``sy = cos·(i−cy) − sin·(j−cx) + cy − ty``, ``sx = sin·(i−cy) + cos·(j−cx) + cx − tx``
    (cos and sin already divided by the scale), clipped to the image, so that points outside
    take the nearest edge pixel; the four neighbours are weighted by the fractional parts.
    Computed in float64 and rounded once to the output's dtype.  One parallel iteration per image.

    Row by row in three passes: the sample points (a loop the compiler vectorises), then their
    four neighbours' flat indices and fractional parts, then the weighted sums for every
    channel (the same operations in the same order as one pixel at a time, so the same bits,
    about three times faster).
    """
    n, C, h, w = x.shape
    cy = (h - 1) / 2
    cx = (w - 1) / 2
    xf = x.reshape(n, C, h * w)
    of = out.reshape(n, C, h * w)
    # per image, one row's sample points, fractional parts and neighbour indices
    fys = np.empty((n, w))
    fxs = np.empty((n, w))
    corners = np.empty((n, 4, w), dtype=np.int64)
    for k in prange(n):
        c_k, s_k, ty_k, tx_k = cos[k], sin[k], ty[k], tx[k]
        fy, fx, at = fys[k], fxs[k], corners[k]
        for i in range(h):
            yy = i - cy
            cos_yy = c_k * yy
            sin_yy = s_k * yy
            for j in range(w):
                xx = j - cx
                fy[j] = min(max(cos_yy - s_k * xx + cy - ty_k, 0.0), h - 1.0)
                fx[j] = min(max(sin_yy + c_k * xx + cx - tx_k, 0.0), w - 1.0)
            for j in range(w):
                y0 = int(fy[j])  # the sample points are >= 0: truncation is the floor
                x0 = int(fx[j])
                y1 = min(y0 + 1, h - 1)
                x1 = min(x0 + 1, w - 1)
                fy[j] -= y0
                fx[j] -= x0
                at[0, j] = y0 * w + x0
                at[1, j] = y0 * w + x1
                at[2, j] = y1 * w + x0
                at[3, j] = y1 * w + x1
            for c in range(C):
                src = xf[k, c]
                dst = of[k, c, i * w:(i + 1) * w]
                for j in range(w):
                    dst[j] = (np.float64(src[at[0, j]]) * (1 - fy[j]) * (1 - fx[j])
                              + np.float64(src[at[1, j]]) * (1 - fy[j]) * fx[j]
                              + np.float64(src[at[2, j]]) * fy[j] * (1 - fx[j])
                              + np.float64(src[at[3, j]]) * fy[j] * fx[j])


def affine_resample_reference(x, cos, sin, ty, tx):
    """:func:`_affine_resample` one pixel at a time in plain Python, for the tests: ``x``
    ``(n, C, h, w)`` and the per-image parameters; a new array of ``x``'s dtype."""
    x = np.asarray(x)
    n, C, h, w = x.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    out = np.empty(x.shape, dtype=x.dtype)
    for k in range(n):
        for i in range(h):
            for j in range(w):
                yy, xx = i - cy, j - cx
                sy = min(max(float(cos[k]) * yy - float(sin[k]) * xx + cy - float(ty[k]), 0.0), h - 1.0)
                sx = min(max(float(sin[k]) * yy + float(cos[k]) * xx + cx - float(tx[k]), 0.0), w - 1.0)
                y0, x0 = int(np.floor(sy)), int(np.floor(sx))
                y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
                fy, fx = sy - y0, sx - x0
                for c in range(C):
                    p = x[k, c].astype(np.float64)
                    out[k, c, i, j] = (p[y0, x0] * (1 - fy) * (1 - fx) + p[y0, x1] * (1 - fy) * fx
                                       + p[y1, x0] * fy * (1 - fx) + p[y1, x1] * fy * fx)
    return out
