"""The convolution weight function Z = W ⊛ V + b, its transpose, and rot180."""

from __future__ import annotations

import numpy as np

from .. import _checks as check
from ..ops import conv as _conv
from ..ops import unfold as _unfold_ops
from ..tensor import Tensor

__all__ = ["conv2d", "conv_transpose2d", "unfold", "fold", "rot180"]

_IMAGE = "(N, C, H, W), (C, H, W) or (H, W)"


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, connection=None) -> Tensor:
    """The convolution weight function Z = W ⊛ V (+ b), cross-correlation as in PyTorch.

    z_{i,j} = Σ_k Σ_l w_{k,l} v_{i·S+k·D, j·S+l·D} (0-based), summed over the
    connected input maps l ∈ C^{h} of each output map h.

    Args:
        x: ``(N, C, H, W)``, ``(C, H, W)`` or the lecture's single matrix ``(H, W)``.
        weight: ``(O, C/groups, kh, kw)``; ``(kh, kw)`` with a 2-D ``x``.
        bias: ``(O,)``, one scalar per feature map (``()`` or ``(1,)`` with a 2-D ``x``).
        stride: S^t, an int or ``(sh, sw)``, each >= 1.
        padding: P^d, an int, ``(ph, pw)``, ``'valid'``, ``'same'`` (stride 1) or ``'full'``.
        dilation: D, an int or ``(dh, dw)``, each >= 1: the kernel's taps are D apart
            (its extent is D·(k − 1) + 1).
        groups: g >= 1, dividing C and O: output map h sees only the C/g input maps of its
            group, a block-diagonal connection matrix.
        connection: optional ``(O, C)`` 0/1 connection matrix C^m; output map h sums only
            over input maps l with ``connection[h, l] == 1`` and unconnected kernels get
            exactly zero gradient (their work is skipped).  With ``groups`` both apply
            (their AND): the table's entries outside the groups' blocks are ignored.

    Returns ``(N, O, Ho, Wo)`` (``(O, Ho, Wo)`` or ``(Ho, Wo)`` for unbatched input) with
    Ho = ``_checks.output_size(H, kh, sh, pad_top + pad_bottom, dh)``.
    """
    groups = check.positive_int(groups, "conv2d: groups")
    x, weight, bias = conv2d_tensors(x, weight, bias, groups)
    O, Cg, kh, kw = weight.shape
    # the upper bounds are checked by window_geometry, which names the shapes
    stride = check.pair(stride, "stride", maximum=None)
    dilation = check.pair(dilation, "dilation", maximum=None)
    pad = check.padding(padding, (kh, kw), stride, dilation, maximum=None)
    conn = check.connection(connection, O, Cg * groups)
    if connection is not None:  # the call's own copy: changing the caller's array later cannot change the gradient
        conn = conn.copy()
    conn = grouped_connection(conn, groups)
    return conv2d_normalised(x, weight, bias, stride, pad, conn, padding, dilation, groups)


def grouped_connection(conn: np.ndarray, groups: int) -> np.ndarray:
    """The connection matrix of ``groups`` groups (block-diagonal) AND ``conn``, uint8 ``(O, C)``."""
    if groups == 1:
        return conn
    return np.ascontiguousarray(conn & _conv.group_connection(groups, *conn.shape))


def conv2d_tensors(x, weight, bias, groups=1) -> tuple:
    """Check the tensors of a convolution; a 2-D ``x`` takes a 2-D weight and a scalar bias,
    which come back as ``(1, 1, kh, kw)`` and ``(1,)``.  Returns ``(x, weight, bias)``."""
    x = check.float_tensor(x, "x")
    weight = check.float_tensor(weight, "weight")
    if bias is not None:
        bias = check.float_tensor(bias, "bias")
    if x.ndim == 2:
        if weight.ndim != 2:
            raise ValueError(f"conv2d: a 2-D input {x.shape} takes a 2-D (kh, kw) weight, got shape {weight.shape}")
        weight = weight.reshape((1, 1) + weight.shape)
        if bias is not None:
            if bias.shape not in ((), (1,)):
                raise ValueError(f"conv2d: a 2-D input takes a scalar bias, got shape {bias.shape}")
            bias = bias.reshape(1)
    check.rank(x, (2, 3, 4), "x", "conv2d", _IMAGE)
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (O, C, kh, kw), got shape {weight.shape} for input {x.shape}")
    O, Cw = weight.shape[:2]
    C = x.shape[-3] if x.ndim > 2 else 1
    if groups != 1:
        groups = check.conv_groups(groups, C, O)
    if Cw * groups != C:
        raise ValueError(f"conv2d: weight {weight.shape} expects {Cw * groups} input channels "
                         f"({Cw} per group × groups={groups}) but x {x.shape} has {C}" if groups != 1 else
                         f"conv2d: weight {weight.shape} expects {Cw} input channels but x {x.shape} has {C}")
    if min(weight.shape) < 1 or min(x.shape) < 1:
        raise ValueError(f"conv2d: empty dimension in x {x.shape} or weight {weight.shape}")
    check.same_dtype(x, weight, "x", "weight", "conv2d")
    if bias is not None:
        if bias.shape != (O,):
            raise ValueError(f"conv2d: bias must have shape ({O},) for weight {weight.shape}, got {bias.shape}")
        check.same_dtype(bias, weight, "bias", "weight", "conv2d")
    return x, weight, bias


def conv2d_normalised(x: Tensor, weight: Tensor, bias, stride: tuple, pad: tuple, conn: np.ndarray,
                      padding_arg=None, dilation: tuple = (1, 1), groups: int = 1) -> Tensor:
    """:func:`conv2d` on tensors from :func:`conv2d_tensors` and geometry already normalised
    (``stride`` and ``dilation`` pairs, ``pad`` (top, bottom, left, right), ``conn`` a uint8
    ``(O, C)`` array holding the groups' blocks), as ``nn.Conv2d`` stores them; only the fit
    of the kernel in the padded input is checked."""
    x4, rank = check.as_4d(x, "x", "conv2d")
    H, W = x4.shape[2:]
    kh, kw = weight.shape[2:]
    Ho = check.output_size(H, kh, stride[0], pad[0] + pad[1], dilation[0])
    Wo = check.output_size(W, kw, stride[1], pad[2] + pad[3], dilation[1])
    if Ho < 1 or Wo < 1:
        extent = "" if dilation == (1, 1) else f" with dilation {dilation} (extent ({dilation[0] * (kh - 1) + 1}, {dilation[1] * (kw - 1) + 1}))"
        raise ValueError(
            f"conv2d: kernel ({kh}, {kw}){extent} is larger than the padded input "
            f"({H + pad[0] + pad[1]}, {W + pad[2] + pad[3]}) "
            f"(x {x.shape}, padding {pad if padding_arg is None else padding_arg!r})"
        )
    check.window_geometry("conv2d", x4.shape, (kh, kw), stride, pad, out_channels=weight.shape[0],
                          dilation=dilation, kernel_name="kernel")
    # the kernels index output and input maps through the table: it must fit this call
    if not (isinstance(conn, np.ndarray) and conn.dtype == np.uint8
            and conn.shape == (weight.shape[0], x4.shape[1])):
        raise ValueError(f"conv2d: the connection matrix must be a uint8 (O, C) = ({weight.shape[0]}, "
                         f"{x4.shape[1]}) array for weight {weight.shape} and x {x.shape}, got "
                         f"{getattr(conn, 'shape', type(conn).__name__)}")
    tensors = (x4, weight) if bias is None else (x4, weight, bias)
    z = _conv.Conv2d.apply(*tensors, stride=stride, padding=pad, conn=conn, dilation=dilation, groups=groups)
    return check.from_4d(z, rank)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The transposed convolution ("deconvolution"), PyTorch's ``conv_transpose2d``: the adjoint
    of :func:`conv2d`, which each input pixel scatters a scaled copy of its kernel for.

    Args:
        x: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_in, C_out/groups, kh, kw)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: those of the convolution it transposes (ints or pairs);
            ``padding`` takes ``dilation·(k − 1) − padding`` off each side of the full result.
        output_padding: rows and columns added at the bottom and right (each smaller than the
            stride or the dilation), to reach the sizes a strided convolution maps to one.
        groups: C_in and C_out split into that many groups, each transposed separately.

    Returns ``(N, C_out, Ho, Wo)`` with Ho = (H − 1)·S − 2·P + D·(kh − 1) + output_padding + 1.
    """
    x = check.float_tensor(x, "x")
    weight = check.float_tensor(weight, "weight")
    check.rank(x, (3, 4), "x", "conv_transpose2d", "(N, C_in, H, W) or (C_in, H, W)")
    if weight.ndim != 4:
        raise ValueError(f"conv_transpose2d: weight must be (C_in, C_out/groups, kh, kw), got shape {weight.shape}")
    C = x.shape[-3]
    groups = check.positive_int(groups, "conv_transpose2d: groups")
    if weight.shape[0] != C:
        raise ValueError(f"conv_transpose2d: weight {weight.shape} expects {weight.shape[0]} input channels "
                         f"but x {x.shape} has {C}")
    if C % groups:
        raise ValueError(f"conv_transpose2d: groups={groups} must divide the input channels ({C})")
    O = weight.shape[1] * groups
    check.same_dtype(x, weight, "x", "weight", "conv_transpose2d")
    if bias is not None:
        bias = check.float_tensor(bias, "bias")
        if bias.shape != (O,):
            raise ValueError(f"conv_transpose2d: bias must have shape ({O},) for weight {weight.shape} and "
                             f"groups={groups}, got {bias.shape}")
        check.same_dtype(bias, weight, "bias", "weight", "conv_transpose2d")
    stride = check.pair(stride, "conv_transpose2d: stride")
    dilation = check.pair(dilation, "conv_transpose2d: dilation")
    ph, pw = check.pair(padding, "conv_transpose2d: padding", minimum=0)
    extra = check.pair(output_padding, "conv_transpose2d: output_padding", minimum=0)
    for e, s_, d in zip(extra, stride, dilation):
        if e >= max(s_, d):
            raise ValueError(f"conv_transpose2d: output_padding {extra} must be smaller than the stride {stride} "
                             f"or the dilation {dilation}")
    if min(x.shape) < 1 or min(weight.shape) < 1:
        raise ValueError(f"conv_transpose2d: empty dimension in x {x.shape} or weight {weight.shape}")
    x4, rank = check.as_4d(x, "x", "conv_transpose2d")
    kh, kw = weight.shape[2:]
    out_hw = tuple((n - 1) * s_ - 2 * p + d * (k - 1) + e + 1
                   for n, s_, p, d, k, e in zip(x4.shape[2:], stride, (ph, pw), dilation, (kh, kw), extra))
    if min(out_hw) < 1:
        raise ValueError(f"conv_transpose2d: padding ({ph}, {pw}) leaves an output of size {out_hw} for x {x.shape}, "
                         f"weight {weight.shape}, stride {stride} and dilation {dilation}")
    # what the kernels allocate: Y, and X dilated by the stride and padded by the kernel's extent
    N = x4.shape[0]
    check.array_size("conv_transpose2d", f"the output for x {x.shape} and weight {weight.shape}", (N, O) + out_hw)
    check.array_size("conv_transpose2d", f"x {x.shape} spread out by stride {stride} and padded for the kernel",
                     (N, C) + tuple((n - 1) * s_ + 1 + 2 * d * (k - 1)
                                    for n, s_, d, k in zip(x4.shape[2:], stride, dilation, (kh, kw))))
    # the convolution it transposes, from an input of Y's size to X's: its sizes and extents
    check.window_geometry("conv_transpose2d", (x4.shape[0], O) + out_hw, (kh, kw), stride, (ph, ph, pw, pw),
                          out_channels=C, dilation=dilation, kernel_name="kernel")
    tensors = (x4, weight) if bias is None else (x4, weight, bias)
    y = _conv.ConvTranspose2d.apply(*tensors, stride=stride, padding=(ph, ph, pw, pw), dilation=dilation,
                                    groups=groups, out_hw=out_hw)
    return check.from_4d(y, rank)


def _window_args(kernel_size, dilation, padding, stride, op):
    return (check.pair(kernel_size, f"{op}: kernel_size"), check.pair(stride, f"{op}: stride"),
            check.pair(dilation, f"{op}: dilation"), check.pair(padding, f"{op}: padding", minimum=0))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The windows of ``x`` ``(N, C, H, W)`` (or ``(C, H, W)``) as columns: ``(N, C·kh·kw, L)``,
    L the number of windows, row (c·kh + k)·kw + l, as PyTorch's ``F.unfold`` (im2col)."""
    x = check.float_tensor(x, "x")
    check.rank(x, (3, 4), "x", "unfold", "(N, C, H, W) or (C, H, W)")
    kernel, stride, dilation, padding = _window_args(kernel_size, dilation, padding, stride, "unfold")
    x4, rank = check.as_4d(x, "x", "unfold")
    pad = (padding[0], padding[0], padding[1], padding[1])
    check.window_geometry("unfold", x4.shape, kernel, stride, pad, dilation=dilation, kernel_name="kernel_size")
    out = [check.output_size(n, k, s_, 2 * p, d) for n, k, s_, p, d in zip(x4.shape[2:], kernel, stride, padding, dilation)]
    if min(out) < 1:
        raise ValueError(f"unfold: kernel_size {kernel} with dilation {dilation} does not fit x {x.shape} "
                         f"padded by {padding}")
    check.array_size("unfold", f"the columns of x {x.shape}", (x4.shape[0], x4.shape[1] * kernel[0] * kernel[1],
                                                                  out[0] * out[1]))
    cols = _unfold_ops.Unfold.apply(x4, kernel=kernel, stride=stride, dilation=dilation, padding=padding)
    return cols if rank == 4 else cols.reshape(cols.shape[1:])


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of :func:`unfold`: columns ``(N, C·kh·kw, L)`` (or ``(C·kh·kw, L)``) added back
    into the windows of an ``output_size`` map, overlaps summed: ``(N, C, H, W)``."""
    x = check.float_tensor(x, "x")
    check.rank(x, (2, 3), "x", "fold", "(N, C·kh·kw, L) or (C·kh·kw, L)")
    kernel, stride, dilation, padding = _window_args(kernel_size, dilation, padding, stride, "fold")
    H, W = check.pair(output_size, "fold: output_size")
    col = x if x.ndim == 3 else x.reshape((1,) + x.shape)
    N, rows, L = col.shape
    if rows % (kernel[0] * kernel[1]):
        raise ValueError(f"fold: dimension 1 of x {x.shape} must be divisible by kh·kw = {kernel[0] * kernel[1]}")
    blocks = [check.output_size(n, k, s_, 2 * p, d) for n, k, s_, p, d in zip((H, W), kernel, stride, padding, dilation)]
    if min(blocks) < 1 or blocks[0] * blocks[1] != L:
        raise ValueError(f"fold: x {x.shape} holds {L} windows but output_size {(H, W)} with kernel_size {kernel}, "
                         f"stride {stride}, dilation {dilation} and padding {padding} has {max(blocks[0], 0) * max(blocks[1], 0)}")
    check.array_size("fold", f"the output for x {x.shape}", (N, rows // (kernel[0] * kernel[1]), H, W))
    y = _unfold_ops.Fold.apply(col, output_size=(H, W), kernel=kernel, stride=stride, dilation=dilation,
                               padding=padding)
    return y if x.ndim == 3 else y.reshape(y.shape[1:])


def rot180(x) -> Tensor:
    """Rotate the last two axes by 180 degrees (differentiable): rot180(W)_{k,l} = w_{r−1−k, c−1−l}."""
    x = check.float_tensor(x, "x")
    if x.ndim < 2:
        raise ValueError(f"rot180: x needs at least 2 dimensions, got shape {x.shape}")
    return _conv.Rot180.apply(x)
