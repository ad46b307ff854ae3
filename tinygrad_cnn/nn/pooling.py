"""Pooling layers: max pooling and the lecture's (trainable) average pooling."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from .. import functional as F
from .._dtypes import get_default_dtype
from ..functional.pooling import subsampling
from .module import Module, Parameter

__all__ = ["MaxPool2d", "AvgPool2d", "Subsampling", "MaxUnpool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
           "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
           "ChannelShuffle"]


class MaxPool2d(Module):
    """Max pooling Z = max_{r,c} V over kh×kw windows (``F.max_pool2d``); stride defaults to the window.

    PyTorch's arguments: ``padding`` (−∞, at most half the window), ``dilation``,
    ``ceil_mode``, ``return_indices`` (forward then returns ``(z, indices)``).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else check.pair(stride, "stride")
        self.padding = check.pool_padding(padding, self.kernel_size, "MaxPool2d")
        self.dilation = check.pair(dilation, "dilation")
        self.return_indices = check.boolean(return_indices, "return_indices")
        self.ceil_mode = check.boolean(ceil_mode, "ceil_mode")

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        return s + (", ceil_mode=True" if self.ceil_mode else "") + (", return_indices=True" if self.return_indices else "")


class AvgPool2d(Module):
    """Average pooling (``F.avg_pool2d``).

    Without ``channels``: the window mean, as PyTorch (``padding``, ``ceil_mode``,
    ``count_include_pad``, ``divisor_override`` as there).  With ``channels`` it is
    the lecture's trainable form Z = w ⊞^{ave} V, i.e. z = w^h · Σ(window) with one
    coefficient per feature map in ``weight`` ``(channels,)``, initialised to
    1/(kh·kw) so the layer starts as the mean.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None, channels=None):
        super().__init__()
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else check.pair(stride, "stride")
        self.padding = check.pool_padding(padding, self.kernel_size, "AvgPool2d")
        self.ceil_mode = check.boolean(ceil_mode, "ceil_mode")
        self.count_include_pad = check.boolean(count_include_pad, "count_include_pad")
        self.divisor_override = (None if divisor_override is None
                                 else check.positive_int(divisor_override, "divisor_override"))
        if channels is None:
            self.channels = None
            self.weight = None
        else:
            self.channels = check.positive_int(channels, "channels")
            kh, kw = self.kernel_size
            self.weight = Parameter(np.full(self.channels, 1.0 / (kh * kw), dtype=get_default_dtype()))

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override, weight=self.weight)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        s += ", ceil_mode=True" if self.ceil_mode else ""
        s += ", count_include_pad=False" if not self.count_include_pad else ""
        s += f", divisor_override={self.divisor_override}" if self.divisor_override is not None else ""
        return s + (f", channels={self.channels}" if self.channels is not None else "")


class MaxUnpool2d(Module):
    """The partial inverse of MaxPool2d (``F.max_unpool2d``): ``forward(x, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else check.pair(stride, "stride")
        self.padding = check.pair(padding, "padding", minimum=0)

    def forward(self, x, indices, output_size=None):
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (``F.adaptive_avg_pool2d``; None keeps an axis)."""

    def __init__(self, output_size):
        super().__init__()
        check.adaptive_output_size(output_size, (1, 1), "AdaptiveAvgPool2d")
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size`` (``F.adaptive_max_pool2d``); ``return_indices`` as MaxPool2d."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        check.adaptive_output_size(output_size, (1, 1), "AdaptiveMaxPool2d")
        self.output_size = output_size
        self.return_indices = check.boolean(return_indices, "return_indices")

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


#: padding, ceil_mode, count_include_pad and divisor_override as Subsampling has them (AvgPool2d's defaults)
_SUBSAMPLING_OPTIONS = ((0, 0), False, True, None)


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
        # the window options of AvgPool2d that LeNet's subsampling does not have
        if (self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override) != _SUBSAMPLING_OPTIONS:
            for name, default in zip(("padding", "ceil_mode", "count_include_pad", "divisor_override"),
                                     _SUBSAMPLING_OPTIONS):
                if getattr(self, name) != default:
                    raise ValueError(f"Subsampling has no {name} (got {getattr(self, name)!r}); use "
                                     f"AvgPool2d(..., channels=C) for a weighted average pooling with it")
        # one pass: w·Σ(window) + b (a separate "+ bias" would read and write the maps again)
        return subsampling(x, self.kernel_size, self.weight, self.bias, self.stride)


class Upsample(Module):
    """Resize the maps (``F.interpolate``): ``Upsample(size=None, scale_factor=None,
    mode='nearest', align_corners=None)``, read at every call as PyTorch's layer."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        if isinstance(scale_factor, (tuple, list)):  # kept as floats, as PyTorch keeps (and prints) them
            scale_factor = tuple(float(check.real(f, "Upsample: scale_factor", 0.0, low_open=True)) for f in scale_factor)
        elif scale_factor is not None:
            scale_factor = float(check.real(scale_factor, "Upsample: scale_factor", 0.0, low_open=True))
        self.size, self.scale_factor = size, scale_factor
        self.mode = check.one_of(mode, "Upsample: mode", ("nearest", "bilinear"))
        self.align_corners = align_corners

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """The older name of ``Upsample(mode='nearest')``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """The older name of ``Upsample(mode='bilinear', align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class PixelShuffle(Module):
    """``(*, C·r², H, W)`` → ``(*, C, H·r, W·r)`` (``F.pixel_shuffle``): sub-pixel upsampling."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = check.positive_int(upscale_factor, "PixelShuffle: upscale_factor")

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H·r, W·r)`` → ``(*, C·r², H, W)`` (``F.pixel_unshuffle``)."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = check.positive_int(downscale_factor, "PixelUnshuffle: downscale_factor")

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """ShuffleNet's channel shuffle over ``groups`` groups (``F.channel_shuffle``)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = check.positive_int(groups, "ChannelShuffle: groups")

    def forward(self, x):
        return F.channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
