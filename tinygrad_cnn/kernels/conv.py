"""The convolution layer's three rules on one engine, and the array helpers they are written with.

Notation (Lecture 8, 0-based indices, stride S = ``(sh, sw)``, dilation D)::

    forward            Z^{h} = Σ_{l ∈ C^{h}} W^{(h,l)} ⊛ A^{l}                      correlate(pad(V), W)
    input gradient     dA^{l} = Σ_{h : l ∈ C^{h}} rot180(W^{(h,l)}) ⋆ dZ^{h}        correlate(pad(dilate(dZ)), rot180(W)ᵀ)
    weight gradient    dW^{(h,l)} = dZ^{h} ⋆ V^{l}                                 weight_gradient(dZ, V)
    bias gradient      db^{h} = Σ_i Σ_j dz^{h}_{i,j}                                a numpy sum

The engine (:func:`correlate.correlate`) and the weight gradient
(:func:`conv_weight_grad.weight_gradient`) each pick direct tap loops, the same
loops with the examples innermost, or im2col + BLAS by a small cost model; the
naive loops that say what they must compute are in ``conv_reference.py``.

This module holds the array-level helpers the rules are written with
(:func:`rot180`, :func:`dilate`, :func:`pad`, :func:`full_padding`) and the
kernel-level entry points ``conv2d_forward``, ``conv2d_backward_input`` and
``conv2d_backward_weight`` on an already padded input (stride as two ints, a
connection matrix), which the tests and the figures call directly.
"""
import numpy as np

from .conv_reference import conv2d_backward_reference, conv2d_reference  # noqa: F401  (re-exported)
from .conv_weight_grad import weight_gradient
from .correlation import correlate, pad

__all__ = ["rot180", "dilate", "pad", "full_padding", "transpose_maps", "conv2d_forward", "conv2d_backward_input",
           "conv2d_backward_weight"]


# --------------------------------------------------------------- array helpers of the rules
def rot180(a):
    """``rot180(A)_{i,j} = a_{R−1−i, C−1−j}``: the last two axes rotated by 180 degrees.

    A view (negative strides), as is :func:`transpose_maps`: the correlation
    engine copies the kernels only on the path that needs them laid out in order.
    """
    return a[..., ::-1, ::-1]


def dilate(a, stride):
    """Insert S−1 zeros between neighbouring elements of the last two axes (the identity for S = 1).

    A strided forward pass only visits every S-th window; dilating dZ puts each
    gradient back at its window's position, so the input gradient becomes a
    stride-1 correlation.
    """
    sh, sw = stride
    if sh == 1 and sw == 1:
        return a
    *lead, H, W = a.shape
    out = np.zeros((*lead, (H - 1) * sh + 1, (W - 1) * sw + 1), dtype=a.dtype)
    out[..., ::sh, ::sw] = a
    return out


def full_padding(kernel, dilation, dz_shape, input_shape, crop=(0, 0, 0, 0)):
    """``(top, bottom, left, right)`` that turns the dilated dZ into the full correlation's input.

    (kh − 1)·D zeros above and to the left, so that every tap of the (dilated)
    kernel overlapping dZ is counted; below and to the right as many as make the
    result the padded input's size (more than (kh − 1)·D when the stride left
    rows of the input unvisited: their gradient is 0).  ``crop``, the forward's
    zero padding P^d, is taken off each side: the correlation then computes only
    the cells of A, not those of the padding (a negative amount crops dZ).
    """
    (kh, kw), (dh, dw) = kernel, dilation
    Hd, Wd = dz_shape[-2:]
    Hp, Wp = input_shape[-2:]
    top, bottom, left, right = crop
    return dh * (kh - 1) - top, Hp - Hd - bottom, dw * (kw - 1) - left, Wp - Wd - right


def transpose_maps(w):
    """``(O, C, kh, kw)`` → ``(C, O, kh, kw)``: the kernel of the pair (h, l) becomes that of (l, h) (a view)."""
    return w.transpose(1, 0, 2, 3)


# --------------------------------------------------------------- kernel-level entry points
def conv2d_forward(xp, w, bias, sh, sw, conn, dilation=(1, 1)):
    """Z^{h} = b^{h} + Σ_{l ∈ C^{h}} W^{(h,l)} ⊛ A^{l} on the zero-padded ``xp``: ``(N, O, Ho, Wo)``."""
    return correlate(xp, w, (sh, sw), dilation, conn, bias)


def conv2d_backward_input(dz, w, sh, sw, conn, Hp, Wp, dilation=(1, 1)):
    """dA^{l} = Σ_{h : conn[h,l]=1} rot180(W^{(h,l)}) ⋆ dZ^{h}: ``(N, C, Hp, Wp)`` for the padded input.

    The full correlation of the stride-dilated dZ with the 180°-rotated kernels,
    maps transposed; cells no window touched get 0 (the caller crops the padding).
    """
    dzd = dilate(dz, (sh, sw))
    return correlate(dzd, transpose_maps(rot180(w)), (1, 1), dilation, np.asarray(conn).T,
                     padding=full_padding(w.shape[2:], dilation, dzd.shape, (Hp, Wp)))


def conv2d_backward_weight(dz, xp, kh, kw, sh, sw, conn, dilation=(1, 1)):
    """dW^{(h,l)} = dZ^{h} ⋆ V^{l} summed over the batch: ``(O, C, kh, kw)``, 0 for unconnected pairs."""
    return weight_gradient(dz, xp, (kh, kw), (sh, sw), dilation, conn)
