"""Losses: the performance index F̂ that backpropagation starts from.

PyTorch's signatures and semantics; ``reduction`` is ``'mean'`` (default),
``'sum'`` or ``'none'`` (the per-element losses).  The formulas and their
backward rules are in ``ops/loss.py``.
"""

from __future__ import annotations

from .. import _checks as check
from ..ops import loss as _loss
from ..tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits"]


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
