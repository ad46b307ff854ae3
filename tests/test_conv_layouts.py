"""The correlation engine's layouts and path choice: how a padded example is laid out for
the tap loops (wide rows, shared padding, shifted copies), the weight gradient padding V
itself, and the cost model's choice for a kernel that covers the whole map.  Each against
the naive loops of ``conv_reference`` on the zero-padded input."""

import numpy as np
import pytest

from tinygrad_cnn import figures
from tinygrad_cnn import kernels as K
from tinygrad_cnn.kernels.conv import conv2d_backward_reference, conv2d_reference

TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-10, atol=1e-12)}


def assert_close(got, ref, dtype):
    np.testing.assert_allclose(got, ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding, kernel, dilation", [
    ((4, 4, 4, 4), (5, 5), (1, 1)),   # the full correlation of C3's dZ
    ((5, 4, 4, 6), (5, 5), (1, 1)),   # wider on one side
    ((4, 5, 4, 4), (3, 3), (2, 2)),   # dilated: the extent is 4
    ((1, 1, 4, 4), (2, 5), (1, 1)),   # only the columns padded by the extent
    ((4, 4, 4, 3), (5, 5), (1, 1)),   # one side short of the extent: shifted copies
    ((1, 1, 1, 1), (3, 3), (1, 1)),   # a 3×3 'same' convolution: shifted copies
    ((2, 0, 3, 1), (3, 2), (2, 1)),   # uneven, dilated rows
    ((2, 2, 0, 0), (3, 3), (1, 1)),   # rows only: wide rows
    ((0, 0, 8, 0), (1, 8), (1, 1)),   # a copy that sees only padding
])
def test_correlate_with_padding_matches_reference(dtype, padding, kernel, dilation):
    """The taps pad each example (or map) in a buffer: with both sides padded by at least the
    kernel's extent a row's right padding is the next row's left padding, with other column
    padding the loops read shifted copies of each map; both write the output in place.
    Every layout against the naive loops on the zero-padded input."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 6, 7)).astype(dtype)
    w = rng.standard_normal((5, 4) + kernel).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    conn = (rng.random((5, 4)) < 0.7).astype(np.uint8)
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    with K.force_path("taps"):
        z = K.correlate(x, w, (1, 1), dilation, conn, b, padding=padding)
    assert z.dtype == dtype
    assert_close(z, conv2d_reference(xp, w, b, (1, 1), (0, 0), conn, dilation), dtype)
    # negative control: the reference notices a shifted input
    assert not np.allclose(z, conv2d_reference(np.roll(xp, 1, axis=3), w, b, (1, 1), (0, 0), conn, dilation))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["taps", "im2col", None])
@pytest.mark.parametrize("padding, kernel, dilation", [
    ((1, 1, 1, 1), (3, 3), (1, 1)),
    ((2, 0, 3, 1), (3, 2), (2, 1)),
    ((4, 4, 4, 4), (5, 5), (1, 1)),
    ((0, 1, 6, 0), (2, 6), (1, 1)),   # a copy that sees only padding
])
def test_weight_gradient_pads_v_itself(dtype, path, padding, kernel, dilation):
    """dW = dZ ⋆ V with V given unpadded and the padding to apply: the taps pad one map at a
    time (shifted copies, dZ's own rows); the same as on the padded V and as the naive loops."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 6, 5)).astype(dtype)
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    O, (kh, kw), (dh, dw) = 5, kernel, dilation
    Ho, Wo = xp.shape[2] - dh * (kh - 1), xp.shape[3] - dw * (kw - 1)
    dz = rng.standard_normal((4, O, Ho, Wo)).astype(dtype)
    conn = (rng.random((O, 3)) < 0.7).astype(np.uint8)
    with K.force_path(path):
        dw_ = K.weight_gradient(dz, x, kernel, (1, 1), dilation, conn, padding=padding)
        on_padded = K.weight_gradient(dz, xp, kernel, (1, 1), dilation, conn)
    assert dw_.dtype == dtype
    _, ref, _ = conv2d_backward_reference(xp, rng.standard_normal((O, 3) + kernel), dz, (1, 1), (0, 0), conn, dilation)
    assert_close(dw_, ref, dtype)
    assert_close(dw_, on_padded, dtype)
    assert np.all(dw_[conn == 0] == 0)


@pytest.mark.parametrize("N", [1, 8, 64])
def test_whole_map_weight_gradient_takes_the_product_at_every_batch_size(N):
    """The taps' dot products of a whole-map kernel (LeNet's C5) are one multiply-add long,
    measured 6 to 50 times slower than the one BLAS product at batch 1 to 64: the cost
    model must never choose them there, and still choose the taps for C3."""
    from tinygrad_cnn.kernels.correlation import choose_path

    whole = dict(weight=True, whole=True)
    assert choose_path(N, 16, 120, 5, 5, 1, 1, 5, (1, 1), np.ones((120, 16), np.uint8), **whole) == "im2col"
    assert choose_path(N, 120, 84, 1, 1, 1, 1, 1, (1, 1), np.ones((84, 120), np.uint8), **whole) == "im2col"
    c3 = np.asarray(figures.LENET_C3_TABLE, np.uint8)
    assert choose_path(N, 6, 16, 5, 5, 10, 10, 14, (1, 1), c3, weight=True) == "taps"


@pytest.mark.parametrize("N, H, kernel, padding", [
    (32, 6, (3, 3), (0, 0, 0, 0)),    # four examples per stack, every stack full
    (37, 6, (3, 3), (1, 2, 0, 1)),    # the last chunk, and so its stack, short
    (34, 16, (3, 3), (1, 1, 1, 1)),   # 18×16 copies: two examples per stack, two stacks a chunk
    (13, 5, (2, 2), (0, 0, 0, 0)),    # chunks of one example: no stacking
])
def test_weight_gradient_stacks_examples_of_small_maps(N, H, kernel, padding):
    """The taps stack a chunk's examples on small maps into one dot product per tap
    (zeros between the examples' dZ keep them apart): the same as the naive loops, with
    full, short and several stacks per chunk, and with none."""
    from tinygrad_cnn.kernels.conv_weight_grad import batch_split, stack_size

    rng = np.random.default_rng(N)
    C, O = 3, 6
    x = rng.standard_normal((N, C, H, H + 1))
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    Ho, Wo = xp.shape[2] - kernel[0] + 1, xp.shape[3] - kernel[1] + 1
    dz = rng.standard_normal((N, O, Ho, Wo))
    conn = (rng.random((O, C)) < 0.7).astype(np.uint8)
    with K.force_path("taps"):
        dw_ = K.weight_gradient(dz, x, kernel, (1, 1), (1, 1), conn, padding=padding)
    _, ref, _ = conv2d_backward_reference(xp, rng.standard_normal((O, C) + kernel), dz, (1, 1), (0, 0), conn)
    assert_close(dw_, ref, np.float64)
    expected_stack = {32: 4, 37: 4, 34: 2, 13: 1}[N]
    assert stack_size(batch_split(N, C)[0], xp.shape[2], Wo) == expected_stack
    # negative control: an example's dZ leaking into its neighbour's would be noticed
    leaked = dz + np.roll(dz, 1, axis=0)
    _, wrong, _ = conv2d_backward_reference(xp, rng.standard_normal((O, C) + kernel), leaked, (1, 1), (0, 0), conn)
    assert not np.allclose(dw_, wrong, rtol=1e-6)
