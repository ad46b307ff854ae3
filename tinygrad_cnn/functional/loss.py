"""Losses: the performance index F̂ that backpropagation starts from.

PyTorch's signatures and semantics; ``reduction`` is ``'mean'`` (default),
``'sum'`` or ``'none'`` (the per-element losses).  The formulas and their
backward rules are in ``ops/loss.py``.
"""

from __future__ import annotations

from .. import _checks as check
from ..ops import loss as _loss
from ..ops import loss_extra as _extra
from ..tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits",
           "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "kl_div", "soft_margin_loss",
           "cosine_similarity", "pairwise_distance", "margin_ranking_loss", "hinge_embedding_loss",
           "gaussian_nll_loss", "poisson_nll_loss", "triplet_margin_loss"]


def _pointwise_args(pred, target, op: str, reduction) -> tuple:
    pred = check.float_tensor(pred, "pred")
    target = check.tensor(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"{op}: pred has shape {pred.shape} but target has shape {target.shape}")
    if target.dtype != pred.dtype:
        target = target.astype(pred.dtype)
    return pred, target, check.one_of(reduction, "reduction", check.REDUCTIONS)


def mse_loss(pred, target, reduction="mean") -> Tensor:
    """Squared error (p − t)², averaged (or summed, or kept) over all elements; one shape for both."""
    pred, target, reduction = _pointwise_args(pred, target, "mse_loss", reduction)
    return _loss.MSELoss.apply(pred, target, reduction=reduction)


def l1_loss(pred, target, reduction="mean") -> Tensor:
    """Absolute error |p − t|, averaged (or summed, or kept) over all elements; one shape for both."""
    pred, target, reduction = _pointwise_args(pred, target, "l1_loss", reduction)
    return _loss.L1Loss.apply(pred, target, reduction=reduction)


def _classification_args(x, target, weight, ignore_index, reduction, op: str, name: str, probabilities: bool):
    """The checked logits (batched: a class axis 1), target kind and target, weight, options."""
    x = check.float_tensor(x, name)
    if x.ndim == 0:
        raise ValueError(f"{op}: {name} must be (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    ignore_index = check.integer(ignore_index, "ignore_index")
    reduction = check.one_of(reduction, "reduction", check.REDUCTIONS)
    kind, target = check.class_targets(target, x.shape, op, ignore_index, probabilities)
    if x.ndim >= 2 and x.shape[0] == 0:
        raise ValueError(f"{op}: empty batch ({name} shape {x.shape})")
    n_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    weight = check.class_weight(weight, n_classes, x.dtype, op)
    if kind == "probs" and target.dtype != x.dtype:
        target = target.astype(x.dtype)
    unbatched = x.ndim == 1
    if unbatched:  # one example: a batch of one, the result squeezed back
        x = x.reshape(1, n_classes)
        target = target.reshape(1, n_classes) if kind == "probs" else target.reshape(1)
    return x, kind, target, weight, ignore_index, reduction, unbatched


def cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0) -> Tensor:
    """−log softmax over the classes, as PyTorch's ``cross_entropy``.

    ``logits`` is ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.  ``target`` holds either
    integer class indices (shape of ``logits`` without the class axis; positions equal
    to ``ignore_index`` contribute nothing) or float class probabilities (the shape of
    ``logits``).  ``weight`` ``(C,)`` rescales each class; with class indices
    ``'mean'`` divides by the summed weight of the targets not ignored.
    ``label_smoothing`` ε mixes the target with the uniform distribution: (1 − ε)·target + ε/C.
    """
    x, kind, target, weight, ignore_index, reduction, unbatched = _classification_args(
        logits, target, weight, ignore_index, reduction, "cross_entropy", "logits", probabilities=True)
    label_smoothing = check.real(label_smoothing, "label_smoothing", 0.0, 1.0)
    # a probability target stays a Tensor (differentiable); class indices are a constant array
    out = _loss.CrossEntropy.apply(x, target, kind=kind, weight=weight, ignore_index=ignore_index,
                                   reduction=reduction, label_smoothing=label_smoothing)
    return out.reshape(()) if unbatched and reduction == "none" else out


def nll_loss(log_probs, target, weight=None, ignore_index=-100, reduction="mean") -> Tensor:
    """Negative log-likelihood −w_t · log_probs[t] for log-probabilities (e.g. ``log_softmax``), as
    PyTorch's ``nll_loss``; shapes, ``weight``, ``ignore_index`` and ``'mean'`` as :func:`cross_entropy`."""
    x, _, target, weight, ignore_index, reduction, unbatched = _classification_args(
        log_probs, target, weight, ignore_index, reduction, "nll_loss", "log_probs", probabilities=False)
    out = _loss.NLLLoss.apply(x, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def binary_cross_entropy_with_logits(logits, target, weight=None, reduction="mean", pos_weight=None) -> Tensor:
    """Binary cross-entropy of sigmoid(logits) against ``target`` in [0, 1], computed from the logits
    without overflow (finite at ±1000).  ``weight`` rescales each element, ``pos_weight`` the positive
    term (broadcast along the last axis, one per class), as PyTorch."""
    x = check.float_tensor(logits, "logits")
    target = check.tensor(target, "target")
    if target.shape != x.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target must have the shape of logits {x.shape}, "
                         f"got {target.shape}")
    if target.dtype != x.dtype:
        target = target.astype(x.dtype)
    reduction = check.one_of(reduction, "reduction", check.REDUCTIONS)
    op = "binary_cross_entropy_with_logits"
    weight = check.broadcast_weight(weight, x.shape, x.dtype, "weight", op)
    pos_weight = check.broadcast_weight(pos_weight, x.shape, x.dtype, "pos_weight", op)
    return _loss.BCEWithLogits.apply(x, target, weight=weight, pos_weight=pos_weight, reduction=reduction)


# --------------------------------------------------------------- robust regression, probabilities, margins
def _floats(op: str, **named) -> list:
    """The float32/float64 Tensors given by name (``input1=...``), all of one dtype."""
    tensors = [check.float_tensor(v, f"{op}: {name}") for name, v in named.items()]
    names = list(named)
    for name, t in zip(names[1:], tensors[1:]):
        check.same_dtype(tensors[0], t, names[0], name, op)
    return tensors


def _cast(t, dtype):
    """A checked operand in the input's dtype (a target follows its input, as in ``mse_loss``)."""
    return t if t.dtype == dtype else t.astype(dtype)


def _reduction(reduction, op: str, choices=check.REDUCTIONS) -> str:
    return check.one_of(reduction, f"{op}: reduction", choices)


def _input_target(input, target, op: str, shapes: str = "same"):
    """``input`` (float) and ``target`` (real numbers) whose shapes are the same (``"same"``),
    broadcast (``"broadcast"``) or broadcast to the input's (``"input"``); the target uncast."""
    (x,) = _floats(op, input=input)
    t = check.loss_operand(target, "target", op)
    named = {"input": x.shape, "target": t.shape}
    if shapes == "same":
        check.same_shapes(named, op)
    else:
        check.broadcast_shapes(named, op, fixed="input" if shapes == "input" else None)
    return x, t


def smooth_l1_loss(input, target, reduction="mean", beta=1.0) -> Tensor:
    """Squared error below ``beta``, absolute error above it: ½ d²/β where |d| < β, else |d| − ½β
    (d = input − target, one shape for both; ``beta=0`` is :func:`l1_loss`), as PyTorch."""
    op = "smooth_l1_loss"
    x, t = _input_target(input, target, op)
    reduction = _reduction(reduction, op)
    beta = check.real(beta, f"{op}: beta", 0.0)
    return _extra.SmoothL1Loss.apply(x, _cast(t, x.dtype), reduction=reduction, beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0) -> Tensor:
    """½ d² where |d| < ``delta``, else δ(|d| − ½δ) (d = input − target, one shape for both):
    ``delta`` times :func:`smooth_l1_loss` with ``beta=delta``, as PyTorch."""
    op = "huber_loss"
    x, t = _input_target(input, target, op)
    reduction = _reduction(reduction, op)
    delta = check.real(delta, f"{op}: delta", 0.0, low_open=True)
    return _extra.HuberLoss.apply(x, _cast(t, x.dtype), reduction=reduction, delta=delta)


def binary_cross_entropy(input, target, weight=None, reduction="mean") -> Tensor:
    """−w [t log x + (1 − t) log(1 − x)] for probabilities ``input`` in [0, 1] (each log clamped at
    −100, as PyTorch) and ``target`` of the same shape; ``weight`` broadcasts to it.  For logits use
    :func:`binary_cross_entropy_with_logits`, which is stable at any magnitude."""
    op = "binary_cross_entropy"
    x, t = _input_target(input, target, op)
    reduction = _reduction(reduction, op)
    weight = check.broadcast_weight(weight, x.shape, x.dtype, "weight", op)
    check.values_in(x, "input", op, 0.0, 1.0)
    return _extra.BinaryCrossEntropy.apply(x, _cast(t, x.dtype), weight=weight, reduction=reduction)


def kl_div(input, target, reduction="mean", log_target=False) -> Tensor:
    """Kullback–Leibler divergence t (log t − input) for log-probabilities ``input`` and probabilities
    ``target`` (log-probabilities with ``log_target``), shapes broadcast, as PyTorch.

    ``reduction='batchmean'`` divides the sum by ``input``'s first dimension: the KL divergence
    per example.  ``'mean'`` divides by the element count, PyTorch's default (and not the KL
    divergence unless there is one class).
    """
    op = "kl_div"
    x, t = _input_target(input, target, op, shapes="broadcast")
    reduction = _reduction(reduction, op, check.KL_REDUCTIONS)
    log_target = check.boolean(log_target, f"{op}: log_target")
    return _extra.KlDiv.apply(x, _cast(t, x.dtype), reduction=reduction, log_target=log_target)


def soft_margin_loss(input, target, reduction="mean") -> Tensor:
    """Logistic loss log(1 + exp(−y x)) for labels ``target`` y (±1) that broadcast to ``input``'s
    shape, as PyTorch (computed without overflow)."""
    op = "soft_margin_loss"
    x, t = _input_target(input, target, op, shapes="input")
    reduction = _reduction(reduction, op)
    return _extra.SoftMarginLoss.apply(x, _cast(t, x.dtype), reduction=reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8) -> Tensor:
    """Σ_dim (x1 / max(‖x1‖, eps)) (x2 / max(‖x2‖, eps)): the cosine of the angle between the
    vectors along ``dim``, inputs broadcast; the result drops ``dim``, as PyTorch."""
    op = "cosine_similarity"
    a, b = _floats(op, x1=x1, x2=x2)
    shape = check.broadcast_shapes({"x1": a.shape, "x2": b.shape}, op)
    dim = check.dim(dim, len(shape), op)
    eps = check.real(eps, f"{op}: eps", 0.0)
    if not shape:  # two numbers: their vectors have one element
        return _extra.CosineSimilarity.apply(a.reshape(1), b.reshape(1), dim=0, eps=eps).reshape(())
    return _extra.CosineSimilarity.apply(a, b, dim=dim, eps=eps)


def _pairwise(a, b, p, eps, keepdim=False):
    """The checked distance ‖a − b + eps‖_p over the last axis (a number for 0-d inputs)."""
    if a.ndim == 0 and b.ndim == 0:
        return _extra.PairwiseDistance.apply(a.reshape(1), b.reshape(1), p=p, eps=eps, keepdim=False).reshape(())
    return _extra.PairwiseDistance.apply(a, b, p=p, eps=eps, keepdim=keepdim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False) -> Tensor:
    """‖x1 − x2 + eps‖_p over the last dimension, inputs broadcast, as PyTorch; ``p`` >= 0 or
    ``inf`` (``p=0`` counts the non-zero differences and has zero gradient)."""
    op = "pairwise_distance"
    a, b = _floats(op, x1=x1, x2=x2)
    check.broadcast_shapes({"x1": a.shape, "x2": b.shape}, op)
    p = check.norm_order(p, f"{op}: p")
    eps = check.real(eps, f"{op}: eps")
    keepdim = check.boolean(keepdim, f"{op}: keepdim")
    return _pairwise(a, b, p, eps, keepdim)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean") -> Tensor:
    """max(0, −y (x1 − x2) + margin): ``target`` y = 1 says ``input1`` should rank higher, −1 that
    ``input2`` should; the three have one number of dimensions and broadcast, as PyTorch."""
    op = "margin_ranking_loss"
    a, b = _floats(op, input1=input1, input2=input2)
    t = check.loss_operand(target, "target", op)
    named = {"input1": a.shape, "input2": b.shape, "target": t.shape}
    check.same_ndim(named, op)
    check.broadcast_shapes(named, op)
    margin = check.real(margin, f"{op}: margin")
    reduction = _reduction(reduction, op)
    return _extra.MarginRankingLoss.apply(a, b, _cast(t, a.dtype), margin=margin, reduction=reduction)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean") -> Tensor:
    """``input`` where ``target`` is 1 and max(0, margin − input) where it is −1 (e.g. a distance
    between a similar or a dissimilar pair); shapes broadcast, as PyTorch."""
    op = "hinge_embedding_loss"
    x, t = _input_target(input, target, op, shapes="broadcast")
    margin = check.real(margin, f"{op}: margin")
    reduction = _reduction(reduction, op)
    return _extra.HingeEmbeddingLoss.apply(x, _cast(t, x.dtype), margin=margin, reduction=reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(``input``, ``var``): ½ (log v + (x − t)²/v),
    v = max(var, eps) (+ ½ log 2π with ``full``), as PyTorch.

    ``var`` is a number, or a tensor of the input's shape, of that shape without its last
    dimension, or with one dimension of size 1 (a variance shared along it); none negative.
    ``target`` broadcasts with ``input``.
    """
    op = "gaussian_nll_loss"
    x, t = _input_target(input, target, op, shapes="broadcast")
    v = check.gaussian_variance(var, x.shape, op, x.dtype)
    check.broadcast_shapes({"input": x.shape, "target": t.shape, "var": v.shape}, op)
    full = check.boolean(full, f"{op}: full")
    eps = check.real(eps, f"{op}: eps", 0.0)
    reduction = _reduction(reduction, op)
    return _extra.GaussianNllLoss.apply(x, _cast(t, x.dtype), _cast(v, x.dtype), full=full, eps=eps,
                                        reduction=reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean") -> Tensor:
    """Negative log-likelihood of counts ``target`` under Poisson(rate): exp(x) − t x for a log-rate
    ``input`` (``log_input``), else x − t log(x + eps); ``full`` adds Stirling's approximation of
    log(t!) where t > 1.  Shapes broadcast, as PyTorch."""
    op = "poisson_nll_loss"
    x, t = _input_target(input, target, op, shapes="broadcast")
    log_input = check.boolean(log_input, f"{op}: log_input")
    full = check.boolean(full, f"{op}: full")
    eps = check.real(eps, f"{op}: eps", 0.0)
    reduction = _reduction(reduction, op)
    return _extra.PoissonNllLoss.apply(x, _cast(t, x.dtype), log_input=log_input, full=full, eps=eps,
                                       reduction=reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction="mean") -> Tensor:
    """max(0, margin + d(anchor, positive) − d(anchor, negative)) with d :func:`pairwise_distance`
    (over the last dimension); ``swap`` uses min(d(a, n), d(p, n)) for the negative distance.
    The three have one number of dimensions and broadcast, as PyTorch."""
    op = "triplet_margin_loss"
    a, pos, neg = _floats(op, anchor=anchor, positive=positive, negative=negative)
    named = {"anchor": a.shape, "positive": pos.shape, "negative": neg.shape}
    check.same_ndim(named, op)
    check.broadcast_shapes(named, op)
    margin = check.real(margin, f"{op}: margin", 0.0, low_open=True)
    p = check.norm_order(p, f"{op}: p")
    eps = check.real(eps, f"{op}: eps")
    swap = check.boolean(swap, f"{op}: swap")
    reduction = _reduction(reduction, op)
    d_pos = _pairwise(a, pos, p, eps)
    d_neg = _pairwise(a, neg, p, eps)
    if swap:
        d_neg = d_neg.minimum(_pairwise(pos, neg, p, eps))
    loss = (margin + d_pos - d_neg).clamp_min(0.0)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()
