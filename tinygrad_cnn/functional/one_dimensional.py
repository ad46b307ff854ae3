"""PyTorch's one-dimensional convolution and pooling (signals, sequences, time series).

Each is its two-dimensional twin on an input with a single row: ``(N, C, L)`` is viewed as
``(N, C, 1, L)``, the kernel ``k`` as ``(1, k)``, and the row is dropped again, so the
forward and the backward are the lecture's 2-D rules, run by the same kernels.
"""

from __future__ import annotations

from .. import _checks as check
from ..tensor import Tensor
from .conv import conv2d, conv_transpose2d
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = ["conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d"]

_LINE = "(N, C, L) or (C, L)"


def _rows(x, op: str) -> Tensor:
    """``x`` ``(N, C, L)`` or ``(C, L)`` with a row axis inserted before L."""
    x = check.float_tensor(x, "x")
    check.rank(x, (2, 3), "x", op, _LINE)
    return x.unsqueeze(-2)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """Z = W ⊛ V along one axis: ``x`` ``(N, C, L)``, ``weight`` ``(O, C/groups, k)``, ``bias``
    ``(O,)``; ``padding`` an int, ``'valid'`` or ``'same'``.  :func:`conv2d` on one row."""
    rows = _rows(x, "conv1d")
    weight = check.float_tensor(weight, "weight")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be (O, C/groups, k), got shape {weight.shape}")
    pad = padding if isinstance(padding, str) else (0, check.single(padding, "conv1d: padding", 0))
    z = conv2d(rows, weight.unsqueeze(-2), bias, (1, check.single(stride, "conv1d: stride")), pad,
               (1, check.single(dilation, "conv1d: dilation")), groups)
    return z.squeeze(-2)


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The transposed convolution along one axis: ``weight`` ``(C_in, C_out/groups, k)``.
    :func:`conv_transpose2d` on one row."""
    rows = _rows(x, "conv_transpose1d")
    weight = check.float_tensor(weight, "weight")
    if weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: weight must be (C_in, C_out/groups, k), got shape {weight.shape}")
    y = conv_transpose2d(rows, weight.unsqueeze(-2), bias, (1, check.single(stride, "conv_transpose1d: stride")),
                         (0, check.single(padding, "conv_transpose1d: padding", 0)),
                         (0, check.single(output_padding, "conv_transpose1d: output_padding", 0)), groups,
                         (1, check.single(dilation, "conv_transpose1d: dilation")))
    return y.squeeze(-2)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling along one axis (indices count along L, as PyTorch's)."""
    rows = _rows(x, "max_pool1d")
    k = check.single(kernel_size, "max_pool1d: kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else check.single(stride, "max_pool1d: stride")
    out = max_pool2d(rows, (1, k), (1, s), (0, check.single(padding, "max_pool1d: padding", 0)),
                     (1, check.single(dilation, "max_pool1d: dilation")), ceil_mode, return_indices)
    if return_indices:
        values, indices = out
        return values.squeeze(-2), indices.squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """Average pooling along one axis."""
    rows = _rows(x, "avg_pool1d")
    k = check.single(kernel_size, "avg_pool1d: kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else check.single(stride, "avg_pool1d: stride")
    return avg_pool2d(rows, (1, k), (1, s), (0, check.single(padding, "avg_pool1d: padding", 0)), ceil_mode,
                      count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(x, output_size) -> Tensor:
    """Average pooling to ``output_size`` positions along L (PyTorch's bins)."""
    rows = _rows(x, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(rows, (1, check.single(output_size, "adaptive_avg_pool1d: output_size"))).squeeze(-2)


def adaptive_max_pool1d(x, output_size, return_indices=False):
    """Max pooling to ``output_size`` positions along L (PyTorch's bins)."""
    rows = _rows(x, "adaptive_max_pool1d")
    out = adaptive_max_pool2d(rows, (1, check.single(output_size, "adaptive_max_pool1d: output_size")), return_indices)
    if return_indices:
        values, indices = out
        return values.squeeze(-2), indices.squeeze(-2)
    return out.squeeze(-2)
