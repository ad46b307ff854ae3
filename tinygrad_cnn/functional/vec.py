"""The lecture's vec (column stacking) and its inverse."""

from __future__ import annotations

from .. import _checks as check
from ..ops import vec as _vec
from ..tensor import Tensor

__all__ = ["vec", "unvec"]


def vec(x) -> Tensor:
    """The lecture's vec: stack the columns of each feature map, first map to last.

    ``(N, C, H, W) -> (N, C·H·W)`` and ``(C, H, W) -> (C·H·W,)``; element (c, i, j)
    lands at ``c·H·W + j·H + i``.
    """
    x = check.tensor(x, "x")
    check.rank(x, (3, 4), "x", "vec", "(N, C, H, W) or (C, H, W)")
    return _vec.Vec.apply(x)


def unvec(v, shape) -> Tensor:
    """Inverse of :func:`vec`: ``(N, C·H·W) -> (N, C, H, W)`` and ``(C·H·W,) -> (C, H, W)``."""
    v = check.tensor(v, "v")
    C, H, W = check.positive_shape(shape, "shape (C, H, W)", 3, "unvec")
    check.rank(v, (1, 2), "v", "unvec", "(N, C*H*W) or (C*H*W,)")
    if v.shape[-1] != C * H * W:
        raise ValueError(
            f"unvec: v of shape {v.shape} does not hold C*H*W = {C * H * W} elements per example for {tuple(shape)}"
        )
    return _vec.Unvec.apply(v, chw=(C, H, W))
