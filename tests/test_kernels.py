"""The compiled kernels against the naive reference loops (and PyTorch).

Every kernel in ``tinygrad_cnn.kernels`` is compared with the lecture's
scalar equations in the ``*_reference`` functions beside the kernels on hypothesis-drawn shapes,
strides, paddings, connection matrices, pooling windows and dtypes; the
reference itself is checked against ``torch.nn.functional`` when torch is
installed.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn import kernels as K
from tinygrad_cnn import figures
from tinygrad_cnn.kernels.conv import conv2d_backward_reference, conv2d_reference
from tinygrad_cnn.kernels.pool import avg_pool2d_backward_reference, avg_pool2d_reference, max_pool2d_backward_reference, max_pool2d_reference
from tinygrad_cnn.ops.conv import rot180_reference
from tinygrad_cnn.ops.vec import unvec_reference, vec_reference

FAST = settings(max_examples=40, deadline=None)
FEW = settings(max_examples=20, deadline=None)

TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-10, atol=1e-12)}


def assert_close(got, ref, dtype):
    np.testing.assert_allclose(got, ref, **TOL[dtype])


# --------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------

@st.composite
def conv_cases(draw, dtypes=(np.float32, np.float64)):
    """Shapes, stride, padding and a random 0/1 connection matrix; the kernel
    always fits the padded input."""
    N = draw(st.integers(1, 3))
    C = draw(st.integers(1, 4))
    O = draw(st.integers(1, 4))
    H = draw(st.integers(1, 10))
    W = draw(st.integers(1, 10))
    ph = draw(st.integers(0, 2))
    pw = draw(st.integers(0, 2))
    dh = draw(st.integers(1, 2))
    dw = draw(st.integers(1, 2))
    kh = draw(st.integers(1, min(5, (H + 2 * ph - 1) // dh + 1)))
    kw = draw(st.integers(1, min(5, (W + 2 * pw - 1) // dw + 1)))
    sh = draw(st.integers(1, 3))
    sw = draw(st.integers(1, 3))
    dense = draw(st.booleans())
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (N, C, H, W)).astype(dtype)
    w = rng.uniform(-1, 1, (O, C, kh, kw)).astype(dtype)
    b = rng.uniform(-1, 1, O).astype(dtype)
    conn = np.ones((O, C), np.uint8) if dense else rng.integers(0, 2, (O, C)).astype(np.uint8)
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    dz = rng.uniform(-1, 1, (N, O, Ho, Wo)).astype(dtype)  # never all ones
    return dict(x=x, w=w, b=b, conn=conn, dz=dz, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                dtype=dtype)


@st.composite
def pool_cases(draw, dtypes=(np.float32, np.float64), ties=True):
    """Pooling windows and strides, including overlapping (stride < window)
    and non-dividing ones.  Optionally a few distinct values only, so that
    windows contain ties."""
    N = draw(st.integers(1, 3))
    C = draw(st.integers(1, 4))
    H = draw(st.integers(1, 10))
    W = draw(st.integers(1, 10))
    kh = draw(st.integers(1, min(4, H)))
    kw = draw(st.integers(1, min(4, W)))
    sh = draw(st.integers(1, 3))
    sw = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if ties and draw(st.booleans()):
        x = rng.integers(0, 3, (N, C, H, W)).astype(dtype)
    else:
        x = rng.uniform(-1, 1, (N, C, H, W)).astype(dtype)
    Ho = (H - kh) // sh + 1
    Wo = (W - kw) // sw + 1
    dz = rng.uniform(-1, 1, (N, C, Ho, Wo)).astype(dtype)
    weight = rng.uniform(-2, 2, C).astype(dtype)
    return dict(x=x, dz=dz, k=(kh, kw), s=(sh, sw), weight=weight, dtype=dtype, seed=seed)


def _pad(x, padding):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _kernel_conv(c):
    """Forward and backward through the compiled kernels, the padding cropped."""
    (sh, sw), (ph, pw) = c["stride"], c["padding"]
    xp = _pad(c["x"], c["padding"])
    kh, kw = c["w"].shape[2:]
    d = c["dilation"]
    z = K.conv2d_forward(xp, c["w"], c["b"], sh, sw, c["conn"], d)
    dxp = K.conv2d_backward_input(c["dz"], c["w"], sh, sw, c["conn"], xp.shape[2], xp.shape[3], d)
    dw = K.conv2d_backward_weight(c["dz"], xp, kh, kw, sh, sw, c["conn"], d)
    H, W = c["x"].shape[2:]
    return z, dxp, dxp[:, :, ph:ph + H, pw:pw + W], dw


# --------------------------------------------------------------------------
# convolution kernels vs the reference
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["taps", "im2col", "scatter", "batch", "winograd"])
@FAST
@given(c=conv_cases())
def test_conv_kernels_match_reference(path, c):
    """Every path of the engine (forced, whatever the cost model says), strided, padded, dilated, masked."""
    dt = c["dtype"]
    with K.force_path(path):
        z, dxp, dx, dw = _kernel_conv(c)
    assert z.dtype == dt and dxp.dtype == dt and dw.dtype == dt
    z_ref = conv2d_reference(c["x"], c["w"], c["b"], c["stride"], c["padding"], c["conn"], c["dilation"])
    dx_ref, dw_ref, db_ref = conv2d_backward_reference(c["x"], c["w"], c["dz"], c["stride"],
                                                       c["padding"], c["conn"], c["dilation"])
    assert z.shape == z_ref.shape
    assert_close(z, z_ref, dt)
    assert_close(dx, dx_ref, dt)
    assert_close(dw, dw_ref, dt)
    # unconnected kernels: gradient exactly zero
    assert np.all(dw[c["conn"] == 0] == 0)
    # the bias gradient the caller computes: db = Σ dZ
    assert_close(c["dz"].sum(axis=(0, 2, 3)), db_ref, dt)


@pytest.mark.parametrize("path", [None, "taps", "im2col", "scatter", "batch", "winograd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("table", [False, True])
def test_conv_whole_map_window_matches_reference(path, dtype, table):
    """A kernel as large as its (padded) input, LeNet's C5: one window per example, computed
    as a fully connected product, and its input gradient as rot180 of one product."""
    rng = np.random.default_rng(3)
    for N, padding in ((5, (0, 0)), (5, (1, 2)), (1, (0, 0))):  # one example: dW is an outer product
        x = rng.standard_normal((N, 4, 3, 2)).astype(dtype)
        kh, kw = 3 + 2 * padding[0], 2 + 2 * padding[1]
        w = rng.standard_normal((6, 4, kh, kw)).astype(dtype)
        conn = (rng.random((6, 4)) < 0.6).astype(np.uint8) if table else np.ones((6, 4), np.uint8)
        b = rng.standard_normal(6).astype(dtype)
        dz = rng.standard_normal((N, 6, 1, 1)).astype(dtype)
        c = {"x": x, "w": w, "b": b, "dz": dz, "conn": conn, "stride": (1, 1), "padding": padding,
             "dilation": (1, 1)}
        with K.force_path(path):
            z, _, dx, dw = _kernel_conv(c)
        assert z.dtype == dx.dtype == dw.dtype == dtype
        assert_close(z, conv2d_reference(x, w, b, (1, 1), padding, conn), dtype)
        dx_ref, dw_ref, _ = conv2d_backward_reference(x, w, dz, (1, 1), padding, conn)
        assert_close(dx, dx_ref, dtype)
        assert_close(dw, dw_ref, dtype)
        assert np.all(dw[conn == 0] == 0)


@FAST
@given(conv_cases())
def test_conv_backward_input_padding_rows_untouched_are_zero(c):
    """Cells of the padded input that no window reads get exactly 0."""
    _, dxp, _, _ = _kernel_conv(c)
    (sh, sw), kh, kw = c["stride"], c["w"].shape[2], c["w"].shape[3]
    Ho, Wo = c["dz"].shape[2:]
    dh, dw = c["dilation"]
    used_rows = (Ho - 1) * sh + dh * (kh - 1) + 1
    used_cols = (Wo - 1) * sw + dw * (kw - 1) + 1
    assert np.all(dxp[:, :, used_rows:, :] == 0)
    assert np.all(dxp[:, :, :, used_cols:] == 0)


@FEW
@given(conv_cases())
def test_unconnected_pairs_are_skipped_not_multiplied_by_zero(c):
    """NaN in the kernels of unconnected pairs never reaches a result: the
    pairs are skipped, not multiplied by a zero mask."""
    conn = c["conn"]
    w = c["w"].copy()
    w[conn == 0] = np.nan
    c2 = dict(c, w=w)
    z, dxp, _, dw = _kernel_conv(c2)
    z0, dxp0, _, dw0 = _kernel_conv(c)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(dxp, dxp0)
    np.testing.assert_array_equal(dw, dw0)
    # an input map that feeds no output map cannot affect the output either
    x = c["x"].copy()
    x[:, conn.sum(axis=0) == 0] = np.nan
    z1, _, _, _ = _kernel_conv(dict(c, x=x))
    np.testing.assert_array_equal(z1, z0)


def test_conv_kernels_lenet_c3_table():
    """LeNet-5's C3: 16 maps over 6 through the connection table."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 14, 14))
    w = rng.standard_normal((16, 6, 5, 5))
    b = rng.standard_normal(16)
    conn = figures.LENET_C3_TABLE
    z = K.conv2d_forward(x, w, b, 1, 1, conn)
    np.testing.assert_allclose(z, conv2d_reference(x, w, b, connection=conn), rtol=1e-10, atol=1e-12)
    dz = rng.standard_normal(z.shape)
    dxp = K.conv2d_backward_input(dz, w, 1, 1, conn, 14, 14)
    dw = K.conv2d_backward_weight(dz, x, 5, 5, 1, 1, conn)
    dx_ref, dw_ref, _ = conv2d_backward_reference(x, w, dz, connection=conn)
    np.testing.assert_allclose(dxp, dx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-10, atol=1e-12)
    assert np.count_nonzero(np.any(dw != 0, axis=(2, 3))) == 60


def test_conv_kernels_preserve_dtype_and_accept_noncontiguous_input():
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        x = rng.standard_normal((2, 3, 7, 6)).astype(dt)
        w = rng.standard_normal((2, 3, 3, 2)).astype(dt)
        b = np.zeros(2, dt)
        conn = np.ones((2, 3), np.uint8)
        z = K.conv2d_forward(x, w, b, 2, 1, conn)
        assert z.dtype == dt and z.shape == (2, 2, 3, 5)
        dz = rng.standard_normal(z.shape).astype(dt)
        assert K.conv2d_backward_input(dz, w, 2, 1, conn, 7, 6).dtype == dt
        assert K.conv2d_backward_weight(dz, x, 3, 2, 2, 1, conn).dtype == dt
    # a transposed (non-contiguous) view gives the same result as a copy
    x = rng.standard_normal((2, 3, 6, 7)).transpose(0, 1, 3, 2)
    w = rng.standard_normal((2, 3, 3, 2))
    conn = np.ones((2, 3), np.uint8)
    np.testing.assert_array_equal(K.conv2d_forward(x, w, np.zeros(2), 1, 1, conn),
                                  K.conv2d_forward(np.ascontiguousarray(x), w, np.zeros(2),
                                                   1, 1, conn))


def test_connection_matrix_dtype_and_readonly_do_not_recompile():
    """bool / int64 / read-only connection tables give the same result and
    reuse the uint8 specialisation (no extra Numba compile)."""
    from tinygrad_cnn.kernels import correlation as kconv

    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 6, 8, 8))
    w = rng.standard_normal((16, 6, 3, 3))
    b = np.zeros(16)
    ref = K.conv2d_forward(x, w, b, 1, 1, np.array(figures.LENET_C3_TABLE, dtype=np.uint8))
    nsig = len(kconv._correlate_taps.signatures)
    readonly = np.array(figures.LENET_C3_TABLE, dtype=np.uint8)
    readonly.flags.writeable = False
    for conn in (readonly, figures.LENET_C3_TABLE.astype(bool), figures.LENET_C3_TABLE.astype(np.int64),
                 np.asfortranarray(figures.LENET_C3_TABLE)):
        np.testing.assert_array_equal(K.conv2d_forward(x, w, b, 1, 1, conn), ref)
    assert len(kconv._correlate_taps.signatures) == nsig


# --------------------------------------------------------------------------
# pooling kernels vs the reference
# --------------------------------------------------------------------------

@FAST
@given(pool_cases())
def test_max_pool_kernels_match_reference(c):
    dt, (kh, kw), (sh, sw) = c["dtype"], c["k"], c["s"]
    x = c["x"]
    z, am = K.max_pool2d_forward(x, kh, kw, sh, sw)
    assert z.dtype == dt and am.dtype == np.int64
    np.testing.assert_array_equal(z, max_pool2d_reference(x, c["k"], c["s"]))
    H, W = x.shape[2:]
    # argmax is a flat index into the H×W plane, pointing at the maximum
    n_, c_, i_, j_ = np.indices(z.shape)
    np.testing.assert_array_equal(x[n_, c_, am // W, am % W], z)
    dx = K.max_pool2d_backward(c["dz"], am, H, W)
    assert dx.dtype == dt
    assert_close(dx, max_pool2d_backward_reference(x, c["dz"], c["k"], c["s"]), dt)


@FAST
@given(pool_cases())
def test_window_sum_kernels_match_reference(c):
    dt, (kh, kw), (sh, sw) = c["dtype"], c["k"], c["s"]
    x, dz, weight = c["x"], c["dz"], c["weight"]
    H, W = x.shape[2:]
    s = K.window_sum_forward(x, kh, kw, sh, sw)
    assert s.dtype == dt
    # mean form: z = ⊞(A) / (r·c)
    assert_close(s / (kh * kw), avg_pool2d_reference(x, c["k"], c["s"]), dt)
    # lecture form: z = w^h · ⊞(A)
    assert_close(s * weight[None, :, None, None], avg_pool2d_reference(x, c["k"], c["s"], weight), dt)
    # backward: dA = w ⊠ dZ, dw^h = Σ dZ ∘ ⊞(A)
    ds = dz * weight[None, :, None, None]
    dx = K.window_sum_backward(ds, H, W, kh, kw, sh, sw)
    assert dx.dtype == dt
    dx_ref, dw_ref = avg_pool2d_backward_reference(x, dz, c["k"], c["s"], weight)
    assert_close(dx, dx_ref, dt)
    assert_close((dz * s).sum(axis=(0, 2, 3)), dw_ref, dt)
    dx_mean = K.window_sum_backward(dz / (kh * kw), H, W, kh, kw, sh, sw)
    assert_close(dx_mean, avg_pool2d_backward_reference(x, dz, c["k"], c["s"]), dt)


def test_window_sum_backward_uncovered_cells_and_overlaps():
    """⊠ by hand: 1×5 input, window 1×2, stride 1 (overlap) and stride 3 (gap)."""
    ds = np.array([[[[1.0, 2.0, 4.0, 8.0]]]])
    dx = K.window_sum_backward(ds, 1, 5, 1, 2, 1, 1)
    np.testing.assert_array_equal(dx[0, 0, 0], [1, 3, 6, 12, 8])
    ds = np.array([[[[1.0, 2.0]]]])
    dx = K.window_sum_backward(ds, 1, 6, 1, 2, 1, 3)
    np.testing.assert_array_equal(dx[0, 0, 0], [1, 1, 0, 2, 2, 0])


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_max_pool_ties_go_to_first_element(dt):
    """Constant input: every window's gradient goes to its first (top-left)
    element; overlapping windows accumulate."""
    x = np.full((1, 2, 4, 5), 7.0, dtype=dt)
    z, am = K.max_pool2d_forward(x, 2, 2, 2, 2)
    np.testing.assert_array_equal(am[0, 0], [[0, 2], [10, 12]])
    dz = np.arange(1, 9, dtype=dt).reshape(1, 2, 2, 2)
    dx = K.max_pool2d_backward(dz, am, 4, 5)
    expect = np.zeros((4, 5), dt)
    expect[0, 0], expect[0, 2], expect[2, 0], expect[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expect)
    np.testing.assert_array_equal(dx, max_pool2d_backward_reference(x, dz, (2, 2), (2, 2)))
    # overlapping 2×2 windows with stride 1 on a constant 3×3 map
    x = np.ones((1, 1, 3, 3), dtype=dt)
    z, am = K.max_pool2d_forward(x, 2, 2, 1, 1)
    np.testing.assert_array_equal(am[0, 0], [[0, 1], [3, 4]])
    dx = K.max_pool2d_backward(np.array([[[[1, 2], [4, 8]]]], dtype=dt), am, 3, 3)
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 0], [4, 8, 0], [0, 0, 0]])
    # a shared maximum in overlapping windows accumulates
    x = np.array([[[[0, 0, 0], [0, 9, 0], [0, 0, 0]]]], dtype=dt)
    z, am = K.max_pool2d_forward(x, 2, 2, 1, 1)
    assert np.all(am == 4)
    dx = K.max_pool2d_backward(np.array([[[[1, 2], [4, 8]]]], dtype=dt), am, 3, 3)
    assert dx[0, 0, 1, 1] == 15 and dx.sum() == 15


@FEW
@given(pool_cases(ties=False))
def test_max_pool_nan_propagates(c):
    (kh, kw), (sh, sw) = c["k"], c["s"]
    x = c["x"].copy()
    rng = np.random.default_rng(c["seed"] + 1)
    x[rng.random(x.shape) < 0.15] = np.nan
    z, am = K.max_pool2d_forward(x, kh, kw, sh, sw)
    H, W = x.shape[2:]
    Ho, Wo = z.shape[2:]
    for n in range(x.shape[0]):
        for ch in range(x.shape[1]):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, ch, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    a = am[n, ch, i, j]
                    if np.isnan(win).any():
                        assert np.isnan(z[n, ch, i, j])
                        assert np.isnan(x[n, ch, a // W, a % W])
                    else:
                        assert z[n, ch, i, j] == win.max()
    np.testing.assert_array_equal(z, max_pool2d_reference(x, c["k"], c["s"]))
    dx = K.max_pool2d_backward(c["dz"], am, H, W)
    assert_close(dx, max_pool2d_backward_reference(x, c["dz"], c["k"], c["s"]), c["dtype"])


def test_max_pool_nan_index_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[np.nan, 1.0, np.nan, 2.0], [0.0, 5.0, 1.0, np.nan]]]])
    z, am = K.max_pool2d_forward(x, 2, 2, 2, 2)
    tz, tam = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 2, return_indices=True)
    assert np.all(np.isnan(z))
    np.testing.assert_array_equal(am, tam.numpy())


# --------------------------------------------------------------------------
# against PyTorch (float64, via torch.autograd)
# --------------------------------------------------------------------------

@FEW
@given(conv_cases(dtypes=(np.float64,)))
def test_conv_kernels_match_torch(c):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z, _, dx, dw = _kernel_conv(c)
    mask = torch.tensor(c["conn"], dtype=torch.float64)[:, :, None, None]
    tx = torch.tensor(c["x"], requires_grad=True)
    tw = torch.tensor(c["w"], requires_grad=True)
    tb = torch.tensor(c["b"], requires_grad=True)
    tz = F.conv2d(tx, tw * mask, tb, stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
    tz.backward(torch.tensor(c["dz"]))
    np.testing.assert_allclose(z, tz.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c["dz"].sum(axis=(0, 2, 3)), tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@FEW
@given(conv_cases(dtypes=(np.float64,)))
def test_reference_conv_matches_torch(c):
    """The reference itself is verified against PyTorch."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    mask = torch.tensor(c["conn"], dtype=torch.float64)[:, :, None, None]
    tx = torch.tensor(c["x"], requires_grad=True)
    tw = torch.tensor(c["w"], requires_grad=True)
    tb = torch.tensor(c["b"], requires_grad=True)
    tz = F.conv2d(tx, tw * mask, tb, stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
    tz.backward(torch.tensor(c["dz"]))
    z = conv2d_reference(c["x"], c["w"], c["b"], c["stride"], c["padding"], c["conn"], c["dilation"])
    dx, dw, db = conv2d_backward_reference(c["x"], c["w"], c["dz"], c["stride"], c["padding"], c["conn"],
                                           c["dilation"])
    np.testing.assert_allclose(z, tz.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@FEW
@given(pool_cases(dtypes=(np.float64,), ties=False))
def test_pool_kernels_and_reference_match_torch(c):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    (kh, kw), (sh, sw) = c["k"], c["s"]
    x, dz = c["x"], c["dz"]
    H, W = x.shape[2:]
    tdz = torch.tensor(dz)

    tx = torch.tensor(x, requires_grad=True)
    tz = F.max_pool2d(tx, c["k"], c["s"])
    tz.backward(tdz)
    z, am = K.max_pool2d_forward(x, kh, kw, sh, sw)
    np.testing.assert_array_equal(z, tz.detach().numpy())
    np.testing.assert_allclose(K.max_pool2d_backward(dz, am, H, W), tx.grad.numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(max_pool2d_reference(x, c["k"], c["s"]), tz.detach().numpy())
    np.testing.assert_allclose(max_pool2d_backward_reference(x, dz, c["k"], c["s"]), tx.grad.numpy(),
                               rtol=1e-12, atol=1e-14)

    tx = torch.tensor(x, requires_grad=True)
    tz = F.avg_pool2d(tx, c["k"], c["s"])
    tz.backward(tdz)
    s = K.window_sum_forward(x, kh, kw, sh, sw)
    np.testing.assert_allclose(s / (kh * kw), tz.detach().numpy(), rtol=1e-10, atol=1e-12)
    dx = K.window_sum_backward(dz / (kh * kw), H, W, kh, kw, sh, sw)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(avg_pool2d_reference(x, c["k"], c["s"]), tz.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(avg_pool2d_backward_reference(x, dz, c["k"], c["s"]), tx.grad.numpy(),
                               rtol=1e-10, atol=1e-12)

    # the lecture's weighted form equals w^h · (r·c) · mean, with dw by autograd
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(c["weight"], requires_grad=True)
    tz = F.avg_pool2d(tx, c["k"], c["s"]) * (kh * kw) * tw[None, :, None, None]
    tz.backward(tdz)
    dx_ref, dw_ref = avg_pool2d_backward_reference(x, dz, c["k"], c["s"], c["weight"])
    np.testing.assert_allclose(dx_ref, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw_ref, tw.grad.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# reference helpers: vec / unvec, rot180
# --------------------------------------------------------------------------

@FAST
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))
def test_vec_stacks_columns_first_map_to_last(N, C, H, W):
    x = np.arange(N * C * H * W, dtype=np.float64).reshape(N, C, H, W)
    v = vec_reference(x)
    assert v.shape == (N, C * H * W)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    assert v[n, c * H * W + j * H + i] == x[n, c, i, j]
    np.testing.assert_array_equal(unvec_reference(v, (C, H, W)), x)
    # unbatched (C, H, W) -> (C·H·W,)
    np.testing.assert_array_equal(vec_reference(x[0]), v[0])
    np.testing.assert_array_equal(unvec_reference(v[0], (C, H, W)), x[0])


def test_vec_small_example():
    """Two 2×2 maps [[1,3],[2,4]] and [[5,7],[6,8]]: columns stacked give 1..8."""
    x = np.array([[[1, 3], [2, 4]], [[5, 7], [6, 8]]], dtype=np.float64)
    np.testing.assert_array_equal(vec_reference(x), np.arange(1, 9))


def test_rot180():
    a = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(rot180_reference(a), [[5, 4, 3], [2, 1, 0]])
    b = np.arange(24).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(rot180_reference(b), b[..., ::-1, ::-1])


def test_conv_input_gradient_is_rot180_full_correlation():
    """dA = rot180(W) ⋆ dZ with 'full' padding (stride 1, one map)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 1, 6, 5))
    w = rng.standard_normal((1, 1, 3, 2))
    dz = rng.standard_normal((1, 1, 4, 4))
    dxp = K.conv2d_backward_input(dz, w, 1, 1, np.ones((1, 1), np.uint8), 6, 5)
    full = conv2d_reference(dz, rot180_reference(w), padding=(2, 1))
    np.testing.assert_allclose(dxp, full, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dxp, conv2d_backward_reference(x, w, dz)[0], rtol=1e-12, atol=1e-14)


@FEW
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_reference_groups_match_torch(groups, cg, og, seed):
    """The reference's groups (weight (O, C/g, kh, kw), output map h sees its group's maps) against PyTorch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    C, O = groups * cg, groups * og
    x, w, b = rng.standard_normal((2, C, 6, 5)), rng.standard_normal((O, cg, 3, 2)), rng.standard_normal(O)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tz = torch.nn.functional.conv2d(tx, tw, tb, stride=(2, 1), padding=1, dilation=(1, 2), groups=groups)
    dz = rng.standard_normal(tuple(tz.shape))
    tz.backward(torch.tensor(dz))
    z = conv2d_reference(x, w, b, (2, 1), 1, None, (1, 2), groups)
    dx, dw, db = conv2d_backward_reference(x, w, dz, (2, 1), 1, None, (1, 2), groups)
    for ours, theirs in ((z, tz), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 8, 6), (2, 3, 9, 7), (1, 2, 2, 2), (1, 1, 3, 5)])
def test_two_by_two_pooling_loops_match_the_references(dtype, shape):
    """The 2×2-window, stride-2 loops (the lecture's and LeNet's pooling) against the naive
    references: exact and inexact tilings, ties and NaN for max pooling, a per-map scale."""
    from tinygrad_cnn.kernels import window_sum as KS

    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, shape).astype(dtype)  # ties
    x.flat[::11] = np.nan
    N, C, H, W = shape
    dz = rng.uniform(-1, 1, (N, C, H // 2, W // 2)).astype(dtype)
    z, am = K.max_pool2d_forward(x, 2, 2, 2, 2)
    np.testing.assert_array_equal(z, max_pool2d_reference(x, 2).astype(dtype))
    assert_close(K.max_pool2d_backward(dz, am, H, W), max_pool2d_backward_reference(x, dz, 2), dtype)
    x = rng.uniform(-1, 1, shape).astype(dtype)
    scale = rng.uniform(-2, 2, C).astype(dtype)
    zs, s = KS.scaled_window_sum_forward(x, scale, 2, 2, 2, 2)
    assert_close(zs, avg_pool2d_reference(x, 2, weight=scale), dtype)
    assert_close(s, avg_pool2d_reference(x, 2, weight=np.ones(C)), dtype)
    assert_close(KS.window_sum_backward(dz, H, W, 2, 2, 2, 2, scale),
                 avg_pool2d_backward_reference(x, dz, 2, weight=scale)[0], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", [(2, 2, 2, 2), (3, 2, 1, 2)])
def test_window_sum_dot_is_the_weight_gradient(dtype, window):
    """dw = Σ dZ ∘ ⊞A (the lecture's average-pooling weight gradient) against the naive loops,
    and the same bits on one thread as on two (sums per plane, added in order)."""
    from tinygrad_cnn import runtime
    from tinygrad_cnn.kernels import window_sum as KS

    kh, kw, sh, sw = window
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (4, 3, 9, 8)).astype(dtype)
    scale = rng.uniform(-2, 2, 3).astype(dtype)
    _, s = KS.scaled_window_sum_forward(x, scale, kh, kw, sh, sw)
    dz = rng.uniform(-1, 1, s.shape).astype(dtype)
    dw = KS.window_sum_dot(dz, s)
    assert dw.dtype == dtype and dw.shape == (3,)
    assert_close(dw, avg_pool2d_backward_reference(x, dz, (kh, kw), stride=(sh, sw), weight=scale)[1], dtype)
    dw_too, db = KS.window_sum_dot(dz, s, with_sum=True)  # and a bias's db = Σ dZ from the same pass
    np.testing.assert_array_equal(KS.window_sum_dot(np.asfortranarray(dz), s), KS.window_sum_dot(dz, s))  # any layout
    np.testing.assert_array_equal(dw_too, dw)
    assert_close(db, dz.astype(np.float64).sum(axis=(0, 2, 3)), dtype)
    # negative control: a wrong ⊞A gives a wrong dw
    assert not np.allclose(KS.window_sum_dot(dz, s + 1), dw)
    big_dz, big_s = rng.uniform(-1, 1, (2, 64, 16, 16, 16)).astype(dtype)  # enough work for two threads
    previous = runtime.get_num_threads()
    try:
        runtime.set_num_threads(1)
        one = KS.window_sum_dot(big_dz, big_s)
    finally:
        runtime.set_num_threads(previous)
    np.testing.assert_array_equal(KS.window_sum_dot(big_dz, big_s), one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hw", [(10, 10), (11, 9), (28, 28)])
def test_window_sum_backward_with_the_dot_products_is_both_kernels(dtype, hw):
    """window_sum_backward(..., s=s) (one pass over dZ for LeNet's exact 2×2 tiling) gives the
    bits of window_sum_backward and window_sum_dot called one after the other, on one thread
    and on two; with inexact tilings it calls them."""
    from tinygrad_cnn import runtime
    from tinygrad_cnn.kernels import window_sum as KS

    H, W = hw
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (64, 6, H, W)).astype(dtype)  # 64 × 6 planes: enough work for two threads
    scale = rng.uniform(-2, 2, 6).astype(dtype)
    _, s = KS.scaled_window_sum_forward(x, scale, 2, 2, 2, 2)
    dz = rng.uniform(-1, 1, s.shape).astype(dtype)
    dx, dw, db = KS.window_sum_backward(dz, H, W, 2, 2, 2, 2, scale, s=s)
    np.testing.assert_array_equal(dx, KS.window_sum_backward(dz, H, W, 2, 2, 2, 2, scale))
    for got, want in zip((dw, db), KS.window_sum_dot(dz, s, with_sum=True)):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    assert_close(dw, avg_pool2d_backward_reference(x, dz, 2, weight=scale)[1], dtype)
    previous = runtime.get_num_threads()
    try:
        runtime.set_num_threads(1)
        one = KS.window_sum_backward(dz, H, W, 2, 2, 2, 2, scale, s=s)
    finally:
        runtime.set_num_threads(previous)
    for a, b in zip(one, (dx, dw, db)):
        np.testing.assert_array_equal(a, b)
    # negative control: another ⊞A gives another dw, the same dx and db
    dx2, dw2, db2 = KS.window_sum_backward(dz, H, W, 2, 2, 2, 2, scale, s=s + 1)
    assert not np.allclose(dw2, dw)
    np.testing.assert_array_equal(dx2, dx)
    np.testing.assert_array_equal(db2, db)
