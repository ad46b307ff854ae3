"""Normalisations with PyTorch's signatures and semantics: ``batch_norm``, ``layer_norm``,
``group_norm``, ``instance_norm`` and AlexNet's ``local_response_norm``."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..ops import normalization as _norm
from ..tensor import Tensor, no_grad

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "normalize"]


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
    stats = _running_stats(running_mean, running_var, C, "batch_norm")
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


def _running_stats(running_mean, running_var, C: int, op: str) -> list:
    """The running mean and variance as ``(C,)`` tensors, both or neither (``[None, None]``)."""
    stats = [None if r is None else check.channel_vector(r, C, n, op)
             for r, n in ((running_mean, "running_mean"), (running_var, "running_var"))]
    if (stats[0] is None) != (stats[1] is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    return stats


def _update_running(x: np.ndarray, running_mean: Tensor, running_var: Tensor, momentum: float) -> None:
    """r ← (1 − momentum)·r + momentum·s in place, s the batch mean and unbiased variance."""
    axes = (0,) + tuple(range(2, x.ndim))
    m = x.size // x.shape[1]
    mean = x.mean(axis=axes)
    unbiased = np.square(x - mean.reshape((1, -1) + (1,) * (x.ndim - 2))).sum(axis=axes) / (m - 1)
    with no_grad():
        for r, s in ((running_mean, mean), (running_var, unbiased)):
            r.data[...] = (1 - momentum) * r.data + momentum * s.astype(r.dtype, copy=False)


def _standardise(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x − mean) / √(var + eps) over ``axes`` (the biased variance, as PyTorch's norms), made of
    differentiable ops, so its gradient is the chain rule through mean, var and the division."""
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, keepdim=True, correction=0)
    return (x - mean) / (var + x.dtype.type(eps)).sqrt()


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last dimensions ``normalized_shape`` of each example, then
    ``· weight + bias`` (both of shape ``normalized_shape``, optional), as PyTorch's."""
    x = check.float_tensor(x, "x")
    shape = (normalized_shape,) if check.is_int(normalized_shape) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[-k:]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the last dimensions of x {x.shape}")
    eps = check.real(eps, "layer_norm: eps", 0.0, low_open=True)
    out = _standardise(x, tuple(range(x.ndim - k, x.ndim)), eps)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = check.float_tensor(p, f"layer_norm: {name}")
            if p.shape != shape:
                raise ValueError(f"layer_norm: {name} must have shape {shape}, got {p.shape}")
            check.same_dtype(x, p, "x", name, "layer_norm")
            out = out * p if name == "weight" else out + p
    return out


def group_norm(x, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise each example's channels in ``num_groups`` groups (over the group's channels and
    all positions), then ``· weight + bias`` per channel (optional), as PyTorch's."""
    x = check.float_tensor(x, "x")
    if x.ndim < 2:
        raise ValueError(f"group_norm: x must be (N, C, ...), got shape {x.shape}")
    N, C = x.shape[:2]
    g = check.positive_int(num_groups, "group_norm: num_groups")
    if C % g:
        raise ValueError(f"group_norm: num_groups={g} must divide the {C} channels of x {x.shape}")
    eps = check.real(eps, "group_norm: eps", 0.0, low_open=True)
    grouped = x.reshape((N, g, -1))
    out = _standardise(grouped, (2,), eps).reshape(x.shape)
    per_channel = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * check.channel_vector(weight, C, "weight", "group_norm", like=x).reshape(per_channel)
    if bias is not None:
        out = out + check.channel_vector(bias, C, "bias", "group_norm", like=x).reshape(per_channel)
    return out


def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each example's each channel over its positions (style transfer's instance
    normalisation), then ``· weight + bias`` per channel; ``x`` ``(N, C, ...)``.

    ``use_input_stats``: the instance's own mean and (biased) variance, and the running
    statistics, when given, move towards their averages over the batch (the unbiased
    variance, as PyTorch); otherwise the running statistics normalise, as batch norm's eval.
    """
    x = check.float_tensor(x, "x")
    if x.ndim < 3:
        raise ValueError(f"instance_norm: x must be (N, C, ...) with at least one position axis, got shape {x.shape}")
    N, C = x.shape[:2]
    use_input_stats = check.boolean(use_input_stats, "instance_norm: use_input_stats")
    eps = check.real(eps, "instance_norm: eps", 0.0, low_open=True)
    momentum = check.real(momentum, "instance_norm: momentum", 0.0, 1.0)
    stats = _running_stats(running_mean, running_var, C, "instance_norm")
    if not use_input_stats:
        if stats[0] is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when use_input_stats=False")
        return batch_norm(x, stats[0], stats[1], weight, bias, training=False, eps=eps)
    positions = x.numel() // (N * C) if N * C else 0
    if positions <= 1:
        raise ValueError(f"instance_norm: expected more than 1 position per channel, got input {x.shape}")
    axes = tuple(range(2, x.ndim))
    out = _standardise(x, axes, eps)
    per_channel = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * check.channel_vector(weight, C, "weight", "instance_norm", like=x).reshape(per_channel)
    if bias is not None:
        out = out + check.channel_vector(bias, C, "bias", "instance_norm", like=x).reshape(per_channel)
    if stats[0] is not None:
        data = x.data
        mean = data.mean(axis=axes)                                   # (N, C)
        unbiased = data.var(axis=axes) * (positions / (positions - 1))
        with no_grad():
            for r, s in ((stats[0], mean), (stats[1], unbiased)):
                r.data[...] = ((1 - momentum) * r.data + momentum * s.astype(r.dtype, copy=False)).mean(axis=0)
    return out


def local_response_norm(x, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """AlexNet's normalisation across channels: b_c = a_c / (k + α/n · Σ a²)^β, the sum over the
    ``size`` = n channels around c (zeros beyond the first and last), as PyTorch's."""
    from .pooling import avg_pool2d
    from .shape import pad

    x = check.float_tensor(x, "x")
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: x must be (N, C, ...) with at least 3 dimensions, got shape {x.shape}")
    size = check.positive_int(size, "local_response_norm: size")
    alpha = check.real(alpha, "local_response_norm: alpha")
    beta = check.real(beta, "local_response_norm: beta")
    k = check.real(k, "local_response_norm: k")
    if x.numel() == 0:
        return x
    N, C = x.shape[:2]
    squares = (x * x).reshape((N, 1, C, -1))                  # channels as rows, positions as columns
    window = avg_pool2d(pad(squares, (0, 0, size // 2, (size - 1) // 2)), (size, 1), stride=1)
    div = (window.reshape(x.shape) * x.dtype.type(alpha) + x.dtype.type(k)) ** x.dtype.type(beta)
    return x / div


def normalize(x, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along ``dim``: unit vectors (PyTorch's ``F.normalize``)."""
    x = check.float_tensor(x, "x")
    eps = check.real(eps, "normalize: eps", 0.0)
    norm = x.norm(p, dim=dim, keepdim=True)
    return x / norm.clamp_min(eps)
