"""The convolution layer Z = W ⊛ V + b, with the lecture's connection matrix C^m."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from .. import functional as F
from .._dtypes import get_default_dtype
from .module import Module, Parameter, get_rng

__all__ = ["Conv2d", "ConvTranspose2d", "Unfold", "Fold"]

#: ``Conv2d``'s padding modes, PyTorch's names: zeros, or ``F.pad``'s modes that repeat the input.
PADDING_MODES = ("zeros",) + check.PAD_MODES


def _frozen(value):
    """A layer attribute as a comparable snapshot: lists and arrays (changeable in place) as tuples."""
    if isinstance(value, np.ndarray):
        return "array", value.dtype.str, value.shape, value.tobytes()
    return tuple(value) if isinstance(value, list) else value


def _connection_table(connection, out_channels, in_channels, groups, copy):
    """The read-only uint8 table a layer convolves with: ``connection`` (all ones for None;
    ``copy``: a copy, so that the caller's array stays theirs) AND the groups' blocks."""
    table = check.connection(connection, out_channels, in_channels, op="Conv2d")
    table = F.grouped_connection(table.copy() if copy else table, groups)
    table.flags.writeable = False
    return table


def conv_repr(layer) -> str:
    """PyTorch's text for a convolution layer (1-d or 2-d, transposed or not): the sizes, then the
    settings that differ from their defaults (a padding given by name is always shown)."""
    zeros, ones = (0,) * len(layer.kernel_size), (1,) * len(layer.kernel_size)
    s = f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, stride={layer.stride}"
    if isinstance(layer.padding, str) or layer.padding != zeros:
        s += f", padding={layer.padding}"
    if layer.dilation != ones:
        s += f", dilation={layer.dilation}"
    if getattr(layer, "output_padding", zeros) != zeros:
        s += f", output_padding={layer.output_padding}"
    if layer.groups != 1:
        s += f", groups={layer.groups}"
    if layer.bias is None:
        s += ", bias=False"
    if layer.padding_mode != "zeros":
        s += f", padding_mode={layer.padding_mode}"
    return s


class Conv2d(Module):
    """2-D convolution layer: Z = W ⊛ V + b for every output map (``F.conv2d``).

    ``weight`` is ``(out_channels, in_channels/groups, kh, kw)`` (PyTorch's shape),
    ``bias`` ``(out_channels,)``.  ``dilation`` spaces the kernel's taps, ``groups``
    splits the maps into that many blocks convolved separately (a block-diagonal
    connection matrix).  ``padding_mode``: ``'zeros'`` (the lecture's P^d, inside the
    convolution) or, as PyTorch, ``'reflect'``, ``'replicate'`` or ``'circular'``: the
    input is padded by ``F.pad`` in that mode first, then convolved unpadded.
    ``connection``: optional ``(out_channels, in_channels)`` 0/1 array, the
    lecture's connection matrix C^m (LeNet-5's C3 table): output map h sums only
    over input maps l with C[h, l] = 1 (with ``groups``, inside its group too).
    It is architecture, kept as a uint8 array and not part of ``state_dict``.

    Initialisation is PyTorch's default (kaiming_uniform with a = √5):
    weight and bias ~ U(−1/√fan_in, 1/√fan_in), fan_in = in_channels/groups·kh·kw.
    With a connection table fan_in is taken per output map and counts only its
    connected inputs (connected input maps · kh · kw); unconnected kernels start at
    exactly 0 and stay there, since ``F.conv2d`` gives them exactly zero gradient.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", connection=None):
        super().__init__()
        self.in_channels = check.positive_int(in_channels, "in_channels")
        self.out_channels = check.positive_int(out_channels, "out_channels")
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = check.pair(stride, "stride")
        self.dilation = check.pair(dilation, "dilation")
        self.groups = check.conv_groups(groups, self.in_channels, self.out_channels, op="Conv2d")
        self.padding_mode = check.one_of(padding_mode, "Conv2d: padding_mode", PADDING_MODES)
        # checked here; forward derives them again only when an attribute changes (_layout)
        self._pad = check.padding(padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else check.pair(padding, "padding", minimum=0)
        check.boolean(bias, "bias")

        kh, kw = self.kernel_size
        table = _connection_table(connection, self.out_channels, self.in_channels, self.groups,
                                  copy=connection is not None)
        self._table = table  # all ones without a connection matrix or groups
        self.connection = None if connection is None else table
        self._layout_of = None  # the attributes _pad and _table were last derived from
        fan_in = table.sum(axis=1).astype(np.int64) * kh * kw

        with np.errstate(divide="ignore"):
            bound = np.where(fan_in > 0, 1.0 / np.sqrt(np.maximum(fan_in, 1)), 0.0)  # per output map
        cg = self.in_channels // self.groups
        w = get_rng().uniform(-1.0, 1.0, size=(self.out_channels, cg, kh, kw)) * bound[:, None, None, None]
        if self.connection is not None:  # each output map's own group's columns of the table
            og = self.out_channels // self.groups
            mask = np.stack([table[h, (h // og) * cg:(h // og + 1) * cg] for h in range(self.out_channels)])
            w *= mask[:, :, None, None]
        self.weight = Parameter(w.astype(get_default_dtype()))
        self.bias = Parameter((get_rng().uniform(-1.0, 1.0, size=self.out_channels) * bound).astype(get_default_dtype())) if bias else None

    def forward(self, x):
        x, weight, bias = F.conv2d_tensors(x, self.weight, self.bias, self.groups)
        stride, pad, dilation, groups, table = self._layout(weight.shape)
        if self.padding_mode != "zeros":
            x, pad = self._pad_input(x, pad), (0, 0, 0, 0)
        return F.conv2d_normalised(x, weight, bias, stride, pad, table, self.padding, dilation, groups)

    def _pad_input(self, x, pad):
        """x padded by ``F.pad`` in ``padding_mode`` with the layer's (top, bottom, left, right)."""
        mode = check.one_of(self.padding_mode, "Conv2d: padding_mode", PADDING_MODES)
        top, bottom, left, right = pad
        try:
            return F.pad(x, (left, right, top, bottom), mode=mode)
        except ValueError as exc:
            raise ValueError(f"Conv2d(padding_mode={mode!r}, padding={self.padding!r}): {exc}") from None

    def _layout(self, weight_shape):
        """(stride, padding (top, bottom, left, right), dilation, groups, connection table) for
        this call.

        As in PyTorch, the layer's attributes and its weight's shape are read at every call,
        so ``conv.padding = 2`` or a new, larger ``conv.weight`` take effect; the normalised
        values are derived and checked again only when one of them has changed.
        """
        stride, padding, dilation = self.stride, self.padding, self.dilation
        if not (type(stride) is tuple and type(dilation) is tuple and type(padding) in (tuple, str)):
            # a list or an array can change in place: compare snapshots
            stride, padding, dilation = _frozen(stride), _frozen(padding), _frozen(dilation)
        now = (stride, padding, dilation, self.groups, weight_shape, self._connection_key())
        if now != self._layout_of:
            O, Cg, kh, kw = weight_shape
            stride = check.pair(self.stride, "Conv2d: stride")
            dilation = check.pair(self.dilation, "Conv2d: dilation")
            groups = check.positive_int(self.groups, "Conv2d: groups")
            self._pad = check.padding(self.padding, (kh, kw), stride, dilation)
            own = now[-1] == "own"  # the layer's own read-only table (else a user's array, or None)
            table = _connection_table(self.connection, O, Cg * groups, groups,
                                      copy=self.connection is not None and not own)
            if own:  # keep it the layer's own, so that it needs no content key
                self.connection = table
            self._table = table
            self._normalised = (stride, dilation, groups)
            self._layout_of = now
        stride, dilation, groups = self._normalised
        return stride, self._pad, dilation, groups, self._table

    def _connection_key(self):
        """What the table is derived from: nothing to compare for the layer's own read-only table,
        the contents of one the user assigned (which they may still change in place)."""
        c = self.connection
        if c is None or (c is self._table and not c.flags.writeable):
            return None if c is None else "own"
        a = np.asarray(c)
        return a.shape, a.dtype.str, a.tobytes()

    def _own_trainable_parameter_count(self) -> int:
        kh, kw = self.weight.shape[2:]
        kernels = int(self._table.sum())
        n = kernels * kh * kw if self.weight.requires_grad else 0
        if self.bias is not None and self.bias.requires_grad:
            n += self.bias.numel()
        return n

    def extra_repr(self) -> str:
        s = conv_repr(self)
        if self.connection is not None:
            s += f", connection={int(self.connection.sum())}/{self.connection.size} kernels"
        return s


class ConvTranspose2d(Module):
    """Transposed convolution layer (``F.conv_transpose2d``), PyTorch's: upsampling by a learned
    kernel, the adjoint of a ``Conv2d`` with the same geometry.

    ``weight`` is ``(in_channels, out_channels/groups, kh, kw)``, ``bias`` ``(out_channels,)``;
    ``forward(x, output_size=None)``: ``output_size`` (the last two sizes wanted) picks the
    output padding, for a strided layer that must invert a given convolution's shapes.
    Initialisation is PyTorch's: weight and bias ~ U(−1/√fan_in, 1/√fan_in) with
    fan_in = out_channels/groups·kh·kw (the weight's second axis, as PyTorch counts it).
    Only ``padding_mode='zeros'`` exists, as in PyTorch.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__()
        self.in_channels = check.positive_int(in_channels, "in_channels")
        self.out_channels = check.positive_int(out_channels, "out_channels")
        self.kernel_size = check.pair(kernel_size, "kernel_size")
        self.stride = check.pair(stride, "stride")
        self.padding = check.pair(padding, "padding", minimum=0)
        self.output_padding = check.pair(output_padding, "output_padding", minimum=0)
        self.dilation = check.pair(dilation, "dilation")
        self.groups = check.conv_groups(groups, self.in_channels, self.out_channels, op="ConvTranspose2d")
        self.padding_mode = check.one_of(padding_mode, "ConvTranspose2d: padding_mode", ("zeros",))
        check.boolean(bias, "bias")
        kh, kw = self.kernel_size
        fan_in = self.out_channels // self.groups * kh * kw
        bound = 1.0 / np.sqrt(fan_in)
        shape = (self.in_channels, self.out_channels // self.groups, kh, kw)
        self.weight = Parameter((get_rng().uniform(-1.0, 1.0, size=shape) * bound).astype(get_default_dtype()))
        self.bias = Parameter((get_rng().uniform(-1.0, 1.0, size=self.out_channels) * bound)
                              .astype(get_default_dtype())) if bias else None

    def forward(self, x, output_size=None):
        output_padding = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)

    def _output_padding(self, x, output_size):
        """The output padding that gives ``output_size`` (its last two entries), PyTorch's rule:
        each between the smallest output and that plus stride − 1."""
        if not isinstance(output_size, (tuple, list)) or len(output_size) < 2 or \
                not all(check.is_int(s) for s in output_size):
            raise TypeError(f"ConvTranspose2d: output_size must be a tuple of ints, got {output_size!r}")
        x = check.float_tensor(x, "x")
        wanted = tuple(int(s) for s in output_size[-2:])
        extra = []
        for d, (n, want) in enumerate(zip(x.shape[-2:], wanted)):
            s, p, dil, k = self.stride[d], self.padding[d], self.dilation[d], self.weight.shape[2 + d]
            smallest = (n - 1) * s - 2 * p + dil * (k - 1) + 1
            if not smallest <= want < smallest + s:
                raise ValueError(f"ConvTranspose2d: output_size {tuple(output_size)} is not reachable from x "
                                 f"{x.shape}: dimension {d} must lie in [{smallest}, {smallest + s - 1}]")
            extra.append(want - smallest)
        return tuple(extra)

    def extra_repr(self) -> str:
        return conv_repr(self)


class Unfold(Module):
    """Windows as columns (``F.unfold``, im2col), PyTorch's arguments kept as given."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        for name, value, low in (("kernel_size", kernel_size, 1), ("dilation", dilation, 1),
                                 ("padding", padding, 0), ("stride", stride, 1)):
            check.pair(value, f"Unfold: {name}", minimum=low)
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns back into maps, overlaps summed (``F.fold``, col2im)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        check.pair(output_size, "Fold: output_size")
        for name, value, low in (("kernel_size", kernel_size, 1), ("dilation", dilation, 1),
                                 ("padding", padding, 0), ("stride", stride, 1)):
            check.pair(value, f"Fold: {name}", minimum=low)
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x):
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
