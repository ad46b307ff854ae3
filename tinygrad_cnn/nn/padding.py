"""Padding layers, PyTorch's: ``ReflectionPad{1,2,3}d``, ``ReplicationPad…``, ``CircularPad…``,
``ZeroPad…`` and ``ConstantPad…``; each calls ``F.pad`` in its mode.

``padding`` is an int (every side) or 2, 4 or 6 ints in PyTorch's order, the last
dimension first: ``(left, right)``, ``(left, right, top, bottom)``, then
``(front, back)``.  A 1d layer pads the last dimension of a 2-D or 3-D input, a 2d
layer the last two of a 3-D or 4-D one, a 3d layer the last three of a 4-D or 5-D
one (the constant ones take any input with enough dimensions).
"""

from __future__ import annotations

from .. import _checks as check
from .. import functional as F
from .module import Module

__all__ = ["ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
           "CircularPad1d", "CircularPad2d", "CircularPad3d",
           "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ConstantPad1d", "ConstantPad2d", "ConstantPad3d"]


class _Pad(Module):
    """y = F.pad(x, padding, mode): the class says the mode and how many dimensions it pads."""

    mode = "constant"
    dims = 2

    def __init__(self, padding):
        super().__init__()
        self.padding = check.pad_sizes(padding, self.dims, type(self).__name__)

    def forward(self, x):
        return F.pad(x, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    """Padding with a constant ``value``."""

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = check.real(value, f"{type(self).__name__}: value")

    def forward(self, x):
        return F.pad(x, self.padding, mode="constant", value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_ConstantPad):
    """Padding with zeros (the lecture's P^d)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_Pad):
    """Mirror the last dimension at its edges, the edge itself not repeated."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_Pad):
    """Mirror the last two dimensions at their edges, the edges not repeated."""
    mode, dims = "reflect", 2


class ReflectionPad3d(_Pad):
    """Mirror the last three dimensions at their edges, the edges not repeated."""
    mode, dims = "reflect", 3


class ReplicationPad1d(_Pad):
    """Repeat the edge values of the last dimension."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_Pad):
    """Repeat the edge values of the last two dimensions."""
    mode, dims = "replicate", 2


class ReplicationPad3d(_Pad):
    """Repeat the edge values of the last three dimensions."""
    mode, dims = "replicate", 3


class CircularPad1d(_Pad):
    """Wrap the last dimension around (periodic padding)."""
    mode, dims = "circular", 1


class CircularPad2d(_Pad):
    """Wrap the last two dimensions around (periodic padding)."""
    mode, dims = "circular", 2


class CircularPad3d(_Pad):
    """Wrap the last three dimensions around (periodic padding)."""
    mode, dims = "circular", 3


class ZeroPad1d(_ZeroPad):
    """Pad the last dimension with zeros."""
    dims = 1


class ZeroPad2d(_ZeroPad):
    """Pad the last two dimensions with zeros."""
    dims = 2


class ZeroPad3d(_ZeroPad):
    """Pad the last three dimensions with zeros."""
    dims = 3


class ConstantPad1d(_ConstantPad):
    """Pad the last dimension with ``value``."""
    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last two dimensions with ``value``."""
    dims = 2


class ConstantPad3d(_ConstantPad):
    """Pad the last three dimensions with ``value``."""
    dims = 3
