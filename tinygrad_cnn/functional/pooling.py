"""Pooling (subsampling): max pooling and the lecture's average pooling."""

from __future__ import annotations

from .. import _checks as check
from ..ops import pool as _pool
from ..tensor import Tensor

__all__ = ["max_pool2d", "avg_pool2d"]


def _pool_args(x, kernel_size, stride, op: str) -> tuple:
    """The checked 4-D view of ``x``, its rank, the window and the stride of a pooling."""
    x = check.float_tensor(x, "x")
    x4, rank = check.as_4d(x, "x", op)
    window = check.pair(kernel_size, "kernel_size", maximum=None)
    stride = window if stride is None else check.pair(stride, "stride", maximum=None)
    H, W = x4.shape[2:]
    if check.output_size(H, window[0], stride[0]) < 1 or check.output_size(W, window[1], stride[1]) < 1:
        raise ValueError(f"{op}: kernel_size {window} is larger than the input's spatial size ({H}, {W}) (x {x.shape})")
    check.window_geometry(op, x4.shape, window, stride)
    return x4, rank, window, stride


def max_pool2d(x, kernel_size, stride=None) -> Tensor:
    """Max pooling z_{i,j} = max over the window at (i·S, j·S); stride defaults to the window.

    Sizes that do not divide are floored (as PyTorch); the gradient goes to the first
    maximum of each window in row-major order, and overlapping windows accumulate.
    """
    x4, rank, window, stride = _pool_args(x, kernel_size, stride, "max_pool2d")
    return check.from_4d(_pool.MaxPool2d.apply(x4, window=window, stride=stride), rank)


def avg_pool2d(x, kernel_size, stride=None, weight=None) -> Tensor:
    """Average pooling.

    With ``weight=None`` the window mean (PyTorch's avg_pool2d).  With ``weight``
    a ``(C,)`` Tensor it is the lecture's Z = w ⊞(V): z_{i,j} = w^{h} · Σ(window),
    one trainable scalar per feature map, dA = w ⊠ dZ and dw^{h} = Σ dZ ∘ ⊞(A).
    """
    x4, rank, window, stride = _pool_args(x, kernel_size, stride, "avg_pool2d")
    if weight is None:
        return check.from_4d(_pool.AvgPool2d.apply(x4, window=window, stride=stride), rank)
    weight = check.float_tensor(weight, "weight")
    C = x4.shape[1]
    if rank == 2 and weight.shape == ():
        weight = weight.reshape(1)
    if weight.shape != (C,):
        raise ValueError(
            f"avg_pool2d: weight must have shape ({C},), one per feature map of x {x4.shape}, got {weight.shape}"
        )
    check.same_dtype(weight, x4, "weight", "x", "avg_pool2d")
    return check.from_4d(_pool.WeightedAvgPool2d.apply(x4, weight, window=window, stride=stride), rank)
