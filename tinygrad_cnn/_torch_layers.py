"""PyTorch layers for the lecture's layers that PyTorch lacks (imported only by ``export``).

* :class:`MaskedConv2d`: a convolution whose weight is multiplied by a fixed 0/1
  mask (the connection matrix C^m) on every forward, so unconnected kernels
  contribute nothing and get exactly zero gradient, as in ``F.conv2d``.
* :class:`WindowSumPool2d`: the lecture's trainable average pooling
  z = w^h · Σ(window) (+ b^h for LeNet-5's subsampling).
* :class:`VecFlatten`: the lecture's vec, column stacking: transpose the last
  two axes, then flatten.  ``torch.nn.Flatten`` stacks rows instead.
* :class:`ScaledTanh`: LeCun's 1.7159·tanh(2n/3).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn


class MaskedConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose weight is ``weight * mask`` with ``mask`` ``(out, in, 1, 1)`` a buffer."""

    def __init__(self, in_channels, out_channels, kernel_size, connection, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        mask = torch.tensor(np.array(connection, copy=True), dtype=self.weight.dtype).reshape(out_channels, in_channels, 1, 1)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class WindowSumPool2d(nn.Module):
    """z^h = w^h · Σ(window of map h) (+ b^h): one trainable coefficient (and bias) per map."""

    def __init__(self, channels, kernel_size, stride, bias=False, dtype=torch.float32):
        super().__init__()
        self.kernel_size, self.stride = tuple(kernel_size), tuple(stride)
        self.weight = nn.Parameter(torch.zeros(channels, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(channels, dtype=dtype)) if bias else None

    def forward(self, x):
        window_sum = TF.avg_pool2d(x, self.kernel_size, self.stride, divisor_override=1)
        z = window_sum * self.weight.reshape(1, -1, 1, 1)
        return z if self.bias is None else z + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self):
        return f"{self.weight.numel()}, kernel_size={self.kernel_size}, stride={self.stride}, bias={self.bias is not None}"


class VecFlatten(nn.Module):
    """The lecture's vec: ``(N, C, H, W) -> (N, C·H·W)`` stacking the columns of each map."""

    def forward(self, x):
        return x.transpose(-1, -2).flatten(-3)


class ScaledTanh(nn.Module):
    """a = A·tanh(S·n) with A = 1.7159 and S = 2/3, computed in the same order as ``nn.ScaledTanh``."""

    def __init__(self, A=1.7159, S=2.0 / 3.0):
        super().__init__()
        self.A, self.S = A, S

    def forward(self, x):
        return torch.tanh(x * self.S) * self.A
