"""The lecture's worked figures (Hagan & Jafari, Neural Network Design: Deep Learning, ch. 8), with expected values derived by hand.

Figs 8.6 / 8.7: Z = W ⊛ V of the Square and the Diamond with the four 3×3
kernels, zero padding P^d = 1, stride 1, no bias.  Fig 8.8: 3×3 max pooling
with stride 3 of two of those images.  "Example convolution": the 2×2
anti-diagonal kernel on the 5×5 diamond.

Each check runs through both the naive reference loops and the compiled
kernels.  The expected values are worked out in the comments from the
definitions, never copied from the code under test.
"""
import numpy as np
import pytest

from tinygrad_cnn import kernels as K
from tinygrad_cnn import figures
from tinygrad_cnn.kernels.conv import conv2d_reference
from tinygrad_cnn.kernels.pool import max_pool2d_reference


def filtered_reference(image, kernel_name):
    return conv2d_reference(image, figures.FIGURE_KERNELS[kernel_name], padding=(1, 1))


def filtered_kernel(image, kernel_name, dtype):
    x = np.pad(image, 1).astype(dtype)[None, None]
    w = figures.FIGURE_KERNELS[kernel_name].astype(dtype)[None, None]
    z = K.conv2d_forward(x, w, np.zeros(1, dtype), 1, 1, np.ones((1, 1), np.uint8))
    assert z.dtype == dtype
    return z[0, 0]


def max_pooled_kernel(image, dtype):
    z, _ = K.max_pool2d_forward(image.astype(dtype)[None, None], 3, 3, 3, 3)
    return z[0, 0]


IMAGES = {"square": figures.square, "diamond": figures.diamond}
NAMES = ["horizontal", "vertical", "slash", "backslash"]
DTYPES = [np.float32, np.float64]


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------

def test_figure_inputs():
    s = figures.square()
    assert s.shape == (15, 15)
    # 9×9 block border: 4·9 - 4 = 32 ones, rows/cols 3 and 11 full, 4..10 hollow
    assert s.sum() == 32
    assert np.all(s[3, 3:12] == 1) and np.all(s[11, 3:12] == 1)
    assert np.all(s[3:12, 3] == 1) and np.all(s[3:12, 11] == 1)
    assert np.all(s[4:11, 4:11] == 0)
    d = figures.diamond()
    # |i-7| + |j-7| = 4: 4 points per quadrant edge, 16 in all
    assert d.sum() == 16
    assert d[3, 7] == d[7, 3] == d[11, 7] == d[7, 11] == d[5, 5] == 1
    assert d[7, 7] == 0 and d[4, 4] == 0
    for k in figures.FIGURE_KERNELS.values():
        assert k.shape == (3, 3) and k.sum() == 3


# --------------------------------------------------------------------------
# Figs 8.6 / 8.7: filtered square and diamond
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("image", ["square", "diamond"])
@pytest.mark.parametrize("name", NAMES)
def test_filtered_images_values_and_kernel_agreement(name, image, dtype):
    v = IMAGES[image]()
    z = filtered_reference(v, name)
    assert z.shape == (15, 15)
    # three ones in each kernel: values are counts 0..3
    assert np.all(z == np.round(z)) and z.min() == 0 and z.max() <= 3
    # every white pixel is at least one cell away from the border, so each
    # one is counted by exactly three output cells: Σz = 3·Σv
    assert z.sum() == 3 * v.sum()
    np.testing.assert_array_equal(filtered_kernel(v, name, dtype), z)


def test_horizontal_filtered_square_by_hand():
    # horizontal kernel: z[i,j] = v[i,j-1] + v[i,j] + v[i,j+1]
    # rows 3 and 11 (ones in cols 3..11): counts of ones in cols j-1..j+1
    full = [0, 0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 2, 1, 0, 0]
    # rows 4..10 (ones in cols 3 and 11 only)
    sides = [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    expect = np.zeros((15, 15))
    expect[3] = expect[11] = full
    expect[4:11] = sides
    for z in (filtered_reference(figures.square(), "horizontal"),
              filtered_kernel(figures.square(), "horizontal", np.float64)):
        np.testing.assert_array_equal(z[3], full)
        np.testing.assert_array_equal(z, expect)
    # the vertical kernel is the transposed horizontal one and the square is
    # symmetric, so the vertical filtered square is the transpose
    np.testing.assert_array_equal(filtered_reference(figures.square(), "vertical"), expect.T)
    np.testing.assert_array_equal(filtered_kernel(figures.square(), "vertical", np.float32), expect.T)


def test_slash_and_backslash_filtered_square_by_hand():
    # slash kernel (ones on the main diagonal): z[i,j] = v[i-1,j-1] + v[i,j] + v[i+1,j+1]
    z = filtered_reference(figures.square(), "slash")
    assert z[3, 10] == 2      # v[3,10] + v[4,11]
    assert z[11, 4] == 2      # v[10,3] + v[11,4]
    assert z[3, 3] == 1       # only v[3,3]; v[4,4] is inside the hole
    assert z[2, 2] == 1       # only v[3,3]
    assert z[12, 12] == 1     # only v[11,11]
    assert z[3, 11] == 1 and z[11, 3] == 1
    assert z[7, 7] == 0 and z[0, 0] == 0
    # the diagonal kernel never lines up with the edges: at most 2
    assert z.max() == 2
    # backslash = slash mirrored left-right, and so is the square
    np.testing.assert_array_equal(filtered_reference(figures.square(), "backslash"), z[:, ::-1])
    np.testing.assert_array_equal(filtered_kernel(figures.square(), "slash", np.float32), z)


def backslash_filtered_diamond_by_hand():
    """backslash kernel: z[i,j] = v[i-1,j+1] + v[i,j] + v[i+1,j-1], a sum along
    the anti-diagonal s = i + j.  The diamond's edges i+j = 10 (from (3,7) to
    (7,3)) and i+j = 18 (from (7,11) to (11,7)) lie along it: runs of five ones
    that give 1,2,3,3,3,2,1 from one cell before the run to one cell after.
    On the other anti-diagonals s = 12, 14, 16 the diamond has two isolated
    points, each giving 1 at itself and its two anti-diagonal neighbours."""
    z = np.zeros((15, 15))
    for i, val in zip(range(2, 9), [1, 2, 3, 3, 3, 2, 1]):
        z[i, 10 - i] = val
    for i, val in zip(range(6, 13), [1, 2, 3, 3, 3, 2, 1]):
        z[i, 18 - i] = val
    for s, points in [(12, (4, 8)), (14, (5, 9)), (16, (6, 10))]:
        for p in points:
            for i in (p - 1, p, p + 1):
                z[i, s - i] = 1
    return z


def test_diamond_filters_by_hand():
    expect = backslash_filtered_diamond_by_hand()
    assert expect.sum() == 48
    for z in (filtered_reference(figures.diamond(), "backslash"),
              filtered_kernel(figures.diamond(), "backslash", np.float32)):
        np.testing.assert_array_equal(z, expect)
    # the diamond is symmetric left-right and slash is backslash mirrored
    np.testing.assert_array_equal(filtered_reference(figures.diamond(), "slash"), expect[:, ::-1])
    # horizontal: z[i,j] = v[i,j-1] + v[i,j] + v[i,j+1]
    h = filtered_reference(figures.diamond(), "horizontal")
    np.testing.assert_array_equal(h[3], [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(h[4], [0, 0, 0, 0, 0, 1, 1, 2, 1, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(h[7], [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    # rows 4 and 10 have ones in cols 6 and 8, so z = 2 between them; never 3
    assert h.max() == 2
    # vertical = transpose of horizontal (the diamond is symmetric)
    np.testing.assert_array_equal(filtered_reference(figures.diamond(), "vertical"), h.T)


# --------------------------------------------------------------------------
# Fig 8.8: 3×3 max pooling, stride 3
# --------------------------------------------------------------------------

# Blocks of rows/cols {0-2, 3-5, 6-8, 9-11, 12-14} of the backslash filtered
# diamond (see backslash_filtered_diamond_by_hand): the 3s at (4,6), (5,5),
# (6,4), (8,10), (9,9), (10,8) fall in blocks (1,2), (1,1), (2,1), (2,3),
# (3,3), (3,2); the 1s at (2,8), (8,2), (6,12), (12,6), (3,9)..., (6,8), (8,6)
# make the remaining non-empty blocks 1.
MAX_POOLED_BACKSLASH_DIAMOND = np.array(
    [[0, 0, 1, 0, 0],
     [0, 3, 3, 1, 0],
     [1, 3, 1, 3, 1],
     [0, 1, 3, 3, 0],
     [0, 0, 1, 0, 0]], dtype=np.float64)

# Horizontal filtered square: rows 3 and 11 hold the run 1,2,3,...,3,2,1 over
# cols 2..12, rows 4..10 hold 1s in cols 2-4 and 10-12.  Block rows 1 and 3
# contain row 3 resp. 11 (max 3 in the middle column blocks, 1 at the ends);
# block row 2 (rows 6-8) sees only the side 1s; block rows 0 and 4 are empty.
MAX_POOLED_HORIZONTAL_SQUARE = np.array(
    [[0, 0, 0, 0, 0],
     [1, 3, 3, 3, 1],
     [1, 1, 0, 1, 1],
     [1, 3, 3, 3, 1],
     [0, 0, 0, 0, 0]], dtype=np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pooled_figures(dtype):
    bd = filtered_reference(figures.diamond(), "backslash")
    hs = filtered_reference(figures.square(), "horizontal")
    np.testing.assert_array_equal(max_pool2d_reference(bd, (3, 3), (3, 3)), MAX_POOLED_BACKSLASH_DIAMOND)
    np.testing.assert_array_equal(max_pool2d_reference(hs, (3, 3), (3, 3)), MAX_POOLED_HORIZONTAL_SQUARE)
    # and through the compiled kernels end to end
    bd_k = filtered_kernel(figures.diamond(), "backslash", dtype)
    hs_k = filtered_kernel(figures.square(), "horizontal", dtype)
    np.testing.assert_array_equal(max_pooled_kernel(bd_k, dtype), MAX_POOLED_BACKSLASH_DIAMOND)
    np.testing.assert_array_equal(max_pooled_kernel(hs_k, dtype), MAX_POOLED_HORIZONTAL_SQUARE)


# --------------------------------------------------------------------------
# "Example convolution" and LeNet-5's table
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_example_convolution(dtype):
    # z[i,j] = v[i,j+1] + v[i+1,j] with the 2×2 anti-diagonal kernel
    expect = np.array([[0, 2, 0, 1], [2, 0, 1, 0], [0, 1, 0, 2], [1, 0, 2, 0]])
    np.testing.assert_array_equal(figures.EXAMPLE_Z, expect)
    v = figures.small_diamond()
    np.testing.assert_array_equal(conv2d_reference(v, figures.EXAMPLE_KERNEL), expect)
    z = K.conv2d_forward(v.astype(dtype)[None, None], figures.EXAMPLE_KERNEL.astype(dtype)[None, None],
                         np.zeros(1, dtype), 1, 1, np.ones((1, 1), np.uint8))
    np.testing.assert_array_equal(z[0, 0], expect)


def test_lenet_c3_table():
    t = figures.LENET_C3_TABLE
    assert t.shape == (16, 6)
    assert set(np.unique(t)) == {0, 1}
    assert t.sum() == 60
    # maps 0-5 see 3 contiguous S2 maps, 6-14 see 4, map 15 sees all 6
    np.testing.assert_array_equal(t.sum(axis=1), [3] * 6 + [4] * 9 + [6])
    # 60 kernels of 5×5 plus 16 biases
    assert t.sum() * 25 + 16 == 1516


@pytest.mark.parametrize("dtype", DTYPES)
def test_figures_through_the_public_api(dtype):
    """Figs 8.6–8.8 and the 4×4 example with F.conv2d / F.max_pool2d on single (H, W) matrices."""
    from tinygrad_cnn import Tensor
    import tinygrad_cnn.functional as F

    def filt(img, name):
        return F.conv2d(Tensor(img.astype(dtype)), Tensor(figures.FIGURE_KERNELS[name].astype(dtype)), padding=1)

    bd, hs = filt(figures.diamond(), "backslash"), filt(figures.square(), "horizontal")
    assert bd.shape == (15, 15) and bd.dtype == dtype
    np.testing.assert_array_equal(bd.data, backslash_filtered_diamond_by_hand())
    np.testing.assert_array_equal(F.max_pool2d(bd, 3).data, MAX_POOLED_BACKSLASH_DIAMOND)
    np.testing.assert_array_equal(F.max_pool2d(hs, 3, 3).data, MAX_POOLED_HORIZONTAL_SQUARE)
    z = F.conv2d(Tensor(figures.small_diamond().astype(dtype)), Tensor(figures.EXAMPLE_KERNEL.astype(dtype)))
    np.testing.assert_array_equal(z.data, [[0, 2, 0, 1], [2, 0, 1, 0], [0, 1, 0, 2], [1, 0, 2, 0]])
