"""Batch normalisation (``batch_norm``), PyTorch's signature and semantics."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..ops import normalization as _norm
from ..tensor import Tensor, no_grad

__all__ = ["batch_norm"]


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = γ (x − μ)/√(σ² + ε) + β per channel of ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``.

    ``training``: μ, σ² are the batch's (biased variance) and ``running_mean``/
    ``running_var`` (when given) are updated in place,
    r ← (1 − momentum)·r + momentum·s, with the *unbiased* variance M/(M − 1)·σ²
    (M values per channel).  ``momentum`` is a number in [0, 1], as in PyTorch's
    function (the layers turn ``momentum=None`` into 1/num_batches_tracked, PyTorch's
    cumulative average).  Eval:
    μ, σ² are the running statistics, which must then be given.
    """
    x = check.float_tensor(x, "x")
    check.rank(x, (2, 3, 4), "x", "batch_norm", "(N, C), (N, C, L) or (N, C, H, W)")
    C = x.shape[1]
    training = check.boolean(training, "batch_norm: training")
    eps = check.real(eps, "batch_norm: eps", 0.0, low_open=True)
    momentum = check.real(momentum, "batch_norm: momentum", 0.0, 1.0)
    stats = [None if r is None else check.channel_vector(r, C, n, "batch_norm")
             for r, n in ((running_mean, "running_mean"), (running_var, "running_var"))]
    if (stats[0] is None) != (stats[1] is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and stats[0] is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    weight = None if weight is None else check.channel_vector(weight, C, "weight", "batch_norm", like=x)
    bias = None if bias is None else check.channel_vector(bias, C, "bias", "batch_norm", like=x)
    m = x.numel() // C if C else 0
    if training and m <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")

    if training:
        out = _norm.BatchNorm.apply(x, weight, bias, mean=None, var=None, eps=eps, training=True)
        if stats[0] is not None:
            _update_running(x.data, stats[0], stats[1], momentum)
        return out
    return _norm.BatchNorm.apply(x, weight, bias, mean=stats[0].data, var=stats[1].data, eps=eps, training=False)


def _update_running(x: np.ndarray, running_mean: Tensor, running_var: Tensor, momentum: float) -> None:
    """r ← (1 − momentum)·r + momentum·s in place, s the batch mean and unbiased variance."""
    axes = (0,) + tuple(range(2, x.ndim))
    m = x.size // x.shape[1]
    mean = x.mean(axis=axes)
    unbiased = np.square(x - mean.reshape((1, -1) + (1,) * (x.ndim - 2))).sum(axis=axes) / (m - 1)
    with no_grad():
        for r, s in ((running_mean, mean), (running_var, unbiased)):
            r.data[...] = (1 - momentum) * r.data + momentum * s.astype(r.dtype, copy=False)
