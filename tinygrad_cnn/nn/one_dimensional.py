"""PyTorch's one-dimensional layers: ``Conv1d``, ``ConvTranspose1d``, ``MaxPool1d``, ``AvgPool1d``,
``AdaptiveAvgPool1d``, ``AdaptiveMaxPool1d`` (inputs ``(N, C, L)`` or ``(C, L)``).

Their functions run the 2-D kernels on a single row (``functional/one_dimensional.py``);
arguments, attributes, weights' shapes, initialisation and reprs are PyTorch's.
"""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from .. import functional as F
from .._dtypes import get_default_dtype
from .conv import PADDING_MODES, conv_repr
from .module import Module, Parameter, get_rng

__all__ = ["Conv1d", "ConvTranspose1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d"]


def _uniform(shape, bound):
    return Parameter((get_rng().uniform(-1.0, 1.0, size=shape) * bound).astype(get_default_dtype()))


class Conv1d(Module):
    """Z = W ⊛ V along one axis (``F.conv1d``): weight ``(out_channels, in_channels/groups, k)``,
    bias ``(out_channels,)``; ``padding`` an int, ``'valid'`` or ``'same'``; ``padding_mode``
    ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.  PyTorch's initialisation:
    U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels/groups·k."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__()
        self.in_channels = check.positive_int(in_channels, "in_channels")
        self.out_channels = check.positive_int(out_channels, "out_channels")
        self.kernel_size = (check.single(kernel_size, "kernel_size"),)
        self.stride = (check.single(stride, "stride"),)
        self.dilation = (check.single(dilation, "dilation"),)
        if isinstance(padding, str):
            check.padding(padding, (1, self.kernel_size[0]), (1, self.stride[0]), (1, self.dilation[0]))
            self.padding = padding
        else:
            self.padding = (check.single(padding, "padding", 0),)
        self.groups = check.conv_groups(groups, self.in_channels, self.out_channels, op="Conv1d")
        self.padding_mode = check.one_of(padding_mode, "Conv1d: padding_mode", PADDING_MODES)
        check.boolean(bias, "bias")
        bound = 1.0 / np.sqrt(self.in_channels // self.groups * self.kernel_size[0])
        self.weight = _uniform((self.out_channels, self.in_channels // self.groups, self.kernel_size[0]), bound)
        self.bias = _uniform(self.out_channels, bound) if bias else None

    def forward(self, x):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        if self.padding_mode != "zeros":
            if isinstance(padding, str):  # PyTorch's split of 'same': the odd cell on the right
                total = 0 if padding == "valid" else self.dilation[0] * (self.weight.shape[2] - 1)
                pads = (total // 2, total - total // 2)
            else:
                pads = (padding, padding)
            x, padding = F.pad(x, pads, mode=self.padding_mode), 0
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return conv_repr(self)


class ConvTranspose1d(Module):
    """The transposed convolution along one axis (``F.conv_transpose1d``): weight
    ``(in_channels, out_channels/groups, k)``; PyTorch's initialisation (fan_in =
    out_channels/groups·k)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__()
        self.in_channels = check.positive_int(in_channels, "in_channels")
        self.out_channels = check.positive_int(out_channels, "out_channels")
        self.kernel_size = (check.single(kernel_size, "kernel_size"),)
        self.stride = (check.single(stride, "stride"),)
        self.padding = (check.single(padding, "padding", 0),)
        self.output_padding = (check.single(output_padding, "output_padding", 0),)
        self.dilation = (check.single(dilation, "dilation"),)
        self.groups = check.conv_groups(groups, self.in_channels, self.out_channels, op="ConvTranspose1d")
        self.padding_mode = check.one_of(padding_mode, "ConvTranspose1d: padding_mode", ("zeros",))
        check.boolean(bias, "bias")
        bound = 1.0 / np.sqrt(self.out_channels // self.groups * self.kernel_size[0])
        self.weight = _uniform((self.in_channels, self.out_channels // self.groups, self.kernel_size[0]), bound)
        self.bias = _uniform(self.out_channels, bound) if bias else None

    def forward(self, x):
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return conv_repr(self)


class MaxPool1d(Module):
    """Max pooling along one axis (``F.max_pool1d``); PyTorch's arguments and repr."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = check.single(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else check.single(stride, "stride")
        self.padding = check.single(padding, "padding", 0)
        self.dilation = check.single(dilation, "dilation")
        self.return_indices = check.boolean(return_indices, "return_indices")
        self.ceil_mode = check.boolean(ceil_mode, "ceil_mode")

    def forward(self, x):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Average pooling along one axis (``F.avg_pool1d``); PyTorch's arguments and repr."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = (check.single(kernel_size, "kernel_size"),)
        self.stride = self.kernel_size if stride is None else (check.single(stride, "stride"),)
        self.padding = (check.single(padding, "padding", 0),)
        self.ceil_mode = check.boolean(ceil_mode, "ceil_mode")
        self.count_include_pad = check.boolean(count_include_pad, "count_include_pad")

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling to ``output_size`` positions (``F.adaptive_avg_pool1d``)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = check.single(output_size, "output_size")

    def forward(self, x):
        return F.adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """Max pooling to ``output_size`` positions (``F.adaptive_max_pool1d``)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = check.single(output_size, "output_size")
        self.return_indices = check.boolean(return_indices, "return_indices")

    def forward(self, x):
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
