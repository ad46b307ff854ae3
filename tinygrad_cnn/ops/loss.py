"""Performance indices F̂: mean squared error and softmax cross-entropy."""

from __future__ import annotations

import numpy as np

from ..tensor import Function


class MSELoss(Function):
    """F̂ = mean((p − t)²); dP = 2 (p − t) / count."""

    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return np.asarray(np.mean(diff * diff), dtype=diff.dtype)

    rule = {0: "dp {0} = 2 (p − t) / count · dF̂ {g}", 1: "dt {1} = −2 (p − t) / count · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        d = diff * (grad * (2.0 / diff.size)).astype(diff.dtype)
        return d, (-d if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    """Mean over the batch of −log softmax(logits)[label], fused for stability.

    dLogits = (softmax(logits) − onehot(labels)) / N.
    """

    @staticmethod
    def forward(ctx, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = logits.shape[0]
        ctx.save_for_backward(log_probs, labels)
        return np.asarray(-log_probs[np.arange(n), labels].mean(), dtype=logits.dtype)

    rule = {0: "dn {0} = (softmax(n) − onehot(t)) / batch · dF̂ {g}"}

    @staticmethod
    def backward(ctx, grad):
        log_probs, labels = ctx.saved_tensors
        n = log_probs.shape[0]
        d = np.exp(log_probs)
        d[np.arange(n), labels] -= 1
        return d * (grad / n).astype(d.dtype), None
