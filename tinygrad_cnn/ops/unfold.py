"""Windows as columns (``unfold``, im2col) and back (``fold``, col2im): each the other's adjoint,
so each backward is the other's forward (``kernels/unfold.py``)."""

from __future__ import annotations

from ..kernels.unfold import fold, unfold
from ..tensor import Function

__all__ = ["Unfold", "Fold"]


class Unfold(Function):
    """col = unfold(X): every window of X (zero-padded) as a column; dX = fold(dcol), each cell's
    gradient the sum over the windows that copied it."""

    fresh_grads = True

    @staticmethod
    def forward(ctx, x, *, kernel, stride, dilation, padding):
        ctx.geometry = (kernel, stride, dilation, padding)
        ctx.size = x.shape[2:]
        return unfold(x, kernel, stride, dilation, padding)

    rule = "dX {x} = fold(dcol {g}): each cell gets the sum of its copies' gradients"

    @staticmethod
    def backward(ctx, grad):
        return fold(grad, ctx.size, *ctx.geometry)


class Fold(Function):
    """Y = fold(col): every column added back into its window; dcol = unfold(dY)."""

    fresh_grads = True

    @staticmethod
    def forward(ctx, col, *, output_size, kernel, stride, dilation, padding):
        ctx.geometry = (kernel, stride, dilation, padding)
        return fold(col, output_size, kernel, stride, dilation, padding)

    rule = "dcol {x} = unfold(dY {g})"

    @staticmethod
    def backward(ctx, grad):
        return unfold(grad, *ctx.geometry)
