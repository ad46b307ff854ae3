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
@pytest.mark.parametrize("path", ["taps", "im2col", "batch", None])
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
    from tinygrad_cnn.kernels.cost_model import choose_path

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


# --------------------------------------------------------------------------
# the examples innermost: the "batch" path
# --------------------------------------------------------------------------

def test_batch_inner_layout_is_the_padded_input_with_the_examples_innermost():
    from tinygrad_cnn.kernels.batch_inner import batch_inner

    x = np.random.default_rng(12).standard_normal((3, 2, 4, 5)).astype(np.float32)
    vt = batch_inner(x, 1, 2, 7, 9)  # 1 row above, 2 below; 2 columns each side
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (2, 2)))
    assert vt.shape == (2, 7, 9, 3) and vt.dtype == np.float32
    np.testing.assert_array_equal(vt, xp.transpose(1, 2, 3, 0))
    # negative control: the padding on the other side would be noticed
    assert not np.array_equal(vt, np.pad(x, ((0, 0), (0, 0), (2, 1), (2, 2))).transpose(1, 2, 3, 0))


def _one_to_all_table(O, C):
    """Input map c feeds output maps 0..c: c + 1 of them, so the passes of four, two and one
    output maps all run (and output map O − 1 sees the last input map only)."""
    conn = np.zeros((O, C), np.uint8)
    for c in range(C):
        conn[:c + 1, c] = 1
    return conn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, padding, kernel, dilation", [
    (64, (0, 0, 0, 0), (5, 5), (1, 1)),   # LeNet's C3 forward and dW shapes
    (5, (4, 4, 4, 4), (5, 5), (1, 1)),    # the full correlation of a 5×5 kernel: dA
    (3, (1, 2, 0, 1), (3, 2), (2, 1)),    # uneven padding, dilated rows
    (1, (0, 0, 3, 3), (1, 4), (1, 1)),    # one example, only the columns padded
])
def test_batch_path_matches_the_taps_and_the_reference(dtype, N, padding, kernel, dilation):
    """Z (and so dA) runs the taps' own passes in the same order (equal to the last bit or
    two: the compiler fuses multiply-adds where it likes); dW sums in another order: equal to
    the naive loops, exactly 0 for unconnected pairs."""
    rng = np.random.default_rng(N)
    C, O = 6, 7
    x = rng.standard_normal((N, C, 7, 8)).astype(dtype)
    w = rng.standard_normal((O, C) + kernel).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    conn = _one_to_all_table(O, C)
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    with K.force_path("batch"):
        z = K.correlate(x, w, (1, 1), dilation, conn, b, padding=padding)
        dz = rng.standard_normal(z.shape).astype(dtype)
        dw_ = K.weight_gradient(dz, x, kernel, (1, 1), dilation, conn, padding=padding)
    with K.force_path("taps"):
        z_taps = K.correlate(x, w, (1, 1), dilation, conn, b, padding=padding)
        dw_taps = K.weight_gradient(dz, x, kernel, (1, 1), dilation, conn, padding=padding)
    assert z.dtype == dw_.dtype == dtype
    tight = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(z, z_taps, rtol=tight, atol=tight)
    assert_close(z, conv2d_reference(xp, w, b, (1, 1), (0, 0), conn, dilation), dtype)
    _, dw_ref, _ = conv2d_backward_reference(xp, w, dz, (1, 1), (0, 0), conn, dilation)
    assert_close(dw_, dw_ref, dtype)
    assert_close(dw_, dw_taps, dtype)
    assert np.all(dw_[conn == 0] == 0)
    # negative control: dZ of the examples in another order gives another dW
    _, wrong, _ = conv2d_backward_reference(xp, w, dz[::-1], (1, 1), (0, 0), conn, dilation)
    assert N == 1 or not np.allclose(dw_, wrong, rtol=1e-3)


def test_batch_path_gives_the_same_bits_on_one_and_two_threads():
    """Every dW entry is summed by one parallel iteration in a fixed order."""
    import numba

    rng = np.random.default_rng(13)
    x = rng.standard_normal((16, 6, 14, 14)).astype(np.float32)
    dz = rng.standard_normal((16, 16, 10, 10)).astype(np.float32)
    conn = np.asarray(figures.LENET_C3_TABLE, np.uint8)
    results = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            with K.force_path("batch"):
                results.append(K.weight_gradient(dz, x, (5, 5), (1, 1), (1, 1), conn))
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(results[0], results[1])


def test_cost_model_takes_the_examples_innermost_for_small_maps_only():
    """LeNet's C3 at batch 64 (measured, forward + dW + dA with Table I: 1.08 → 0.98 ms; dense
    1.38 → 1.14 ms); not C1 (one input map: the copies cost more than the wide rows' waste),
    not at batch 32 (no faster there), never beyond the cache (a 32-map 3×3 layer on 32×32
    maps) nor at stride 2."""
    from tinygrad_cnn.kernels.cost_model import choose_path

    c3 = np.asarray(figures.LENET_C3_TABLE, np.uint8)
    small = dict(input_size=(14, 14), dilation=(1, 1))
    assert choose_path(64, 6, 16, 5, 5, 10, 10, 14, (1, 1), c3, **small) == "batch"
    assert choose_path(64, 6, 16, 5, 5, 10, 10, 10, (1, 1), c3, weight=True, **small) == "batch"
    assert choose_path(64, 1, 6, 5, 5, 28, 28, 32, (1, 1), np.ones((6, 1), np.uint8),
                       input_size=(32, 32), dilation=(1, 1)) == "taps"
    mid = np.ones((64, 32), np.uint8)
    for weight in (False, True):
        assert choose_path(32, 32, 64, 3, 3, 32, 32, 32, (1, 1), mid, weight=weight,
                           input_size=(32, 32), dilation=(1, 1)) != "batch"
    assert choose_path(64, 6, 16, 5, 5, 5, 5, 14, (2, 2), c3, input_size=(14, 14), dilation=(1, 1)) == "taps"
    # batch 32, the training command's: runs of 320 numbers, no faster than the taps
    assert choose_path(32, 6, 16, 5, 5, 10, 10, 14, (1, 1), c3, **small) == "taps"
    assert choose_path(32, 6, 16, 5, 5, 10, 10, 10, (1, 1), c3, weight=True, **small) == "taps"
    # dA of C3 at batch 64, the full correlation: counting only the taps over dZ's own cells
    # (half of them), the batch path (measured 260 → 228 µs) wins over the taps (300 µs)
    full = dict(input_size=(10, 10), dilation=(1, 1), padding=(4, 4, 4, 4))
    assert choose_path(64, 16, 6, 5, 5, 14, 14, 14, (1, 1), c3.T, **full) == "batch"
    unpadded = dict(full, padding=None)
    assert choose_path(64, 16, 6, 5, 5, 14, 14, 14, (1, 1), c3.T, **unpadded) == "taps"


def test_batch_rows_list_only_the_taps_over_real_cells_grouped_by_column_range():
    """The full correlation of dA on C3 (dZ 10×10 zero-padded by 4, a 5×5 kernel, 14×14 out):
    a tap runs over an output row only where its input row is one of dZ's, and over the 10
    output columns whose input column is; a row's taps come by column range, in tap order
    within, so that four taps of one column share their range."""
    from tinygrad_cnn.kernels.batch_inner import _row_taps

    N = 3
    taps, ntaps, offs, lo, hi = _row_taps(5, 5, 1, 1, 4, 10, 4, 10, 14, 14, N, 18)
    for i in range(14):
        real_rows = [k for k in range(5) if 4 <= i + k < 14]
        assert ntaps[i] == 5 * len(real_rows)
        listed = taps[i, :ntaps[i]]
        assert sorted(listed) == sorted(k * 5 + l for k in real_rows for l in range(5))
        for s, t in enumerate(listed):
            k, l = divmod(int(t), 5)
            assert (lo[i, s], hi[i, s]) == ((4 - l) * N, (14 - l) * N)  # 10 columns: j + l in 4..13
            assert offs[i, s] == (k * 18 + l) * N
        assert list(lo[i, :ntaps[i]]) == sorted(lo[i, :ntaps[i]])
        # within one column range, tap order (k ascending)
        for l in range(5):
            assert list(listed[hi[i, :ntaps[i]] == (14 - l) * N]) == [k * 5 + l for k in real_rows]
    # no column padding (the forward): every row lists all taps, in tap order, over the whole row
    taps, ntaps, _, lo, hi = _row_taps(5, 5, 1, 1, 0, 14, 0, 14, 10, 10, N, 14)
    assert (ntaps == 25).all() and (taps == np.arange(25)).all()
    assert (lo == 0).all() and (hi == 10 * N).all()


def test_one_layer_call_copies_v_and_dz_once_for_all_three_sums(monkeypatch):
    """C3 at batch 64 takes the batch path for Z, dA and dW: dW reads the forward's copy of V
    and the interior of dA's zero-padded copy of dZ, so a forward + backward makes two copies,
    not four, and gets the very gradients that copies of its own give."""
    from tinygrad_cnn import functional as F
    from tinygrad_cnn.kernels import batch_inner as BI
    from tinygrad_cnn.tensor import Tensor

    rng = np.random.default_rng(17)
    x = Tensor(rng.standard_normal((64, 6, 14, 14)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((16, 6, 5, 5)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((64, 16, 10, 10)).astype(np.float32)
    conn = np.asarray(figures.LENET_C3_TABLE, np.uint8)
    made = []
    copy = BI.batch_inner
    monkeypatch.setattr(BI, "batch_inner", lambda a, *layout: made.append(layout) or copy(a, *layout))
    F.conv2d(x, w, connection=conn).backward(g)
    assert made == [(0, 0, 14, 14), (4, 4, 18, 18)]  # V for Z, padded dZ for dA; none for dW
    # the same sums on copies of their own
    full = K.full_padding((5, 5), (1, 1), g.shape, (14, 14), crop=(0, 0, 0, 0))
    dA = K.correlate(g, K.transpose_maps(K.rot180(w.data)), (1, 1), (1, 1), conn.T, padding=full)
    dW = K.weight_gradient(g, x.data, (5, 5), (1, 1), (1, 1), conn)
    assert len(made) == 5
    np.testing.assert_array_equal(x.grad.data, dA)
    np.testing.assert_array_equal(w.grad.data, dW)


def test_weight_gradient_reads_the_copies_it_is_given():
    """Negative control for the test above: a copy of V kept under V's identity but holding
    other numbers changes dW, so dW does read the kept copy; a copy of an equal array that is
    not the same object is not used."""
    from tinygrad_cnn.kernels.batch_inner import LayoutCopies, batch_inner

    rng = np.random.default_rng(19)
    x = rng.standard_normal((64, 6, 14, 14)).astype(np.float32)
    dz = rng.standard_normal((64, 16, 10, 10)).astype(np.float32)
    args = (dz, x, (5, 5), (1, 1), (1, 1), None)
    with K.force_path("batch"):
        own = K.weight_gradient(*args)
        twin = LayoutCopies()
        twin.keep(x.copy(), 0, 0, 14, 14, batch_inner(2 * x, 0, 0, 14, 14))
        np.testing.assert_array_equal(K.weight_gradient(*args, copies=twin), own)
        wrong = LayoutCopies()
        wrong.keep(x, 0, 0, 14, 14, batch_inner(2 * x, 0, 0, 14, 14))
        np.testing.assert_allclose(K.weight_gradient(*args, copies=wrong), 2 * own, rtol=1e-5, atol=1e-3)


def test_layout_copies_find_a_copy_that_holds_the_padding_asked_for():
    from tinygrad_cnn.kernels.batch_inner import LayoutCopies

    a, b = np.zeros((2, 3, 10, 10)), np.zeros((2, 3, 10, 10))
    copies = LayoutCopies()
    kept = np.empty(0)
    copies.keep(a, 4, 3, 18, 17, kept)                          # padded 4 above and below, 3 and 4
    found = copies.find(a, 0, 0, 10, 10)
    assert found[0] is kept and found[1:] == (4, 3)          # the unpadded dZ: from row 4, column 3
    assert copies.find(a, 1, 2, 13, 14)[1:] == (3, 1)
    assert copies.find(a, 5, 0, 15, 10) is None                # more rows above than the copy has
    assert copies.find(a, 0, 0, 15, 10) is None                # more rows below
    assert copies.find(a, 0, 0, 10, 15) is None                # more columns to the right
    assert copies.find(b, 0, 0, 10, 10) is None                # another array, however equal


def test_choose_path_keeps_its_answers_by_every_argument_the_table_included():
    """The cost model's answers are kept (a layer asks the same on every call); the key holds
    the connection table's entries, not just its shape: a table with half its pairs gone
    takes the taps where the dense one takes im2col."""
    from tinygrad_cnn.kernels import cost_model as CR

    dense = np.ones((64, 32), np.uint8)
    sparse = dense.copy()
    sparse[:, ::2] = 0
    args = (32, 32, 64, 3, 3, 32, 32, 34, (1, 1))
    assert CR.choose_path(*args, dense) == "im2col"
    assert CR.choose_path(*args, sparse) == "taps"
    assert CR.choose_path(*args, dense) == "im2col"
    assert CR.choose_path(*args, dense) == CR._cheapest(*args, dense, False, None, False, None, None)
    with K.force_path("batch"):  # a forced path is not kept, nor taken from what is kept
        assert CR.choose_path(*args, dense, input_size=(32, 32)) == "batch"
    assert CR.choose_path(*args, dense, input_size=(32, 32)) != "batch"


def test_a_retained_graph_run_backward_again_keeps_two_copies_not_one_per_run():
    """Each backward brings a new dZ, copied for dA; the forward's copy of V and the latest
    copy of dZ are kept, the older ones let go."""
    from tinygrad_cnn import functional as F
    from tinygrad_cnn.tensor import Tensor

    rng = np.random.default_rng(23)
    x = Tensor(rng.standard_normal((64, 6, 14, 14)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((16, 6, 5, 5)).astype(np.float32), requires_grad=True)
    z = F.conv2d(x, w)
    copies = z._ctx.saved_tensors[2]
    grads = []
    for run in range(4):
        x.grad = None
        g = rng.standard_normal(z.shape).astype(np.float32)
        z.backward(g, retain_graph=True)
        grads.append((g, x.grad.data.copy()))
        assert len(copies._made) == 2
    full = K.full_padding((5, 5), (1, 1), z.shape, (14, 14), crop=(0, 0, 0, 0))
    for g, dA in grads:  # every run used its own dZ
        expected = K.correlate(g, K.transpose_maps(K.rot180(w.data)), (1, 1), (1, 1), None, padding=full)
        np.testing.assert_array_equal(dA, expected)
