"""Losses: the performance index F̂ that backpropagation starts from."""

from __future__ import annotations

from .. import _checks as check
from ..ops import loss as _loss
from ..tensor import Tensor

__all__ = ["mse_loss", "cross_entropy"]


def mse_loss(pred, target) -> Tensor:
    """Mean squared error over all elements; ``pred`` and ``target`` must have one shape."""
    pred = check.float_tensor(pred, "pred")
    target = check.tensor(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {target.shape}")
    if target.dtype != pred.dtype:
        target = target.astype(pred.dtype)
    return _loss.MSELoss.apply(pred, target)


def cross_entropy(logits, labels) -> Tensor:
    """Mean over the batch of −log softmax(logits)[label]; ``labels`` are integer class indices."""
    logits = check.float_tensor(logits, "logits")
    check.rank(logits, (2,), "logits", "cross_entropy", "(N, classes)")
    labels = check.class_labels(labels, logits.shape, "cross_entropy")
    return _loss.CrossEntropy.apply(logits, Tensor(labels))


# --------------------------------------------------------------- the lecture's CNN operations
