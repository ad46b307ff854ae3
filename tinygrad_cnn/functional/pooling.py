"""Pooling (subsampling): max pooling, the lecture's average pooling, unpooling and adaptive pooling.

PyTorch's signatures and geometry: ``padding`` (at most half the window; −∞
for max pooling, zeros for average pooling), ``dilation`` (max pooling),
``ceil_mode`` (the last window may hang off the end), ``return_indices``
(flat ``p·W + q`` indices into each input map).
"""

from __future__ import annotations

from .. import _checks as check
from ..ops import pool as _pool
from ..tensor import Tensor

__all__ = ["max_pool2d", "avg_pool2d", "max_unpool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]


def _omitted(stride) -> bool:
    """No stride given: None, or an empty sequence as PyTorch also accepts (the window then)."""
    return stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)


def _pool_args(x, kernel_size, stride, op: str, padding=0, dilation=1, ceil_mode=False) -> tuple:
    """The checked 4-D view of ``x``, its rank and the pooling geometry (window, stride,
    padding, dilation, output size)."""
    x = check.float_tensor(x, "x")
    x4, rank = check.as_4d(x, "x", op)
    window = check.pair(kernel_size, "kernel_size", maximum=None)
    stride = window if _omitted(stride) else check.pair(stride, "stride", maximum=None)
    padding = check.pool_padding(padding, window, op)
    dilation = check.pair(dilation, "dilation")
    ceil_mode = check.boolean(ceil_mode, "ceil_mode")
    out_hw = check.pool_output(op, x4.shape, window, stride, padding, dilation, ceil_mode)
    return x4, rank, window, stride, padding, dilation, out_hw


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling z_{i,j} = max over the window's taps at (i·S − P + k·D, j·S − P + l·D).

    Stride defaults to the window; padding taps are −∞; sizes are floored unless
    ``ceil_mode``.  The gradient goes to the first maximum of each window in
    row-major order (NaN wins), and overlapping windows accumulate.  With
    ``return_indices`` also returns the int64 flat index ``p·W + q`` of each maximum.
    """
    return_indices = check.boolean(return_indices, "return_indices")
    x4, rank, window, stride, padding, dilation, out_hw = _pool_args(
        x, kernel_size, stride, "max_pool2d", padding, dilation, ceil_mode)
    keep = [] if return_indices else None
    z = check.from_4d(_pool.MaxPool2d.apply(x4, window=window, stride=stride, padding=padding,
                                            dilation=dilation, out_hw=out_hw, indices_out=keep), rank)
    if return_indices:
        return z, Tensor(check.from_4d(keep[0].copy(), rank))  # the backward keeps its own
    return z


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, weight=None) -> Tensor:
    """Average pooling.

    With ``weight=None`` the window mean (PyTorch's avg_pool2d): the sum over the
    window's taps inside the input divided by ``divisor_override``, else by the
    window clipped to the padded input (``count_include_pad``), else by the taps
    inside the input.  With ``weight`` a ``(C,)`` Tensor it is the lecture's
    Z = w ⊞(V): z_{i,j} = w^{h} · Σ(window), one trainable scalar per feature map
    (padding adds zeros), dA = w ⊠ dZ and dw^{h} = Σ dZ ∘ ⊞(A).
    """
    x4, rank, window, stride, padding, _, out_hw = _pool_args(
        x, kernel_size, stride, "avg_pool2d", padding, 1, ceil_mode)
    count_include_pad = check.boolean(count_include_pad, "count_include_pad")
    divisor = 0 if divisor_override is None else check.positive_int(divisor_override, "divisor_override",
                                                                    2 ** 63 - 1)
    geometry = dict(window=window, stride=stride, padding=padding, out_hw=out_hw)
    if weight is None:
        return check.from_4d(_pool.AvgPool2d.apply(x4, count_include_pad=count_include_pad, divisor=divisor,
                                                   **geometry), rank)
    if divisor or not count_include_pad:
        raise ValueError("avg_pool2d: divisor_override and count_include_pad=False apply to the mean; "
                         "the weighted form z = w·Σ(window) (weight given) has no divisor")
    return _weighted(x4, rank, weight, None, geometry, "avg_pool2d")


def subsampling(x, kernel_size, weight, bias, stride=None) -> Tensor:
    """LeNet-5's subsampling z = w^{h} · Σ(window) + b^{h}: :func:`avg_pool2d` with ``weight``
    and a per-map ``bias`` ``(C,)`` added in the same pass (``nn.Subsampling`` calls it)."""
    x4, rank, window, stride, padding, _, out_hw = _pool_args(x, kernel_size, stride, "subsampling")
    geometry = dict(window=window, stride=stride, padding=padding, out_hw=out_hw)
    return _weighted(x4, rank, weight, bias, geometry, "subsampling")


def _weighted(x4, rank, weight, bias, geometry, op) -> Tensor:
    """The lecture's w ⊞(V) (+ b) once ``x`` is checked: weight and bias one per feature map."""
    C = x4.shape[1]
    if weight is None:  # the Function takes (x, w) or (x, w, b): a bias alone would pass as w
        raise TypeError(f"{op}: weight must be a per-map tensor ({C},), got None"
                        + (" (a bias needs a weight)" if bias is not None else ""))
    params = [x4]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = check.float_tensor(p, name)
        if rank == 2 and p.shape == ():
            p = p.reshape(1)
        if p.shape != (C,):
            raise ValueError(f"{op}: {name} must have shape ({C},), one per feature map of x {x4.shape}, got {p.shape}")
        check.same_dtype(p, x4, name, "x", op)
        params.append(p)
    return check.from_4d(_pool.WeightedAvgPool2d.apply(*params, **geometry), rank)


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool2d`: each value of ``x`` goes to its index in the output,
    zeros elsewhere.  ``indices`` are those ``max_pool2d(..., return_indices=True)`` returned;
    the output is ``(H − 1)·S − 2P + k`` per axis unless ``output_size`` says otherwise.
    Differentiable with respect to ``x`` (dX gathers dY at the indices)."""
    x = check.float_tensor(x, "x")
    x4, rank = check.as_4d(x, "x", "max_unpool2d")
    window = check.pair(kernel_size, "kernel_size")
    stride = window if _omitted(stride) else check.pair(stride, "stride")
    padding = check.pair(padding, "padding", minimum=0)
    H, W = x4.shape[2:]
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip((H, W), stride, padding, window))
    out_hw = check.unpool_output_size(output_size, default, stride, "max_unpool2d")
    check.window_geometry("max_unpool2d", (x4.shape[0], x4.shape[1]) + out_hw, (1, 1), (1, 1))
    idx = indices.data if isinstance(indices, Tensor) else indices
    if rank != 4 and hasattr(idx, "shape") and idx.shape == x.shape:
        idx = idx.reshape(x4.shape)
    idx = check.unpool_indices(idx, x4.shape, out_hw, "max_unpool2d")
    return check.from_4d(_pool.MaxUnpool2d.apply(x4, indices=idx, out_hw=out_hw), rank)


def _adaptive_args(x, output_size, op: str) -> tuple:
    x = check.float_tensor(x, "x")
    x4, rank = check.as_4d(x, "x", op)
    check.nonempty_maps(x4.shape, x.shape, op)
    out_hw = check.adaptive_output_size(output_size, x4.shape[2:], op)
    check.window_geometry(op, (x4.shape[0], x4.shape[1]) + out_hw, (1, 1), (1, 1))
    return x4, rank, out_hw


def adaptive_avg_pool2d(x, output_size) -> Tensor:
    """Average pooling to a fixed ``output_size`` (int, or pair with ``None`` keeping that axis):
    window i spans rows floor(i·H/Ho) .. ceil((i+1)·H/Ho) − 1, columns likewise."""
    x4, rank, out_hw = _adaptive_args(x, output_size, "adaptive_avg_pool2d")
    return check.from_4d(_pool.AdaptiveAvgPool2d.apply(x4, out_hw=out_hw), rank)


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max pooling over the adaptive windows of :func:`adaptive_avg_pool2d`; with
    ``return_indices`` also the flat ``p·W + q`` index of each maximum."""
    return_indices = check.boolean(return_indices, "return_indices")
    x4, rank, out_hw = _adaptive_args(x, output_size, "adaptive_max_pool2d")
    keep = [] if return_indices else None
    z = check.from_4d(_pool.AdaptiveMaxPool2d.apply(x4, out_hw=out_hw, indices_out=keep), rank)
    if return_indices:
        return z, Tensor(check.from_4d(keep[0].copy(), rank))  # the backward keeps its own
    return z
