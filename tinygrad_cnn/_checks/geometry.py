"""Convolution and pooling geometry: padding, the one output-size formula, the connection
matrix, size bounds and the pooling options."""

from __future__ import annotations

import numpy as np

from .scalars import MAX_EXTENT, is_int, pair


# --------------------------------------------------------------- convolution geometry
def padding(value, kernel: tuple, stride: tuple, dilation: tuple = (1, 1),
            maximum: int | None = MAX_EXTENT) -> tuple:
    """(top, bottom, left, right) zero padding P^d from an int, a pair or a mode name.

    ``'valid'`` is no padding, ``'full'`` is (extent − 1) on every side and ``'same'``
    (stride 1 only) keeps the size, the odd pixel of an even kernel going to the
    bottom/right as in PyTorch.  The extent of a dilated kernel is d·(k − 1) + 1.
    """
    eh = dilation[0] * (kernel[0] - 1) + 1
    ew = dilation[1] * (kernel[1] - 1) + 1
    if isinstance(value, str):
        if value == "valid":
            return 0, 0, 0, 0
        if value == "full":
            return eh - 1, eh - 1, ew - 1, ew - 1
        if value == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride {tuple(stride)}")
            return (eh - 1) // 2, eh // 2, (ew - 1) // 2, ew // 2
        raise ValueError(f"padding must be an int, a pair, 'valid', 'same' or 'full', got {value!r}")
    try:
        ph, pw = pair(value, "padding", minimum=0, maximum=maximum)
    except TypeError:
        raise TypeError(f"padding must be an int, a pair of ints or a mode name, got {value!r}") from None
    return ph, ph, pw, pw


def output_size(size: int, kernel: int, stride: int = 1, pad_total: int = 0,
                dilation: int = 1, ceil_mode: bool = False) -> int:
    """The number of window positions along one axis (the one output-size formula).

    ``floor((size + pad_total − dilation·(kernel − 1) − 1) / stride) + 1``; with
    ``ceil_mode`` the division rounds up, but (as in PyTorch) the last window must
    start inside the input or the left padding.  Returns 0 or less when no window fits.
    As in PyTorch, ceil_mode rounds a span shorter than one window (−stride < span < 0)
    up to one window hanging off the end.
    """
    span = size + pad_total - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return max(span // stride + 1, 0)
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad_total // 2:
        out -= 1
    return out


def connection(value, out_channels: int, in_channels: int, op: str = "conv2d") -> np.ndarray:
    """The connection matrix C^m as a C-contiguous ``(O, C)`` uint8 0/1 array (all ones for None)."""
    if value is None:
        return np.ones((out_channels, in_channels), dtype=np.uint8)
    m = np.asarray(value.data if hasattr(value, "data") and not isinstance(value, np.ndarray) else value)
    if m.dtype.kind not in "biuf":
        raise TypeError(f"{op}: connection must be a 0/1 array, got dtype {m.dtype}")
    if m.shape != (out_channels, in_channels):
        raise ValueError(
            f"{op}: connection must have shape (O, C) = ({out_channels}, {in_channels}), got {m.shape}"
        )
    if not np.all((m == 0) | (m == 1)):
        raise ValueError(f"{op}: connection must hold only 0 and 1")
    return np.ascontiguousarray(m, dtype=np.uint8)


def conv_groups(value, in_channels: int, out_channels: int, op: str = "conv2d") -> int:
    """The ``groups`` of a convolution: a positive int dividing both ``in_channels`` and ``out_channels``."""
    from .scalars import positive_int

    g = positive_int(value, f"{op}: groups")
    if in_channels % g or out_channels % g:
        raise ValueError(f"{op}: groups={g} must divide both in_channels ({in_channels}) "
                         f"and out_channels ({out_channels})")
    return g


# --------------------------------------------------------------- sizes of conv/pool arrays
#: The most elements a padded input or an output of one conv/pool call may hold
#: (2**31: 8 GiB in float32, 16 GiB in float64), far beyond any network here.
MAX_ELEMENTS = 1 << 31


def window_geometry(op: str, x_shape: tuple, kernel: tuple, stride: tuple, pad: tuple = (0, 0, 0, 0),
                    out_channels: int | None = None, dilation: tuple = (1, 1),
                    kernel_name: str = "kernel_size") -> None:
    """Refuse a conv/pool call whose extents or arrays are absurd, before anything is allocated.

    ``x_shape`` is the 4-D ``(N, C, H, W)`` input, ``kernel``, ``stride`` and
    ``dilation`` pairs, ``pad`` the ``(top, bottom, left, right)`` zero padding
    and ``out_channels`` the number of output maps (``C`` when None, as in
    pooling).  Strides, dilations and kernel extents must be ints >= 1 and the
    padding ints >= 0 (checked here too, as the last step before a kernel, since a
    layer's attributes can change after its constructor checked them).  Each
    extent must be at most ``MAX_EXTENT`` (a stride of 2**63 would overflow a
    kernel's 64-bit index) and the padded input and the output
    at most ``MAX_ELEMENTS`` elements; otherwise ``ValueError`` names the
    argument responsible and the shapes.
    """
    for name, values, low in (("stride", stride, 1), ("padding", pad, 0), ("dilation", dilation, 1),
                              (kernel_name, kernel, 1)):
        # the lower bounds again: a layer's attributes may have been changed since they were checked
        for v in values:
            if type(v) is not int and not is_int(v):
                raise TypeError(f"{op}: {name} must be ints, got {tuple(values)!r} (x {tuple(x_shape)})")
        if min(values) < low:
            raise ValueError(f"{op}: {name} must be >= {low}, got {tuple(values)} (x {tuple(x_shape)})")
        if max(values) > MAX_EXTENT:
            raise ValueError(f"{op}: {name} must be <= {MAX_EXTENT}, got {tuple(values)} (x {tuple(x_shape)})")
    N, C, H, W = (int(s) for s in x_shape)
    top, bottom, left, right = pad
    padded = (N, C, H + top + bottom, W + left + right)
    if padded != (N, C, H, W) and _count(padded) > MAX_ELEMENTS:
        raise ValueError(
            f"{op}: padding {tuple(pad)} (top, bottom, left, right) makes the padded input {padded} "
            f"hold {_count(padded):,} elements, more than the {MAX_ELEMENTS:,} allowed (x {tuple(x_shape)})"
        )
    out = (
        N,
        C if out_channels is None else int(out_channels),
        max(output_size(H, kernel[0], stride[0], top + bottom, dilation[0]), 0),
        max(output_size(W, kernel[1], stride[1], left + right, dilation[1]), 0),
    )
    if _count(out) > MAX_ELEMENTS:
        raise ValueError(
            f"{op}: the output {out} would hold {_count(out):,} elements, more than the "
            f"{MAX_ELEMENTS:,} allowed (x {tuple(x_shape)}, {kernel_name} {tuple(kernel)}, "
            f"stride {tuple(stride)}, padding {tuple(pad)})"
        )


def single(value, name: str, minimum: int = 1) -> int:
    """An int, or a one-element tuple or list of one, as PyTorch's 1-d layers take a size."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a tuple of one int, got {tuple(value)}")
        value = value[0]
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if int(value) < minimum or int(value) > MAX_EXTENT:
        raise ValueError(f"{name} must lie in [{minimum}, {MAX_EXTENT}], got {int(value)}")
    return int(value)


def array_size(op: str, what: str, shape: tuple) -> None:
    """Refuse an array ``shape`` of more than ``MAX_ELEMENTS`` elements that ``op`` would allocate,
    naming ``what`` it is (the shapes it comes from in the text)."""
    if _count(shape) > MAX_ELEMENTS:
        raise ValueError(f"{op}: {what} {tuple(shape)} would hold {_count(shape):,} elements, more than the "
                         f"{MAX_ELEMENTS:,} allowed")


def _count(shape: tuple) -> int:
    """Elements of ``shape``, in Python ints (no overflow)."""
    n = 1
    for s in shape:
        n *= int(s)
    return n


# --------------------------------------------------------------- pooling options
def pool_padding(value, kernel: tuple, op: str) -> tuple:
    """Pooling padding ``(ph, pw)`` from an int or a pair: >= 0 and at most half the window, as PyTorch."""
    ph, pw = pair(value, "padding", minimum=0)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half of kernel_size {tuple(kernel)} on each axis")
    return ph, pw


def pool_output(op: str, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple = (0, 0),
                dilation: tuple = (1, 1), ceil_mode: bool = False) -> tuple:
    """The ``(Ho, Wo)`` of a pooling; ``ValueError`` when no window fits or the arrays are absurd."""
    nonempty_maps(x_shape, x_shape, op)
    H, W = x_shape[2:]
    ph, pw = padding
    out = (output_size(H, kernel[0], stride[0], 2 * ph, dilation[0], ceil_mode),
           output_size(W, kernel[1], stride[1], 2 * pw, dilation[1], ceil_mode))
    window_geometry(op, x_shape, kernel, stride, (ph, ph, pw, pw), dilation=dilation)
    if min(out) < 1:
        extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{op}: kernel_size {tuple(kernel)} is larger than the input's spatial size ({H}, {W})"
            + (f" padded by {tuple(padding)}" if padding != (0, 0) else "")
            + (f" (dilated extent {extent})" if dilation != (1, 1) else "") + f" (x {tuple(x_shape)})"
        )
    return out


def nonempty_maps(x4_shape: tuple, x_shape: tuple, op: str) -> None:
    """Refuse a pooling of no maps or of empty maps (a batch of 0 examples is fine, as in PyTorch)."""
    if min(x4_shape[1:]) < 1:
        raise ValueError(f"{op}: x must have at least one channel, row and column, got shape {tuple(x_shape)}")


def adaptive_output_size(value, in_hw: tuple, op: str) -> tuple:
    """An adaptive pooling's ``output_size``: an int, or a pair whose ``None`` entries keep the input's size."""
    items = (value, value) if is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(v is None or is_int(v) for v in items):
        raise TypeError(f"{op}: output_size must be an int or a pair of ints (None keeps that size), got {value!r}")
    out = tuple(int(size) if v is None else int(v) for v, size in zip(items, in_hw))
    if min(out) < 1 or max(out) > MAX_EXTENT:
        raise ValueError(f"{op}: output_size must lie in [1, {MAX_EXTENT}], got {value!r}")
    return out


def unpool_output_size(value, default_hw: tuple, stride: tuple, op: str) -> tuple:
    """``max_unpool2d``'s output size: the default ``(H−1)·S − 2P + k`` or ``output_size`` (its last two
    entries), each strictly within one stride of the default, as PyTorch."""
    if value is None:
        out = default_hw
    else:
        items = tuple(value) if isinstance(value, (tuple, list)) else None
        if items is None or len(items) not in (2, 3, 4) or not all(is_int(v) for v in items):
            raise TypeError(f"{op}: output_size must be a tuple of ints (H, W), (C, H, W) or (N, C, H, W), "
                            f"got {value!r}")
        out = tuple(int(v) for v in items[-2:])
    for size, default, s in zip(out, default_hw, stride):
        if not default - s < size < default + s or size < 1:
            raise ValueError(f"{op}: output_size {tuple(out)} must lie strictly between "
                             f"{tuple(d - t for d, t in zip(default_hw, stride))} and "
                             f"{tuple(d + t for d, t in zip(default_hw, stride))} (default {tuple(default_hw)})")
    return out


def unpool_indices(indices, x_shape: tuple, out_hw: tuple, op: str) -> np.ndarray:
    """Max-pooling indices for ``max_unpool2d``: a new int64 array of ``x``'s shape, each in ``[0, Ho·Wo)``."""
    idx = indices.data if hasattr(indices, "data") and not isinstance(indices, np.ndarray) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer array, got dtype {idx.dtype} with shape {idx.shape}")
    if idx.shape != tuple(x_shape):
        raise ValueError(f"{op}: indices must have the shape of x {tuple(x_shape)}, got {idx.shape}")
    limit = out_hw[0] * out_hw[1]
    if idx.size and (idx.min() < 0 or idx.max() >= limit):
        raise ValueError(f"{op}: indices must lie in [0, {limit - 1}] for an output of size {tuple(out_hw)}, "
                         f"got values from {idx.min()} to {idx.max()}")
    # always a copy: the backward pass reads these indices later, and a caller changing
    # their array in between must not send it outside dY
    return np.array(idx, dtype=np.int64, order="C")
