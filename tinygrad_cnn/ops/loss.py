"""Performance indices F̂: squared and absolute error, cross-entropy, NLL, binary cross-entropy.

Arrays reaching these Functions are validated by ``functional.loss``.  Every
loss computes a per-element (or per-position) loss ℓ and reduces it by
``reduction``: ``'none'`` keeps ℓ, ``'sum'`` gives Σ ℓ, ``'mean'`` gives Σ ℓ / D
(D the element count, or for class-index targets the summed weight of the
targets that are not ignored, PyTorch's rule).  The backward scales each dℓ
by the matching upstream g: the gradient itself, or grad / D, broadcast.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function


def _reduce(loss, reduction, denom, dtype):
    """ℓ reduced; a mean over zero weight is NaN, as in PyTorch."""
    if reduction == "none":
        return loss.astype(dtype, copy=False)
    total = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / denom
    return np.asarray(total, dtype=dtype)


def _upstream(grad, reduction, denom, dtype):
    """g, the gradient of F̂ with respect to each ℓ (0 when a mean has no weight to divide by)."""
    if reduction == "mean":
        return (grad / denom).astype(dtype) if denom != 0 else np.zeros((), dtype)
    return np.asarray(grad, dtype=dtype)


class MSELoss(Function):
    """ℓ = (p − t)²;  dP = 2 (p − t) · g,  dT = −dP."""

    @staticmethod
    def forward(ctx, pred, target, *, reduction="mean"):
        diff = pred - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return _reduce(diff * diff, reduction, diff.size, pred.dtype)

    rule = {0: "dp {0} = 2 (p − t) / count · dF̂ {g}", 1: "dt {1} = −2 (p − t) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        d = diff * (2 * _upstream(grad, ctx.reduction, diff.size, diff.dtype))
        return d, (-d if ctx.needs_input_grad[1] else None)


class L1Loss(Function):
    """ℓ = |p − t|;  dP = sign(p − t) · g (0 where p = t, as PyTorch),  dT = −dP."""

    @staticmethod
    def forward(ctx, pred, target, *, reduction="mean"):
        diff = pred - target
        ctx.save_for_backward(np.sign(diff))
        ctx.reduction = reduction
        return _reduce(np.abs(diff), reduction, diff.size, pred.dtype)

    rule = {0: "dp {0} = sign(p − t) / count · dF̂ {g}", 1: "dt {1} = −sign(p − t) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        (sign,) = ctx.saved_tensors
        d = sign * _upstream(grad, ctx.reduction, sign.size, sign.dtype)
        return d, (-d if ctx.needs_input_grad[1] else None)


def _log_softmax_last(x):
    """log softmax over the last axis, shifted by the maximum (finite at logits of ±1000)."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class CrossEntropy(Function):
    """F̂ from log softmax over the class axis 1 of ``(N, C, d1, ...)`` logits, fused for stability.

    Per position s (an example, or an example's pixel), with p_s = softmax(z_s),
    weights w_c (1 without ``weight``) and smoothing ε, the loss is
    ℓ_s = −Σ_c q_{s,c} log p_{s,c} with the target distribution

    * class indices t_s:  q_{s,c} = m_s [(1 − ε) w_{t_s} δ_{c,t_s} + (ε/C) w_c],
      m_s = 0 where t_s = ignore_index; 'mean' divides by D = Σ_s m_s w_{t_s};
    * class probabilities y_s:  q_{s,c} = w_c ((1 − ε) y_{s,c} + ε/C);  D = positions.

    Backward: dZ_s = g_s ((Σ_c q_{s,c}) p_s − q_s); for probabilities also
    dY_{s,c} = −(1 − ε) w_c log p_{s,c} · g_s.
    """

    @staticmethod
    def forward(ctx, logits, target, *, kind, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        log_p = _log_softmax_last(np.moveaxis(logits, 1, -1))  # (N, d..., C)
        C = log_p.shape[-1]
        eps = label_smoothing
        ctx.plain = (kind == "index" and weight is None and not eps and log_p.ndim == 2
                     and bool((target != ignore_index).all()))
        if ctx.plain:  # the usual case, q = onehot(t): ℓ_s = −log p_{s,t_s}, the same numbers in fewer steps
            rows = np.arange(log_p.shape[0])
            loss = -log_p[rows, target]
            ctx.save_for_backward(log_p)
            ctx.rows, ctx.t, ctx.reduction, ctx.denom = rows, target, reduction, log_p.dtype.type(loss.size)
            return _reduce(loss, reduction, ctx.denom, logits.dtype)
        w = np.ones(C, log_p.dtype) if weight is None else weight
        if kind == "index":
            mask = target != ignore_index
            t = np.where(mask, target, 0)
            wt = w[t] * mask  # the weight of each position's target, 0 where ignored
            loss = -wt * np.take_along_axis(log_p, t[..., None], axis=-1)[..., 0]
            if eps:
                loss = (1 - eps) * loss - (eps / C) * mask * (log_p * w).sum(axis=-1)
            denom = wt.sum()
            ctx.t, ctx.mask, ctx.wt = t, mask, wt
        else:
            y = np.moveaxis(target, 1, -1)
            q = w * ((1 - eps) * y + eps / C)
            loss = -(q * log_p).sum(axis=-1)
            denom = loss.size
            ctx.q = q
        ctx.save_for_backward(log_p)
        ctx.kind, ctx.w, ctx.eps, ctx.reduction, ctx.denom = kind, w, eps, reduction, denom
        return _reduce(loss, reduction, denom, logits.dtype)

    rule = {0: "dn {0} = (softmax(n) − onehot(t)) / batch · dF̂ {g}", 1: "dy {1} = −log softmax(n) / batch · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        (log_p,) = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, ctx.denom, log_p.dtype)
        g = g[..., None] if g.ndim else g
        p = np.exp(log_p)
        if ctx.plain:  # softmax(n) − onehot(t)
            p[ctx.rows, ctx.t] -= 1
            return p * g, None
        C, eps, w = p.shape[-1], ctx.eps, ctx.w
        dy = None
        if ctx.kind == "index":
            q_total = ctx.wt * (1 - eps)
            if eps:  # only smoothing spreads weight over every class (0 · a NaN weight would be NaN)
                q_total = q_total + (eps / C) * w.sum() * ctx.mask
            d = p * q_total[..., None]
            target_q = np.take_along_axis(d, ctx.t[..., None], axis=-1) - ((1 - eps) * ctx.wt)[..., None]
            np.put_along_axis(d, ctx.t[..., None], target_q, axis=-1)
            if eps:
                d -= (eps / C) * w * ctx.mask[..., None]
        else:
            d = p * ctx.q.sum(axis=-1, keepdims=True) - ctx.q
            if ctx.needs_input_grad[1]:
                dy = np.moveaxis(-(1 - eps) * w * log_p * g, -1, 1)
        return np.moveaxis(d * g, -1, 1), dy


class NLLLoss(Function):
    """ℓ_s = −w_{t_s} x_{s,t_s} for log-probabilities x (class axis 1), 0 where t_s = ignore_index.

    'mean' divides by D = Σ_s w_{t_s} over the targets not ignored.
    Backward: dX_{s,c} = −g_s w_{t_s} δ_{c,t_s}.
    """

    @staticmethod
    def forward(ctx, log_probs, target, *, weight=None, ignore_index=-100, reduction="mean"):
        x = np.moveaxis(log_probs, 1, -1)
        w = np.ones(x.shape[-1], x.dtype) if weight is None else weight
        mask = target != ignore_index
        t = np.where(mask, target, 0)
        wt = w[t] * mask
        loss = -wt * np.take_along_axis(x, t[..., None], axis=-1)[..., 0]
        ctx.t, ctx.wt, ctx.shape, ctx.reduction, ctx.denom = t, wt, x.shape, reduction, wt.sum()
        return _reduce(loss, reduction, ctx.denom, log_probs.dtype)

    rule = {0: "d(log p) {0} = −w_t onehot(t) / D · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        g = _upstream(grad, ctx.reduction, ctx.denom, grad.dtype)
        d = np.zeros(ctx.shape, grad.dtype)
        np.put_along_axis(d, ctx.t[..., None], (-ctx.wt * g)[..., None], axis=-1)
        return np.moveaxis(d, -1, 1), None


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x with targets t, computed without overflow.

    With σ the logistic function, softplus form −log σ(x) = log(1 + e^{−|x|}) + max(−x, 0)
    and l = 1 + (pos_weight − 1) t (1 without ``pos_weight``)::

        ℓ = w [(1 − t) x + l · (−log σ(x))]

    Backward: dX = w [(1 − t) − l σ(−x)] · g,  dT = w [−x + (pos_weight − 1)(−log σ(x))] · g.
    """

    @staticmethod
    def forward(ctx, x, target, *, weight=None, pos_weight=None, reduction="mean"):
        neg_log_sig = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        loss = (1 - target) * x + lw * neg_log_sig
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, neg_log_sig)
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return _reduce(loss, reduction, loss.size, x.dtype)

    rule = {0: "dx {0} = w ∘ ((1 + (pw − 1) y) σ(x) − pw y) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        x, t, neg_log_sig = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, x.size, x.dtype)
        w = g if ctx.weight is None else ctx.weight * g
        lw = 1 if ctx.pos_weight is None else 1 + (ctx.pos_weight - 1) * t
        sig_neg = np.exp(-(neg_log_sig + x))  # σ(−x) = exp(−log(1 + e^{x})), stable both ways
        dx = (((1 - t) - lw * sig_neg) * w).astype(x.dtype, copy=False)
        dt = None
        if ctx.needs_input_grad[1]:
            pw_minus_1 = 0 if ctx.pos_weight is None else ctx.pos_weight - 1
            dt = ((-x + pw_minus_1 * neg_log_sig) * w).astype(x.dtype, copy=False)
        return np.broadcast_to(dx, x.shape).copy(), (None if dt is None else np.broadcast_to(dt, x.shape).copy())


# --------------------------------------------------------------- naive references (one position at a time)
def _reduce_reference(losses, reduction, denom, shape):
    losses = np.asarray(losses, dtype=np.float64)
    if reduction == "none":
        return losses.reshape(shape)
    return losses.sum() if reduction == "sum" else losses.sum() / denom


def cross_entropy_reference(logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """The cross-entropy of :class:`CrossEntropy` position by position, float64::

        ℓ_s = −(1 − ε) w_t log p_{s,t} − (ε/C) Σ_c w_c log p_{s,c}      (class index t, not ignored)
        ℓ_s = −Σ_c w_c ((1 − ε) y_{s,c} + ε/C) log p_{s,c}              (class probabilities y_s)
    """
    x = np.asarray(logits, dtype=np.float64)
    batched = x.ndim > 1
    x = np.moveaxis(x if batched else x[None], 1, -1)
    C = x.shape[-1]
    probs = np.asarray(target).dtype.kind == "f"
    t = np.asarray(target if batched else np.asarray(target)[None])
    t = np.moveaxis(t, 1, -1).reshape(-1, C) if probs else t.reshape(-1)
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    eps, losses, denom = label_smoothing, [], 0.0
    for row, ts in zip(x.reshape(-1, C), t):
        log_p = [v - max(row) - np.log(sum(np.exp(u - max(row)) for u in row)) for v in row]
        smooth = -sum(w[c] * log_p[c] for c in range(C)) * eps / C
        if probs:
            losses.append(-sum(w[c] * (1 - eps) * ts[c] * log_p[c] for c in range(C)) + smooth)
            denom += 1
        elif ts == ignore_index:
            losses.append(0.0)
        else:
            losses.append(-(1 - eps) * w[ts] * log_p[ts] + smooth)
            denom += w[ts]
    return _reduce_reference(losses, reduction, denom, x.shape[:-1] if batched else ())


def nll_loss_reference(log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
    """ℓ_s = −w_t x_{s,t} (0 where t is ignored), position by position, float64."""
    x = np.asarray(log_probs, dtype=np.float64)
    batched = x.ndim > 1
    x = np.moveaxis(x if batched else x[None], 1, -1)
    C = x.shape[-1]
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    losses, denom = [], 0.0
    for row, ts in zip(x.reshape(-1, C), np.asarray(target).reshape(-1)):
        losses.append(0.0 if ts == ignore_index else -w[ts] * row[ts])
        denom += 0.0 if ts == ignore_index else w[ts]
    return _reduce_reference(losses, reduction, denom, x.shape[:-1] if batched else ())


def bce_with_logits_reference(x, target, weight=None, reduction="mean", pos_weight=None):
    """ℓ = −w [pos_weight · t log σ(x) + (1 − t) log(1 − σ(x))], element by element (moderate x only)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    w = np.broadcast_to(1.0 if weight is None else weight, x.shape)
    pw = np.broadcast_to(1.0 if pos_weight is None else pos_weight, x.shape)
    losses = [-wi * (pwi * ti * np.log(1 / (1 + np.exp(-xi))) + (1 - ti) * np.log(1 - 1 / (1 + np.exp(-xi))))
              for xi, ti, wi, pwi in zip(x.ravel(), t.ravel(), w.ravel(), pw.ravel())]
    return _reduce_reference(losses, reduction, x.size, x.shape)
