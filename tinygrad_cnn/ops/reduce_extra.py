"""More reductions: variance, the 2-norm, and picking values at indices (max/min with dim).

(``Min`` over axes lives beside ``Max`` in ``reduce.py``.)  ``max(dim)``/``min(dim)`` in PyTorch
return values *and* indices and route the whole gradient to the index returned;
that is :class:`TakeAlong`: the values are picked by the (non-differentiable)
indices and the backward scatters dy back to exactly those places.
"""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..tensor import Function
from .reduce import expand_reduced


def _centred(x, axis, correction):
    """x − x̄ over the axes, the corrected count max(0, N − correction) the forward divides by,
    and N − correction itself, which the backward divides by (PyTorch's rules), for Var and Std."""
    axes = check.reduce_axes(axis, x.shape, "var")
    n = int(np.prod([x.shape[a] for a in axes]))
    with np.errstate(invalid="ignore"):
        centred = x - x.mean(axis=axes, keepdims=True)
    return axes, centred, x.dtype.type(max(0, n - correction)), x.dtype.type(n - correction)


class Var(Function):
    """s² = Σ (x − x̄)² / max(0, N − correction) over the axes (N elements each);
    dx = 2 (x − x̄) dy / (N − correction).  (The −x̄ term's own gradient sums to
    zero because Σ (x − x̄) = 0.)  N ≤ correction gives an infinite s² and, for N < correction,
    the finite gradient of the unclamped count, as PyTorch."""

    @staticmethod
    def forward(ctx, x, axis, correction, keepdims):
        axes, centred, denom, ctx.denom = _centred(x, axis, correction)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (centred * centred).sum(axis=axes, keepdims=keepdims) / denom
        ctx.save_for_backward(centred)
        ctx.axes, ctx.keepdims = axes, keepdims
        return np.asarray(out)

    rule = "dX {x} = 2 (x − x̄) ∘ dY {g} / (N − correction)"

    @staticmethod
    def backward(ctx, grad):
        (centred,) = ctx.saved_tensors
        g = expand_reduced(grad, ctx.axes, ctx.keepdims, centred.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 2 * centred * g / ctx.denom


class Std(Function):
    """s = √(s²) with s² as in :class:`Var`; dx = (x − x̄) dy / (s · (N − correction)),
    and 0 where s = 0 (a constant slice: PyTorch's choice, not the 0 · ∞ of the chain rule)."""

    @staticmethod
    def forward(ctx, x, axis, correction, keepdims):
        axes, centred, denom, ctx.denom = _centred(x, axis, correction)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sqrt((centred * centred).sum(axis=axes, keepdims=True) / denom)
        ctx.save_for_backward(centred, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.asarray(np.squeeze(out, axis=axes))

    rule = "dX {x} = (x − x̄) ∘ dY {g} / (s (N − correction))"

    @staticmethod
    def backward(ctx, grad):
        centred, out = ctx.saved_tensors
        if not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(out == 0, centred.dtype.type(0), grad / (out * ctx.denom))
        return centred * scale


def var_reference(x: np.ndarray, axis: int, correction: int) -> np.ndarray:
    """Two passes of plain loops along one axis: the mean, then the corrected sum of squares."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape[:-1])
    n = moved.shape[-1]
    for k in np.ndindex(out.shape):
        mean = 0.0
        for v in moved[k]:
            mean += v
        mean /= n
        ss = 0.0
        for v in moved[k]:
            ss += (v - mean) ** 2
        out[k] = ss / max(0, n - correction) if n > correction else (np.inf if ss > 0 else np.nan)
    return out


class Norm(Function):
    """‖x‖₂ = √(Σ x²) over the axes; dx = x dy / ‖x‖₂, and 0 where ‖x‖₂ = 0 (PyTorch's choice)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = check.reduce_axes(axis, x.shape, "norm")
        out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.asarray(np.squeeze(out, axis=axes))

    rule = "dX {x} = x ∘ dY {g} / ‖x‖₂"

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(out == 0, x.dtype.type(0), grad / out)
        return x * scale


def arg_extreme(x: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """Index of the first maximum (minimum) along ``axis``, keeping the axis; NaN counts as the
    extreme, as in PyTorch and numpy."""
    return (np.argmax if largest else np.argmin)(x, axis=axis, keepdims=True)


def arg_extreme_reference(x: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """Plain loop: scan each line along ``axis`` and keep the first strictly better value (NaN wins)."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=np.int64)
    for k in np.ndindex(out.shape):
        best = 0
        for i, v in enumerate(moved[k]):
            b = moved[k][best]
            if np.isnan(b):
                break
            if np.isnan(v) or (v > b if largest else v < b):
                best = i
        out[k] = best
    return np.expand_dims(out, axis)


class TakeAlong(Function):
    """y = x at ``indices`` along ``axis`` (indices keep the axis, of length 1 here);
    dx = dy scattered to those indices, zeros elsewhere: max(dim)'s gradient goes to the
    one index it returned."""

    @staticmethod
    def forward(ctx, x, indices, axis):
        ctx.indices, ctx.axis, ctx.shape = indices, axis, x.shape
        return np.take_along_axis(x, indices, axis=axis)

    rule = "dX {x} = dY {g} put back at the picked indices, 0 elsewhere"

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(full, ctx.indices, grad, axis=ctx.axis)
        return full


class CumSum(Function):
    """y_i = Σ_{j ≤ i} x_j along ``axis``; dx_j = Σ_{i ≥ j} dy_i, the cumulative sum of dY
    taken from the far end."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    rule = "dX {x} = Σ_(i ≥ j) dY {g}, the cumulative sum of dY from the far end"

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


def cumsum_reference(x: np.ndarray, axis: int) -> np.ndarray:
    """Plain running sums along ``axis``."""
    moved = np.moveaxis(np.asarray(x), axis, -1)
    out = np.empty_like(moved)
    for k in np.ndindex(moved.shape[:-1]):
        total = moved.dtype.type(0)
        for i, v in enumerate(moved[k]):
            total = total + v
            out[k + (i,)] = total
    return np.moveaxis(out, -1, axis)


class LogSumExp(Function):
    """y = log Σ eˣ over the axes, computed as m + log Σ e^(x − m) with m the slice's maximum (0
    where that is infinite, as PyTorch); dx = e^(x − y) ∘ dy (the softmax of the slice)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = check.reduce_axes(axis, x.shape, "logsumexp")
        if x.size == 0:
            out = np.log(np.exp(x).sum(axis=axes, keepdims=True))
        else:
            m = x.max(axis=axes, keepdims=True)
            m = np.where(np.isinf(m), x.dtype.type(0), m)
            with np.errstate(divide="ignore"):
                out = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    rule = "dX {x} = e^(x − y) ∘ dY {g}"

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        g = expand_reduced(grad, ctx.axes, ctx.keepdims, x.shape)
        with np.errstate(invalid="ignore"):  # a slice of −inf only: nan, as PyTorch's
            return g * np.exp(x - out)


class Prod(Function):
    """y = Π x over the axes; dx_i = dy · Π_{j≠i} x_j, the product of the others, taken from
    the running products before and after i, so that a zero in the slice gives the exact
    gradient (not 0/0)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = check.reduce_axes(axis, x.shape, "prod")
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        return np.asarray(x.prod(axis=axes, keepdims=keepdims))

    rule = "dX {x} = dY {g} ∘ Π of the other elements of the slice"

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axes = ctx.axes
        g = expand_reduced(grad, axes, ctx.keepdims, x.shape)
        if x.size == 0:
            return np.zeros(x.shape, dtype=g.dtype)
        # the reduced axes side by side as one, last: (..., n)
        kept = [a for a in range(x.ndim) if a not in axes]
        flat = np.transpose(x, kept + list(axes)).reshape([x.shape[a] for a in kept] + [-1])
        ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = (before * after).reshape([x.shape[a] for a in kept] + [x.shape[a] for a in axes])
        others = np.transpose(others, np.argsort(kept + list(axes)))
        return g * others


class Triangle(Function):
    """y = x with the elements above (``upper=False``: tril) or below (triu) the ``diagonal``-th
    diagonal of the last two axes set to 0; dx = dy masked the same way."""

    @staticmethod
    def forward(ctx, x, *, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (np.triu if upper else np.tril)(x, diagonal)

    rule = "dX {x} = dY {g} with the same triangle kept"

    @staticmethod
    def backward(ctx, grad):
        return (np.triu if ctx.upper else np.tril)(grad, ctx.diagonal)


class CumProd(Function):
    """y_i = Π_{k≤i} x_k along ``axis``; dx_i = Σ_{j≥i} dy_j · Π_{k≤j, k≠i} x_k.

    Without zeros in a slice that is the reversed cumulative sum of dy ∘ y, divided by x (as
    PyTorch computes it); a slice holding a zero takes the products of the others directly.
    """

    fresh_grads = True

    @staticmethod
    def forward(ctx, x, *, axis):
        out = np.cumprod(x, axis=axis)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    rule = "dX_i {x} = Σ_(j≥i) dY_j {g} · Π_(k≤j, k≠i) x_k"

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xs = np.moveaxis(x, ctx.axis, -1)
        ys = np.moveaxis(out, ctx.axis, -1)
        gs = np.moveaxis(grad, ctx.axis, -1)
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.flip(np.cumsum(np.flip(gs * ys, -1), axis=-1), -1) / xs
        zero_rows = np.argwhere((xs == 0).any(axis=-1))
        n = xs.shape[-1]
        for row in map(tuple, zero_rows):  # the products of the others, without dividing by 0
            v, g = xs[row], gs[row]
            d = np.zeros(n, dtype=dx.dtype)
            for i in range(n):
                before = np.prod(v[:i])
                running = before
                total = 0.0
                for j in range(i, n):
                    if j > i:
                        running = running * v[j]
                    total += g[j] * running
                d[i] = total
            dx[row] = d
        return np.ascontiguousarray(np.moveaxis(dx, -1, ctx.axis))
