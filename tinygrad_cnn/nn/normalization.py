"""Batch normalisation layers, PyTorch's ``BatchNorm1d`` and ``BatchNorm2d``.

State, under PyTorch's names: ``weight`` (γ, ones) and ``bias`` (β, zeros) when
``affine`` (no ``bias`` with ``bias=False``); buffers ``running_mean`` (zeros), ``running_var`` (ones) and
``num_batches_tracked`` (int64 0) when ``track_running_stats``.  Training mode
normalises with the batch's statistics and updates the running ones; eval mode
uses the running statistics (or, without them, the batch's).
"""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from .. import functional as F
from .. import _dtypes
from .._dtypes import get_default_dtype
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "LocalResponseNorm"]


class _BatchNorm(Module):
    _ranks: tuple = ()
    _layout: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = check.positive_int(num_features, f"{name}: num_features")
        self.eps = check.real(eps, f"{name}: eps", 0.0, low_open=True)
        self.momentum = None if momentum is None else check.real(momentum, f"{name}: momentum", 0.0, 1.0)
        self.affine = check.boolean(affine, f"{name}: affine")
        self.track_running_stats = check.boolean(track_running_stats, f"{name}: track_running_stats")
        use_bias = check.boolean(bias, f"{name}: bias")
        if device is not None:
            _dtypes.device(device)  # only 'cpu' passes
        dtype = get_default_dtype() if dtype is None else _dtypes.as_dtype(dtype, f"{name}: dtype")
        self.weight = Parameter(np.ones(self.num_features, dtype=dtype)) if self.affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype=dtype)) if self.affine and use_bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, x):
        x = check.float_tensor(x, "x")
        check.rank(x, self._ranks, "x", type(self).__name__, self._layout)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: input must have {self.num_features} channels in dimension 1, got shape {x.shape}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:  # PyTorch's cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        # without running statistics even eval mode normalises with the batch's, as PyTorch
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)``, per feature C (``F.batch_norm``)."""

    _ranks, _layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)``, per channel C (``F.batch_norm``):
    y = γ (x − μ)/√(σ² + ε) + β, statistics over N, H and W."""

    _ranks, _layout = (4,), "(N, C, H, W)"


class LayerNorm(Module):
    """``F.layer_norm`` over the last dimensions ``normalized_shape``; ``weight`` (ones) and
    ``bias`` (zeros) of that shape when ``elementwise_affine``."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if check.is_int(normalized_shape) else tuple(normalized_shape)
        self.normalized_shape = tuple(check.positive_int(s, "LayerNorm: normalized_shape") for s in shape)
        self.eps = check.real(eps, "LayerNorm: eps", 0.0, low_open=True)
        self.elementwise_affine = check.boolean(elementwise_affine, "LayerNorm: elementwise_affine")
        if device is not None:
            _dtypes.device(device)
        dtype = get_default_dtype() if dtype is None else _dtypes.as_dtype(dtype, "LayerNorm: dtype")
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if affine and bias else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """``F.group_norm`` with ``num_groups`` groups of ``num_channels``; per-channel ``weight``
    (ones) and ``bias`` (zeros) when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.num_groups = check.positive_int(num_groups, "GroupNorm: num_groups")
        self.num_channels = check.positive_int(num_channels, "GroupNorm: num_channels")
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_groups={self.num_groups} must divide num_channels={self.num_channels}")
        self.eps = check.real(eps, "GroupNorm: eps", 0.0, low_open=True)
        self.affine = check.boolean(affine, "GroupNorm: affine")
        if device is not None:
            _dtypes.device(device)
        dtype = get_default_dtype() if dtype is None else _dtypes.as_dtype(dtype, "GroupNorm: dtype")
        self.weight = Parameter(np.ones(self.num_channels, dtype=dtype)) if self.affine else None
        self.bias = Parameter(np.zeros(self.num_channels, dtype=dtype)) if self.affine else None

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """``F.instance_norm`` per example and channel; PyTorch's defaults: no ``weight``/``bias``
    (``affine=False``) and no running statistics (``track_running_stats=False``).  With running
    statistics, eval mode normalises with them (as batch norm's eval)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        x = check.float_tensor(x, "x")
        check.rank(x, self._ranks, "x", type(self).__name__, self._layout)
        unbatched = x.ndim == self._ranks[0]
        if unbatched:
            x = x.unsqueeze(0)
        if (self.affine or self.track_running_stats) and x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: input must have {self.num_features} channels, got shape "
                             f"{x.shape if not unbatched else x.shape[1:]}")
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                              momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over ``(N, C, L)`` or ``(C, L)``: each example's channels over L."""

    _ranks, _layout = (2, 3), "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over ``(N, C, H, W)`` or ``(C, H, W)``: each example's channels over H and W
    (style transfer's normalisation)."""

    _ranks, _layout = (3, 4), "(N, C, H, W) or (C, H, W)"


class LocalResponseNorm(Module):
    """AlexNet's normalisation across neighbouring channels (``F.local_response_norm``)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = check.positive_int(size, "LocalResponseNorm: size")
        self.alpha = check.real(alpha, "LocalResponseNorm: alpha")
        self.beta = check.real(beta, "LocalResponseNorm: beta")
        self.k = check.real(k, "LocalResponseNorm: k")

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
