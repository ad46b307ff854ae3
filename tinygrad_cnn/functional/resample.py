"""Resizing feature maps: PyTorch's ``F.interpolate`` (``nn.Upsample``), nearest and bilinear.

Both are written with ops that already have their backward rules: nearest picks rows and then
columns by index (dX adds dY back to every place that was copied), bilinear multiplies by an
interpolation matrix on each side, Z = R_h · X · R_wᵀ (dX = R_hᵀ · dZ · R_w).  The source
coordinates are PyTorch's: nearest takes ⌊dst · scale⌋, bilinear samples (dst + ½) · scale − ½
(clamped at 0) or, with ``align_corners=True``, dst · (in − 1)/(out − 1).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks as check
from ..tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle"]


def _output_size(in_hw, size, scale_factor):
    """(Ho, Wo) and the source step per output pixel along each axis (PyTorch's scales)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = check.pair(size, "interpolate: size")
        return out, tuple(i / o for i, o in zip(in_hw, out))
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if len(scales) != 2:
        raise ValueError(f"interpolate: scale_factor must be a number or a pair, got {scale_factor!r}")
    scales = tuple(check.real(s, "interpolate: scale_factor", 0.0, low_open=True) for s in scales)
    out = tuple(int(math.floor(i * s)) for i, s in zip(in_hw, scales))
    if min(out) < 1 or max(out) > check.MAX_EXTENT:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives an output of size {out} "
                         f"for maps of size {tuple(in_hw)}")
    return out, tuple(1.0 / s for s in scales)


def _nearest_sources(n_in, n_out, step):
    return np.minimum(np.floor(np.arange(n_out) * step).astype(np.int64), n_in - 1)


def _linear_matrix(n_in, n_out, step, align_corners, dtype):
    """(n_out, n_in) weights of linear interpolation along one axis, as PyTorch computes them."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * step - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m.astype(dtype)


def interpolate(x, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """Resize the maps of ``x`` ``(N, C, H, W)`` to ``size`` or by ``scale_factor`` (PyTorch's
    ``F.interpolate`` for 4-D input): ``mode`` ``'nearest'`` or ``'bilinear'``; ``align_corners``
    only for bilinear (default False)."""
    x = check.float_tensor(x, "x")
    if x.ndim != 4:
        raise ValueError(f"interpolate: x must be (N, C, H, W), got shape {x.shape}")
    check.one_of(mode, "interpolate: mode", ("nearest", "bilinear"))
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners applies to bilinear only")
    align_corners = bool(check.boolean(align_corners, "interpolate: align_corners")) if align_corners is not None else False
    check.nonempty_maps(x.shape, x.shape, "interpolate")
    (Ho, Wo), (sh, sw) = _output_size(x.shape[2:], size, scale_factor)
    check.window_geometry("interpolate", (x.shape[0], x.shape[1], Ho, Wo), (1, 1), (1, 1))
    H, W = x.shape[2:]
    if mode == "nearest":
        rows, cols = _nearest_sources(H, Ho, sh), _nearest_sources(W, Wo, sw)
        return x[:, :, Tensor(rows)][:, :, :, Tensor(cols)]
    rh = Tensor(_linear_matrix(H, Ho, sh, align_corners, x.dtype))
    rw_t = Tensor(np.ascontiguousarray(_linear_matrix(W, Wo, sw, align_corners, x.dtype).T))
    return rh @ x @ rw_t


def upsample(x, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """The older name of :func:`interpolate`."""
    return interpolate(x, size, scale_factor, mode, align_corners)


def upsample_nearest(x, size=None, scale_factor=None) -> Tensor:
    """The older ``F.upsample_nearest``: :func:`interpolate` with ``mode='nearest'``."""
    return interpolate(x, size, scale_factor, "nearest")


def upsample_bilinear(x, size=None, scale_factor=None) -> Tensor:
    """The older ``F.upsample_bilinear``: :func:`interpolate` bilinear with ``align_corners=True``."""
    return interpolate(x, size, scale_factor, "bilinear", align_corners=True)


def pixel_shuffle(x, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C·r², H, W)`` into ``(*, C, H·r, W·r)`` (sub-pixel convolution's upsampling):
    out[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w].  A reshape and a permutation, so its
    gradient is the inverse rearrangement."""
    x = check.float_tensor(x, "x")
    r = check.positive_int(upscale_factor, "pixel_shuffle: upscale_factor")
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: x must be (*, C·r², H, W) with r = {r}, so its channels divisible by "
                         f"{r * r}; got shape {x.shape}")
    *lead, C, H, W = x.shape
    c = C // (r * r)
    n = len(lead)
    y = x.reshape(tuple(lead) + (c, r, r, H, W))
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(tuple(lead) + (c, H * r, W * r))


def pixel_unshuffle(x, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H·r, W·r)`` into ``(*, C·r², H, W)``."""
    x = check.float_tensor(x, "x")
    r = check.positive_int(downscale_factor, "pixel_unshuffle: downscale_factor")
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: x must be (*, C, H·r, W·r) with r = {r}, its height and width "
                         f"divisible by {r}; got shape {x.shape}")
    *lead, C, H, W = x.shape
    n = len(lead)
    y = x.reshape(tuple(lead) + (C, H // r, r, W // r, r))
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(tuple(lead) + (C * r * r, H // r, W // r))


def channel_shuffle(x, groups: int) -> Tensor:
    """ShuffleNet's shuffle: ``(N, g·k, ...)`` channels regrouped so that channel i·g + j of the
    output is channel j·k + i of the input (a reshape, a transpose, a reshape)."""
    x = check.float_tensor(x, "x")
    g = check.positive_int(groups, "channel_shuffle: groups")
    if x.ndim < 3 or x.shape[1] % g:
        raise ValueError(f"channel_shuffle: x must be (N, C, ...) with C divisible by groups={g}, got shape {x.shape}")
    N, C, *rest = x.shape
    return x.reshape((N, g, C // g) + tuple(rest)).transpose(1, 2).reshape(x.shape)
