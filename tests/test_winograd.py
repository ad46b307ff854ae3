"""The Winograd path of the correlation engine (``kernels/winograd.py``): 3×3 kernels at stride 1.

Forward and both gradients through the path forced (dA is the engine's full correlation of dZ,
itself a 3×3 correlation at stride 1, so it takes the path too), against the naive loops, float64
gradcheck and PyTorch, on drawn shapes, paddings and odd output sizes; the transforms against
their matrices; and where the cost model sends a call.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_cnn.kernels as K
from tinygrad_cnn import Tensor
from tinygrad_cnn import functional as F
from tinygrad_cnn.gradcheck import gradcheck
from tinygrad_cnn.kernels import cost_model, winograd
from tinygrad_cnn.kernels.conv_reference import conv2d_backward_reference, conv2d_reference
from helpers import arrays, assert_close, leaf, random_grad, torch_leaf

TOL = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


@st.composite
def cases(draw, max_side=9):
    """A 3×3 layer at stride 1: batch, maps, a V of any size the padded kernel fits, any padding
    from 0 to 2 on each side, with or without a connection table and a bias."""
    n, c, o = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, 3 - 2 * ph), max_side))
    w = draw(st.integers(max(1, 3 - 2 * pw), max_side))
    conn = None
    if draw(st.booleans()):
        conn = np.asarray(draw(st.lists(st.integers(0, 1), min_size=o * c, max_size=o * c))).reshape(o, c)
    return (n, c, h, w), (o, c, 3, 3), (ph, pw), conn, draw(st.booleans())


def _run(x, w, b, padding, conn, dz):
    """Forward and (dx, dw, db) through autograd with the Winograd path forced."""
    tx, tw = leaf(x), leaf(w)
    tb = leaf(b) if b is not None else None
    with K.force_path("winograd"):
        z = F.conv2d(tx, tw, tb, padding=padding, connection=conn)
        z.backward(dz)
    return z.data, tx.grad.data, tw.grad.data, (tb.grad.data if tb is not None else None)


@given(cases(), st.sampled_from([np.float64, np.float32]), st.data())
def test_winograd_against_reference(case, dtype, data):
    xs, ws, padding, conn, with_bias = case
    x, w = data.draw(arrays(xs, dtype=dtype)), data.draw(arrays(ws, dtype=dtype))
    b = data.draw(arrays((ws[0],), dtype=dtype)) if with_bias else None
    z_ref = conv2d_reference(x, w, b, padding=padding, connection=conn)
    dz = random_grad(z_ref.shape, dtype=dtype)
    z, dx, dw, db = _run(x, w, b, padding, conn, dz)
    dx_ref, dw_ref, db_ref = conv2d_backward_reference(x, w, dz, (1, 1), padding, conn)
    assert z.dtype == dx.dtype == dw.dtype == dtype and z.shape == z_ref.shape
    assert_close(z, z_ref, **TOL[dtype])
    assert_close(dx, dx_ref, **TOL[dtype])
    assert_close(dw, dw_ref, **TOL[dtype])
    if b is not None:
        assert_close(db, db_ref, **TOL[dtype])
    if conn is not None:
        assert np.all(dw[conn == 0] == 0)


@given(cases(max_side=6), st.data())
def test_winograd_gradcheck(case, data):
    xs, ws, padding, conn, _ = case
    x, w, b = data.draw(arrays(xs)), data.draw(arrays(ws)), data.draw(arrays((ws[0],)))
    with K.force_path("winograd"):
        assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=padding, connection=conn),
                         [leaf(x), leaf(w), leaf(b)])


@given(cases(), st.sampled_from([np.float64, np.float32]), st.data())
def test_winograd_against_torch(case, dtype, data):
    torch = pytest.importorskip("torch")
    xs, ws, padding, conn, _ = case
    x, w = data.draw(arrays(xs, dtype=dtype)), data.draw(arrays(ws, dtype=dtype))
    b = data.draw(arrays((ws[0],), dtype=dtype))
    mask = np.ones(ws[:2]) if conn is None else conn
    tx, tw, tb = torch_leaf(torch, x), torch_leaf(torch, w), torch_leaf(torch, b)
    tz = torch.nn.functional.conv2d(tx, tw * torch.from_numpy(mask[:, :, None, None].astype(dtype)), tb,
                                    padding=padding)
    dz = random_grad(tuple(tz.shape), dtype=dtype)
    tz.backward(torch.from_numpy(dz))
    z, dx, dw, db = _run(x, w, b, padding, conn, dz)
    tol = dict(rtol=1e-6, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for ours, theirs in ((z, tz), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        assert_close(ours, theirs.detach().numpy(), **tol)


@given(st.sampled_from([np.float64, np.float32]), st.data())
def test_winograd_noncontiguous_equals_copy(dtype, data):
    x = data.draw(arrays((2, 3, 7, 8), dtype=dtype, contiguous=False))
    w = data.draw(arrays((4, 3, 3, 3), dtype=dtype, contiguous=False))
    with K.force_path("winograd"):
        a = F.conv2d(Tensor(x), Tensor(w), padding=1).data
        b = F.conv2d(Tensor(np.ascontiguousarray(x)), Tensor(np.ascontiguousarray(w)), padding=1).data
    np.testing.assert_array_equal(a, b)


def test_large_maps_go_in_bands_of_tile_rows_with_the_same_result(monkeypatch):
    """Where an example's tiles would not stay in cache, it is split into bands of tile rows;
    the bands (the last one shorter) give the same numbers as the whole example at once."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 19, 9)), rng.standard_normal((4, 3, 3, 3))
    conn, b = np.ones((4, 3), np.uint8), rng.standard_normal(4)
    whole = winograd.correlate_winograd(x, w, conn, b, (1, 1, 1, 1))
    monkeypatch.setattr(winograd, "BLOCK_NUMBERS", 36 * 7 * 3 * 2)  # two tile rows of 3 tiles, 7 maps
    assert winograd._tile_rows(5, 3, 7) == 2
    banded = winograd.correlate_winograd(x, w, conn, b, (1, 1, 1, 1))
    np.testing.assert_allclose(banded, whole, rtol=1e-13, atol=1e-13)
    assert_close(banded, conv2d_reference(x, w, b, padding=(1, 1)))


def test_weight_transform_is_G_g_Gt_and_keeps_nan_of_unconnected_kernels_out():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 3))
    conn = np.array([[1, 0], [1, 1], [0, 1]], np.uint8)
    w[0, 1] = np.nan  # an unconnected kernel: its NaN must not reach U
    U = winograd.weight_transform(w, conn)
    G = winograd.G
    for o in range(3):
        for c in range(2):
            expected = G @ w[o, c] @ G.T if conn[o, c] else np.zeros((6, 6))
            np.testing.assert_allclose(U[:, o, c].reshape(6, 6), expected, rtol=1e-15, atol=1e-15)
    assert np.isfinite(U).all()


def test_winograd_tiles_are_the_minimal_filtering_of_each_block():
    """One 6×6 input, one kernel: the 4×4 output is Aᵀ[(G g Gᵀ) ∘ (Bᵀ d B)]A, the plain
    correlation, and the path computes it; a transform with one entry wrong would not (the
    check can fail)."""
    rng = np.random.default_rng(1)
    d, g = rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((1, 1, 3, 3))
    z = winograd.correlate_winograd(d, g, np.ones((1, 1), np.uint8), None, (0, 0, 0, 0))
    plain = np.array([[np.sum(d[0, 0, i:i + 3, j:j + 3] * g[0, 0]) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(z[0, 0], plain, rtol=1e-12, atol=1e-12)
    BT, G, AT = winograd.BT, winograd.G, winograd.AT
    by_matrices = AT @ ((G @ g[0, 0] @ G.T) * (BT @ d[0, 0] @ BT.T)) @ AT.T
    np.testing.assert_allclose(by_matrices, plain, rtol=1e-12, atol=1e-12)
    wrong = BT.copy()
    wrong[3, 3] = 1
    assert not np.allclose(AT @ ((G @ g[0, 0] @ G.T) * (wrong @ d[0, 0] @ wrong.T)) @ AT.T, plain)


def test_cost_model_sends_wide_dense_3x3_layers_to_winograd():
    dense = np.ones((64, 32), np.uint8)
    mid = dict(input_size=(32, 32), dilation=(1, 1), padding=(1, 1, 1, 1))
    assert cost_model.choose_path(32, 32, 64, 3, 3, 32, 32, 32, (1, 1), dense, **mid) == "winograd"
    assert cost_model.choose_path(32, 64, 32, 3, 3, 32, 32, 32, (1, 1), dense.T.copy(), **mid) == "winograd"  # dA
    # not: the weight gradient, a sparse table, few maps, a 5×5 kernel, stride 2, dilation 2, a cropped V
    assert cost_model.choose_path(32, 32, 64, 3, 3, 32, 32, 32, (1, 1), dense, weight=True,
                                  input_size=(32, 32), dilation=(1, 1)) != "winograd"
    sparse = dense.copy()
    sparse[0, 0] = 0
    assert cost_model.choose_path(32, 32, 64, 3, 3, 32, 32, 32, (1, 1), sparse, **mid) != "winograd"
    assert cost_model.choose_path(32, 3, 16, 3, 3, 28, 28, 28, (1, 1), np.ones((16, 3), np.uint8),
                                  input_size=(28, 28), dilation=(1, 1), padding=(1, 1, 1, 1)) != "winograd"
    assert cost_model.choose_path(32, 32, 64, 5, 5, 32, 32, 32, (1, 1), dense, input_size=(32, 32),
                                  dilation=(1, 1), padding=(2, 2, 2, 2)) != "winograd"
    assert not cost_model.winograd_applies(3, 3, (2, 2), (1, 1), (1, 1, 1, 1))
    assert not cost_model.winograd_applies(3, 3, (1, 1), (2, 2), (1, 1, 1, 1))
    assert not cost_model.winograd_applies(3, 3, (1, 1), (1, 1), None)
    assert not cost_model.winograd_applies(3, 3, (1, 1), (1, 1), (1, -1, 1, 1))


def test_forced_winograd_falls_back_to_taps_where_it_does_not_apply():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    with K.force_path("winograd"):
        z = F.conv2d(Tensor(x), Tensor(w), stride=2, padding=1).data  # stride 2: the taps
    assert_close(z, conv2d_reference(x, w, None, stride=(2, 2), padding=(1, 1)))


def test_a_mid_sized_layer_takes_the_path_and_matches_the_taps():
    """A 3×3 layer of 32 → 64 maps on 32×32 (the benchmark's mid case, smaller batch): the cost
    model's path, forward and both gradients, agrees with the tap loops'."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 32, 32, 32)).astype(np.float32)
    w = (rng.standard_normal((64, 32, 3, 3)) / 17).astype(np.float32)
    dz = random_grad((2, 64, 32, 32), np.float32)
    chosen = cost_model.choose_path(2, 32, 64, 3, 3, 32, 32, 32, (1, 1), np.ones((64, 32), np.uint8),
                                    input_size=(32, 32), dilation=(1, 1), padding=(1, 1, 1, 1))
    assert chosen == "winograd"
    results = []
    for path in (None, "taps"):
        tx, tw = leaf(x), leaf(w)
        with K.force_path(path):
            z = F.conv2d(tx, tw, padding=1)
            z.backward(dz)
        results.append((z.data, tx.grad.data, tw.grad.data))
    for ours, taps in zip(*results):
        assert_close(ours, taps, rtol=1e-4, atol=1e-4)
