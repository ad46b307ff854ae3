"""More performance indices: robust regression, probabilities, divergences, margins, likelihoods
and the distances between embeddings.

Arrays reaching these Functions are validated (shapes, dtypes, ranges) by ``functional.loss``.
As in ``ops/loss.py`` each loss computes a per-element loss ℓ, reduces it by ``reduction``
(``'none'``, ``'sum'``, or ``'mean'``: Σ ℓ / D with D the element count) and its backward
scales each dℓ by the matching upstream g (the gradient itself, or grad / D).  Where the
inputs broadcast (PyTorch allows it for ``kl_div``, ``soft_margin_loss``,
``margin_ranking_loss``, ``hinge_embedding_loss``, ``gaussian_nll_loss``,
``poisson_nll_loss`` and the distances), ℓ has the broadcast shape and each input's
gradient is summed back over the axes it was broadcast along.

Each backward is PyTorch's rule, including its choices at the kinks (a clamp at 0 passes
the gradient at the tie) and its NaN gradients for targets at 0 (``kl_div``, ``poisson_nll_loss``
with ``full=True``), so that a model trained here and there sees the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Function
from .elementwise import unbroadcast
from .loss import _reduce, _reduce_reference, _upstream

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: The floor of x (1 − x) in the cross-entropy's gradient: PyTorch's 10⁻¹², a float32 constant.
_BCE_FLOOR = float(np.float32(1e-12))


def _to(d, shape, dtype):
    """``d`` (the loss's shape, or one that broadcasts to it) summed back to an input's ``shape``:
    a new array of the input's dtype."""
    d = np.asarray(d)
    shape = tuple(shape)
    full = np.broadcast_shapes(d.shape, shape)
    return np.array(unbroadcast(np.broadcast_to(d, full), shape), dtype=dtype)


class SmoothL1Loss(Function):
    """ℓ = ½ d² / β where |d| < β, else |d| − ½ β, with d = x − t (β = 0: ℓ = |d|).

    Backward: dX = clip(d / β, −1, 1) · g (β = 0: sign(d), 0 at d = 0),  dT = −dX.
    """

    @staticmethod
    def forward(ctx, x, t, *, reduction, beta):
        d = x - t
        ad = np.abs(d)
        loss = ad if beta == 0 else np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
        ctx.save_for_backward(d)
        ctx.reduction, ctx.beta = reduction, beta
        return _reduce(loss, reduction, d.size, x.dtype)

    rule = {0: "dx {0} = clip((x − t) / β, −1, 1) / count · dF̂ {g}",
            1: "dt {1} = −clip((x − t) / β, −1, 1) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        slope = np.sign(d) if ctx.beta == 0 else np.clip(d / ctx.beta, -1, 1)
        dx = slope * _upstream(grad, ctx.reduction, d.size, d.dtype)
        return dx, (-dx if ctx.needs_input_grad[1] else None)


class HuberLoss(Function):
    """ℓ = ½ d² where |d| < δ, else δ (|d| − ½ δ), with d = x − t.

    Backward: dX = clip(d, −δ, δ) · g,  dT = −dX.
    """

    @staticmethod
    def forward(ctx, x, t, *, reduction, delta):
        d = x - t
        ad = np.abs(d)
        loss = np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
        ctx.save_for_backward(d)
        ctx.reduction, ctx.delta = reduction, delta
        return _reduce(loss, reduction, d.size, x.dtype)

    rule = {0: "dx {0} = clip(x − t, −δ, δ) / count · dF̂ {g}", 1: "dt {1} = −clip(x − t, −δ, δ) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        dx = np.clip(d, -ctx.delta, ctx.delta) * _upstream(grad, ctx.reduction, d.size, d.dtype)
        return dx, (-dx if ctx.needs_input_grad[1] else None)


class BinaryCrossEntropy(Function):
    """ℓ = −w [t · max(log x, −100) + (1 − t) · max(log(1 − x), −100)] for probabilities x ∈ [0, 1]
    (the logs clamped at −100 as in PyTorch, so x = 0 or 1 gives a finite loss).

    Backward (PyTorch's): dX = w (x − t) / max(x (1 − x), 10⁻¹²) · g,  dT = −w logit(x) · g.
    """

    @staticmethod
    def forward(ctx, x, t, *, weight, reduction):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log(1 - x), -100)
        loss = (t - 1) * log_1mx - t * log_x
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.reduction = weight, reduction
        return _reduce(loss, reduction, x.size, x.dtype)

    rule = {0: "dx {0} = w (x − t) / (x (1 − x)) / count · dF̂ {g}", 1: "dt {1} = −w logit(x) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, x.size, x.dtype)
        w = g if ctx.weight is None else ctx.weight * g
        dx = _to((x - t) / np.maximum(x * (1 - x), _BCE_FLOOR) * w, x.shape, x.dtype)
        dt = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                dt = _to(-np.log(x / (1 - x)) * w, t.shape, x.dtype)
        return dx, dt


class KlDiv(Function):
    """The pointwise Kullback–Leibler term for log-probabilities x and a target t:

    * probabilities t:  ℓ = t log t − t x, with t log t = 0 where t = 0 (xlogy);
    * log-probabilities t (``log_target``):  ℓ = eᵗ (t − x).

    ``'batchmean'`` divides Σ ℓ by the batch size (x's first dimension), ``'mean'`` by the
    element count.  Backward: dX = −t · g,  dT = (log t + 1 − x) · g, NaN where t = 0 (PyTorch's
    xlogy rule, d(t log t)/dt = log t + t/t); with ``log_target`` dX = −eᵗ g, dT = eᵗ (t − x + 1) g.
    """

    @staticmethod
    def forward(ctx, x, t, *, reduction, log_target):
        if log_target:
            e = np.exp(t)
            loss = e * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(t == 0, 0, t * np.log(t)) - t * x
        if reduction == "batchmean":
            reduction, denom = "mean", (x.shape[0] if x.ndim else 1)
        else:
            denom = loss.size
        ctx.save_for_backward(x, t)
        ctx.log_target, ctx.reduction, ctx.denom = log_target, reduction, denom
        return _reduce(loss, reduction, denom, x.dtype)

    rule = {0: "dx {0} = −t / D · dF̂ {g}  (log target: −eᵗ)",
            1: "dt {1} = (log t + 1 − x) / D · dF̂ {g}  (log target: eᵗ (t − x + 1))"}

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, ctx.denom, x.dtype)
        e = np.exp(t) if ctx.log_target else t
        dx = _to(-e * g, x.shape, x.dtype)
        dt = None
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                dt = e * (t - x + 1) * g
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dt = (np.where(t != 0, np.log(t), 0) + t / t - x) * g
            dt = _to(dt, t.shape, x.dtype)
        return dx, dt


def _softplus(z):
    """log(1 + eᶻ) without overflow."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class SoftMarginLoss(Function):
    """ℓ = log(1 + e^{−y x}) for labels y (±1), computed without overflow (finite at |y x| = 1000).

    Backward: dX = −y σ(−y x) · g,  dY = −x σ(−y x) · g.
    """

    @staticmethod
    def forward(ctx, x, y, *, reduction):
        z = -y * x
        sp = _softplus(z)
        ctx.save_for_backward(x, y)
        ctx.sigma = np.exp(z - sp)  # σ(−y x) = e^{z − softplus(z)}, in (0, 1] for every z
        ctx.reduction = reduction
        return _reduce(sp, reduction, sp.size, x.dtype)

    rule = {0: "dx {0} = −y σ(−y x) / count · dF̂ {g}", 1: "dy {1} = −x σ(−y x) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        s = ctx.sigma * _upstream(grad, ctx.reduction, ctx.sigma.size, x.dtype)
        dx = _to(-y * s, x.shape, x.dtype)
        dy = _to(-x * s, y.shape, x.dtype) if ctx.needs_input_grad[1] else None
        return dx, dy


class CosineSimilarity(Function):
    """z = Σ_dim (x₁ / c₁)(x₂ / c₂) with cᵢ = max(‖xᵢ‖₂, ε) over ``dim`` (inputs broadcast first).

    Backward, PyTorch's (the clamp at ε is a constant, the norm's gradient passes through it):
    dX₁ = g [x₂ / (c₁ c₂) − z x₁ / (c₁ ‖x₁‖)], the second term 0 where ‖x₁‖ = 0; dX₂ alike.
    """

    @staticmethod
    def forward(ctx, x1, x2, *, dim, eps):
        a, b = np.broadcast_arrays(x1, x2)
        n1 = np.sqrt((a * a).sum(axis=dim, keepdims=True))
        n2 = np.sqrt((b * b).sum(axis=dim, keepdims=True))
        c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)
        out = ((a / c1) * (b / c2)).sum(axis=dim)
        ctx.save_for_backward(x1, x2)
        ctx.dim, ctx.norms, ctx.out = dim, (n1, n2, c1, c2), out
        return out.copy()  # the output is the caller's: backward keeps its own z

    rule = "dx {x} = (x' / (c c') − z x / (c ‖x‖)) ∘ dz {g}, c = max(‖x‖, ε)"

    @staticmethod
    def backward(ctx, grad):
        x1, x2 = ctx.saved_tensors
        a, b = np.broadcast_arrays(x1, x2)
        n1, n2, c1, c2 = ctx.norms
        g = np.expand_dims(grad, ctx.dim)
        z = np.expand_dims(ctx.out, ctx.dim)

        def one(u, v, n, c, c_other):
            unit = np.divide(u, n, out=np.zeros(np.broadcast_shapes(u.shape, n.shape), u.dtype), where=n != 0)
            return g * (v / (c * c_other) - (z / c) * unit)

        d1 = _to(one(a, b, n1, c1, c2), x1.shape, x1.dtype) if ctx.needs_input_grad[0] else None
        d2 = _to(one(b, a, n2, c2, c1), x2.shape, x2.dtype) if ctx.needs_input_grad[1] else None
        return d1, d2


def _pnorm(a, p):
    """‖·‖_p of |d| = ``a`` over the last axis, keeping it (p = 0 counts the non-zero elements)."""
    if p == 2:
        return np.sqrt((a * a).sum(axis=-1, keepdims=True))
    if p == math.inf:
        return np.max(a, axis=-1, keepdims=True, initial=0)
    if p == 0:
        return (a != 0).sum(axis=-1, keepdims=True).astype(a.dtype)
    if p == 1:
        return a.sum(axis=-1, keepdims=True)
    return (a ** p).sum(axis=-1, keepdims=True) ** (1.0 / p)


class PairwiseDistance(Function):
    """z = ‖x₁ − x₂ + ε‖_p over the last axis (inputs broadcast first).

    Backward, PyTorch's norm rule with d = x₁ − x₂ + ε and n = z:  dX₁ = −dX₂ = G,
    G = d |d|^{p−2} / n^{p−1} · g (0 where n = 0; sign(d)·g for p = 1, 0 for p = 0;
    p = ∞: sign(d) g shared equally by the entries where |d| = n).
    """

    @staticmethod
    def forward(ctx, x1, x2, *, p, eps, keepdim):
        d = x1 - x2 + eps
        n = _pnorm(np.abs(d), p)
        ctx.save_for_backward(x1, x2)
        ctx.d, ctx.n, ctx.p, ctx.keepdim = d, n, p, keepdim
        return n.copy() if keepdim else n[..., 0].copy()  # the output is the caller's, ctx.n backward's

    rule = {0: "dx₁ {0} = d |d|^(p−2) / ‖d‖^(p−1) ∘ dz {g}, d = x₁ − x₂ + ε",
            1: "dx₂ {1} = −d |d|^(p−2) / ‖d‖^(p−1) ∘ dz {g}, d = x₁ − x₂ + ε"}

    @staticmethod
    def backward(ctx, grad):
        x1, x2 = ctx.saved_tensors
        d, n, p = ctx.d, ctx.n, ctx.p
        g = grad if ctx.keepdim else grad[..., None]
        zero = d.dtype.type(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                G = np.zeros_like(d)
            elif p == 1:
                G = np.sign(d) * g
            elif p == math.inf:
                mask = (np.abs(d) == n) | np.isnan(d)
                G = np.sign(d) * (g / mask.sum(axis=-1, keepdims=True)) * mask
            elif p < 1:
                G = np.sign(d) * np.where(d == 0, zero, np.abs(d) ** (p - 1)) * g * n ** (1 - p)
            elif p == 2:
                G = d * np.where(n == 0, zero, g / n)
            elif p < 2:
                G = np.sign(d) * np.abs(d) ** (p - 1) * np.where(n == 0, zero, g / n ** (p - 1))
            else:
                G = d * np.abs(d) ** (p - 2) * np.where(n == 0, zero, g / n ** (p - 1))
        d1 = _to(G, x1.shape, x1.dtype) if ctx.needs_input_grad[0] else None
        d2 = _to(-G, x2.shape, x2.dtype) if ctx.needs_input_grad[1] else None
        return d1, d2


class MarginRankingLoss(Function):
    """ℓ = max(0, −y (x₁ − x₂) + margin) for labels y (±1: which input should rank higher).

    Backward, with a = [−y (x₁ − x₂) + margin ≥ 0] (the tie passes, as PyTorch's clamp):
    dX₁ = −y a g,  dX₂ = y a g,  dY = −(x₁ − x₂) a g.
    """

    @staticmethod
    def forward(ctx, x1, x2, y, *, margin, reduction):
        z = -y * (x1 - x2) + margin
        loss = np.maximum(z, 0)
        ctx.save_for_backward(x1, x2, y)
        ctx.active, ctx.reduction = z >= 0, reduction
        return _reduce(loss, reduction, loss.size, x1.dtype)

    rule = {0: "dx₁ {0} = −y [ℓ ≥ 0] / count · dF̂ {g}", 1: "dx₂ {1} = y [ℓ ≥ 0] / count · dF̂ {g}",
            2: "dy {2} = −(x₁ − x₂) [ℓ ≥ 0] / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        x1, x2, y = ctx.saved_tensors
        a = ctx.active
        s = np.where(a, _upstream(grad, ctx.reduction, a.size, x1.dtype), x1.dtype.type(0))
        need = ctx.needs_input_grad
        return (_to(-y * s, x1.shape, x1.dtype) if need[0] else None,
                _to(y * s, x2.shape, x1.dtype) if need[1] else None,
                _to(-(x1 - x2) * s, y.shape, x1.dtype) if need[2] else None)


class HingeEmbeddingLoss(Function):
    """ℓ = x where y = 1, max(0, margin − x) where y = −1 (any other y: both terms, as PyTorch).

    Backward: dX = ([y ≠ −1] − [y ≠ 1][margin − x ≥ 0]) · g; the labels y get no gradient.
    """

    @staticmethod
    def forward(ctx, x, y, *, margin, reduction):
        gap = margin - x
        not_pos, not_neg = y != 1, y != -1
        loss = np.where(not_pos, np.maximum(gap, 0), 0) + np.where(not_neg, x, 0)
        ctx.slope = not_neg.astype(x.dtype) - (not_pos & (gap >= 0))
        ctx.shape, ctx.reduction = x.shape, reduction
        return _reduce(loss, reduction, loss.size, x.dtype)

    rule = {0: "dx {0} = ([y ≠ −1] − [y ≠ 1][margin ≥ x]) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        s = ctx.slope  # the loss's shape
        return _to(s * _upstream(grad, ctx.reduction, s.size, s.dtype), ctx.shape, s.dtype), None


class GaussianNllLoss(Function):
    """ℓ = ½ (log v + (x − t)² / v) [+ ½ log 2π with ``full``], v = max(var, ε).

    Backward, PyTorch's (the clamp at ε is a constant, as its no-grad clamp): with d = x − t,
    dX = d / v · g,  dT = −dX,  dVar = ½ (1 / v − d² / v²) · g.
    """

    @staticmethod
    def forward(ctx, x, t, var, *, full, eps, reduction):
        v = np.maximum(var, eps)
        d = x - t
        loss = 0.5 * (np.log(v) + d * d / v)
        if full:
            loss = loss + _HALF_LOG_2PI
        ctx.save_for_backward(x, t, var)
        ctx.dv, ctx.reduction = (d, v), reduction
        return _reduce(loss, reduction, loss.size, x.dtype)  # loss: the three shapes broadcast

    rule = {0: "dx {0} = (x − t) / var / count · dF̂ {g}", 1: "dt {1} = −(x − t) / var / count · dF̂ {g}",
            2: "dvar {2} = ½ (1/var − (x − t)²/var²) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        x, t, var = ctx.saved_tensors
        d, v = ctx.dv
        g = _upstream(grad, ctx.reduction, math.prod(np.broadcast_shapes(x.shape, t.shape, var.shape)), x.dtype)
        dx = d / v * g
        need = ctx.needs_input_grad
        return (_to(dx, x.shape, x.dtype) if need[0] else None,
                _to(-dx, t.shape, x.dtype) if need[1] else None,
                _to(0.5 * (1 / v - d * d / (v * v)) * g, var.shape, x.dtype) if need[2] else None)


class PoissonNllLoss(Function):
    """ℓ = eˣ − t x for a log-rate x (``log_input``), else x − t log(x + ε) for a rate x;
    ``full`` adds Stirling's t log t − t + ½ log(2π t) where t > 1.

    Backward: dX = (eˣ − t) · g, or (1 − t / (x + ε)) · g;  dT = −x · g, or −log(x + ε) · g,
    plus [t > 1] (log t + 1/(2t)) · g with ``full`` (NaN for t ≤ 0, where PyTorch's graph
    multiplies the masked 0 by log t).
    """

    @staticmethod
    def forward(ctx, x, t, *, log_input, full, eps, reduction):
        loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
        if full:
            with np.errstate(divide="ignore", invalid="ignore"):
                stirling = t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t)
            loss = loss + np.where(t <= 1, 0, stirling)
        ctx.save_for_backward(x, t)
        ctx.log_input, ctx.full, ctx.eps, ctx.reduction = log_input, full, eps, reduction
        return _reduce(loss, reduction, loss.size, x.dtype)

    rule = {0: "dx {0} = (eˣ − t) / count · dF̂ {g}  (a rate x: 1 − t / (x + ε))",
            1: "dt {1} = −x / count · dF̂ {g}  (a rate x: −log(x + ε); full: + log t + 1/(2t) where t > 1)"}

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        shape = np.broadcast_shapes(x.shape, t.shape)
        g = np.broadcast_to(_upstream(grad, ctx.reduction, math.prod(shape), x.dtype), shape)
        if ctx.log_input:
            dx, dt = (np.exp(x) - t) * g, -x * g
        else:
            dx = (1 - t / (x + ctx.eps)) * g
            dt = -np.log(x + ctx.eps) * g if ctx.needs_input_grad[1] else None
        if ctx.needs_input_grad[1] and ctx.full:
            with np.errstate(divide="ignore", invalid="ignore"):
                masked = np.where(t <= 1, 0, g)
                dt = dt + masked * (np.log(t) + 0.5 / t)
        return (_to(dx, x.shape, x.dtype),
                _to(dt, t.shape, x.dtype) if ctx.needs_input_grad[1] else None)


# --------------------------------------------------------------- naive references (one element at a time)
def _f64(*arrays):
    """The arrays as float64, broadcast to their common shape."""
    return np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))


def _elementwise_reference(fn, arrays, reduction, batch=None):
    """ℓ = fn(elements...) at every position of the broadcast arrays, then reduced."""
    arrays = _f64(*arrays)
    shape = arrays[0].shape
    losses = [fn(*(float(v) for v in values)) for values in zip(*(a.ravel() for a in arrays))]
    if reduction == "batchmean":
        return _reduce_reference(losses, "mean", batch, shape)
    return _reduce_reference(losses, reduction, len(losses), shape)


def smooth_l1_loss_reference(input, target, reduction="mean", beta=1.0):
    """ℓ = ½ d²/β for |d| < β, else |d| − ½β, element by element."""
    def f(x, t):
        d = abs(x - t)
        return d - 0.5 * beta if d >= beta else 0.5 * d * d / beta
    return _elementwise_reference(f, (input, target), reduction)


def huber_loss_reference(input, target, reduction="mean", delta=1.0):
    """ℓ = ½ d² for |d| < δ, else δ (|d| − ½δ), element by element."""
    def f(x, t):
        d = abs(x - t)
        return 0.5 * d * d if d < delta else delta * (d - 0.5 * delta)
    return _elementwise_reference(f, (input, target), reduction)


def binary_cross_entropy_reference(input, target, weight=None, reduction="mean"):
    """ℓ = −w [t log x + (1 − t) log(1 − x)], each log at least −100."""
    def clamped_log(v):
        return max(math.log(v), -100.0) if v > 0 else -100.0

    def f(x, t, w):
        return -w * (t * clamped_log(x) + (1 - t) * clamped_log(1 - x))
    w = np.ones(np.shape(input)) if weight is None else np.broadcast_to(weight, np.shape(input))
    return _elementwise_reference(f, (input, target, w), reduction)


def kl_div_reference(input, target, reduction="mean", log_target=False):
    """ℓ = t (log t − x) (0 where t = 0), or eᵗ (t − x) for log-probability targets."""
    def f(x, t):
        if log_target:
            return math.exp(t) * (t - x)
        return (0.0 if t == 0 else t * math.log(t)) - t * x
    batch = np.shape(input)[0] if np.ndim(input) else 1
    return _elementwise_reference(f, (input, target), reduction, batch)


def soft_margin_loss_reference(input, target, reduction="mean"):
    """ℓ = log(1 + e^{−y x}), element by element (moderate y x)."""
    return _elementwise_reference(lambda x, y: math.log(1 + math.exp(-y * x)), (input, target), reduction)


def margin_ranking_loss_reference(input1, input2, target, margin=0.0, reduction="mean"):
    """ℓ = max(0, −y (x₁ − x₂) + margin), element by element."""
    return _elementwise_reference(lambda a, b, y: max(0.0, -y * (a - b) + margin), (input1, input2, target),
                                  reduction)


def hinge_embedding_loss_reference(input, target, margin=1.0, reduction="mean"):
    """ℓ = x for y = 1, max(0, margin − x) for y = −1 (other labels: the sum of both)."""
    def f(x, y):
        return (max(0.0, margin - x) if y != 1 else 0.0) + (x if y != -1 else 0.0)
    return _elementwise_reference(f, (input, target), reduction)


def gaussian_nll_loss_reference(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """ℓ = ½ (log v + (x − t)²/v) [+ ½ log 2π], v = max(var, ε); ``var`` already broadcastable."""
    def f(x, t, v):
        v = max(v, eps)
        return 0.5 * (math.log(v) + (x - t) ** 2 / v) + (0.5 * math.log(2 * math.pi) if full else 0.0)
    return _elementwise_reference(f, (input, target, var), reduction)


def poisson_nll_loss_reference(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """ℓ = eˣ − t x, or x − t log(x + ε); Stirling's term for t > 1 with ``full``."""
    def f(x, t):
        loss = math.exp(x) - t * x if log_input else x - t * math.log(x + eps)
        if full and t > 1:
            loss += t * math.log(t) - t + 0.5 * math.log(2 * math.pi * t)
        return loss
    return _elementwise_reference(f, (input, target), reduction)


def _rows(a, axis):
    """The 1-D slices of ``a`` along ``axis``, and the shape of what is left."""
    a = np.moveaxis(a, axis, -1)
    return a.reshape(-1, a.shape[-1]), a.shape[:-1]


def cosine_similarity_reference(x1, x2, dim=1, eps=1e-8):
    """z = Σ (x₁ / max(‖x₁‖, ε)) (x₂ / max(‖x₂‖, ε)), one slice along ``dim`` at a time."""
    a, b = _f64(x1, x2)
    rows_a, shape = _rows(a, dim)
    rows_b, _ = _rows(b, dim)
    out = []
    for u, v in zip(rows_a, rows_b):
        cu = max(math.sqrt(sum(e * e for e in u)), eps)
        cv = max(math.sqrt(sum(e * e for e in v)), eps)
        out.append(sum((p / cu) * (q / cv) for p, q in zip(u, v)))
    return np.array(out, dtype=np.float64).reshape(shape)


def _distance(u, v, p, eps):
    d = [abs(a - b + eps) for a, b in zip(u, v)]
    if p == math.inf:
        return max(d, default=0.0)
    if p == 0:
        return float(sum(e != 0 for e in d))
    return sum(e ** p for e in d) ** (1.0 / p)


def pairwise_distance_reference(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """z = (Σ |x₁ − x₂ + ε|^p)^{1/p} over the last axis, one row at a time."""
    a, b = _f64(x1, x2)
    if a.ndim == 0:
        return np.float64(_distance([float(a)], [float(b)], p, eps))
    rows_a, shape = _rows(a, -1)
    rows_b, _ = _rows(b, -1)
    out = np.array([_distance(u, v, p, eps) for u, v in zip(rows_a, rows_b)], dtype=np.float64).reshape(shape)
    return out[..., None] if keepdim else out


def triplet_margin_loss_reference(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                                  reduction="mean"):
    """ℓ = max(0, margin + d(a, p) − d(a, n)), d the pairwise distance (``swap``: d(a, n) becomes
    min(d(a, n), d(p, n)))."""
    d_ap = pairwise_distance_reference(anchor, positive, p, eps)
    d_an = pairwise_distance_reference(anchor, negative, p, eps)
    if swap:
        d_an = np.minimum(d_an, pairwise_distance_reference(positive, negative, p, eps))
    return _elementwise_reference(lambda a, n: max(0.0, margin + a - n), (d_ap, d_an), reduction)
