"""Pooling layers: max pooling and the lecture's (trainable) average pooling."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from .. import functional as F
from .._dtypes import get_default_dtype
from .module import Module, Parameter

__all__ = ["MaxPool2d", "AvgPool2d", "Subsampling"]


class MaxPool2d(Module):
    """Max pooling Z = max_{r,c} V over kh×kw windows (``F.max_pool2d``); stride defaults to the window."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else check.pair(stride, "stride")

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(Module):
    """Average pooling (``F.avg_pool2d``).

    Without ``channels``: the window mean, as PyTorch.  With ``channels`` it is the
    lecture's trainable form Z = w ⊞^{ave} V, i.e. z = w^h · Σ(window) with one
    coefficient per feature map in ``weight`` ``(channels,)``, initialised to
    1/(kh·kw) so the layer starts as the mean.
    """

    def __init__(self, kernel_size, stride=None, channels=None):
        super().__init__()
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else check.pair(stride, "stride")
        if channels is None:
            self.channels = None
            self.weight = None
        else:
            self.channels = check.positive_int(channels, "channels")
            kh, kw = self.kernel_size
            self.weight = Parameter(np.full(self.channels, 1.0 / (kh * kw), dtype=get_default_dtype()))

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, weight=self.weight)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return s + (f", channels={self.channels}" if self.channels is not None else "")


class Subsampling(AvgPool2d):
    """LeNet-5's trainable subsampling (S2, S4): z = w^h · Σ(window) + b^h per map h.

    ``weight`` ``(channels,)`` starts at 1/(kh·kw) (the window mean), ``bias``
    ``(channels,)`` at 0.  The squashing function is applied by the caller.
    Needs batched ``(N, C, H, W)`` input.
    """

    def __init__(self, channels, kernel_size=2, stride=None):
        super().__init__(kernel_size, stride, channels=channels)
        self.bias = Parameter(np.zeros(self.channels, dtype=get_default_dtype()))

    def forward(self, x):
        z = F.avg_pool2d(x, self.kernel_size, self.stride, weight=self.weight)
        return z + self.bias.reshape(1, self.channels, 1, 1)
