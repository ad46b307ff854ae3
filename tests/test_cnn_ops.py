"""The lecture's CNN operations through the public functional API.

Forward and backward against the naive reference loops and PyTorch on drawn
shapes, strides, paddings, connection masks and pool windows (contiguous or
not, float32 and float64), gradcheck in float64 with a random upstream
gradient, and the unbatched (C, H, W) and single-matrix (H, W) forms.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck
import tinygrad_cnn.nn as nn
from tinygrad_cnn.functional.pooling import subsampling
from tinygrad_cnn import figures
from tinygrad_cnn.kernels.conv import conv2d_backward_reference, conv2d_reference
from tinygrad_cnn.kernels.pool import avg_pool2d_backward_reference, avg_pool2d_reference, max_pool2d_backward_reference, max_pool2d_reference
from tinygrad_cnn.ops.conv import rot180_reference
from tinygrad_cnn.ops.vec import vec_reference
from helpers import arrays, assert_close, leaf, random_grad, torch_leaf

import tinygrad_cnn.kernels as K


@pytest.fixture(params=["taps", "im2col", "scatter", "batch", "winograd"])
def conv_path(request):
    """Run a test through every path of the correlation engine: direct taps, im2col + matrix product,
    scatter, the examples innermost, Winograd's (each where it applies; elsewhere the taps)."""
    with K.force_path(request.param):
        yield request.param


TOL = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


@st.composite
def conv_case(draw, max_side=8, dilated=False):
    g = draw(st.integers(1, 2)) if dilated else 1
    n, c, o = draw(st.integers(1, 3)), g * draw(st.integers(1, 2 if dilated else 4)), g * draw(st.integers(1, 2 if dilated else 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilated else (1, 1)
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), max_side + 2 * dh))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), max_side + 2 * dw))
    conn = None
    if draw(st.booleans()):
        conn = np.asarray(draw(st.lists(st.integers(0, 1), min_size=o * c, max_size=o * c))).reshape(o, c)
    return (n, c, h, w), (o, c // g, kh, kw), (sh, sw), (ph, pw), conn, (dh, dw), g


def _conv_all(x, w, b, stride, padding, conn, dz, dilation=1, groups=1):
    """Forward and (dx, dw, db) through our autograd."""
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    z = F.conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation, groups=groups, connection=conn)
    z.backward(dz)
    return z.data, tx.grad.data, tw.grad.data, tb.grad.data


@given(st.one_of(conv_case(), conv_case(dilated=True)), st.sampled_from([np.float64, np.float32]), st.data())
def test_conv2d_against_reference(conv_path, case, dtype, data):
    """Every engine path; strided, padded, dilated, grouped and connection-masked."""
    xs, ws, stride, padding, conn, dilation, groups = case
    x = data.draw(arrays(xs, dtype=dtype))
    w = data.draw(arrays(ws, dtype=dtype))
    b = data.draw(arrays((ws[0],), dtype=dtype))
    z_ref = conv2d_reference(x, w, b, stride=stride, padding=padding, connection=conn, dilation=dilation,
                             groups=groups)
    dz = random_grad(z_ref.shape, dtype=dtype)
    z, dx, dw, db = _conv_all(x, w, b, stride, padding, conn, dz, dilation, groups)
    assert z.dtype == dtype and dx.dtype == dtype and dw.dtype == dtype
    dx_ref, dw_ref, db_ref = conv2d_backward_reference(x, w, dz, stride=stride, padding=padding, connection=conn,
                                                       dilation=dilation, groups=groups)
    assert_close(z, z_ref, **TOL[dtype])
    assert_close(dx, dx_ref, **TOL[dtype])
    assert_close(dw, dw_ref, **TOL[dtype])
    assert_close(db, db_ref, **TOL[dtype])
    if conn is not None and groups == 1:
        off = np.broadcast_to((conn == 0)[:, :, None, None], dw.shape)
        assert np.all(dw[off] == 0), "an unconnected kernel received gradient"


@given(st.one_of(conv_case(max_side=6), conv_case(max_side=4, dilated=True)), st.data())
def test_conv2d_gradcheck(conv_path, case, data):
    xs, ws, stride, padding, conn, dilation, groups = case
    x, w = data.draw(arrays(xs)), data.draw(arrays(ws))
    b = data.draw(arrays((ws[0],)))
    assert gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                 connection=conn),
        [leaf(x), leaf(w), leaf(b)],
    )


@given(st.one_of(conv_case(), conv_case(dilated=True)), st.sampled_from([np.float64, np.float32]), st.data())
def test_conv2d_against_torch(conv_path, case, dtype, data):
    torch = pytest.importorskip("torch")
    xs, ws, stride, padding, conn, dilation, groups = case
    x, w = data.draw(arrays(xs, dtype=dtype)), data.draw(arrays(ws, dtype=dtype))
    b = data.draw(arrays((ws[0],), dtype=dtype))
    og, cg = ws[0] // groups, ws[1]
    full = np.ones((ws[0], xs[1])) if conn is None else conn
    mask = np.stack([full[h, (h // og) * cg:(h // og + 1) * cg] for h in range(ws[0])])  # each map's group
    tx, tw, tb = torch_leaf(torch, x), torch_leaf(torch, w), torch_leaf(torch, b)
    tz = torch.nn.functional.conv2d(tx, tw * torch.from_numpy(mask[:, :, None, None].astype(dtype)), tb,
                                    stride=stride, padding=padding, dilation=dilation, groups=groups)
    dz = random_grad(tuple(tz.shape), dtype=dtype)
    tz.backward(torch.from_numpy(dz))
    z, dx, dw, db = _conv_all(x, w, b, stride, padding, conn, dz, dilation, groups)
    tol = dict(rtol=1e-6, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    assert_close(z, tz.detach().numpy(), **tol)
    assert_close(dx, tx.grad.numpy(), **tol)
    assert_close(dw, tw.grad.numpy(), **tol)
    assert_close(db, tb.grad.numpy(), **tol)


@pytest.mark.parametrize("mode", ["same", "valid", "full"])
@pytest.mark.parametrize("k", [(1, 1), (2, 3), (3, 3), (4, 2)])
def test_conv2d_padding_modes_against_torch(conv_path, mode, k):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((2, 3) + k)
    tx, tw = torch_leaf(torch, x), torch_leaf(torch, w)
    if mode == "full":
        tz = torch.nn.functional.conv2d(tx, tw, padding=(k[0] - 1, k[1] - 1))
    else:
        tz = torch.nn.functional.conv2d(tx, tw, padding=mode)
    dz = random_grad(tuple(tz.shape))
    tz.backward(torch.from_numpy(dz))
    ox, ow = leaf(x), leaf(w)
    z = F.conv2d(ox, ow, padding=mode)
    z.backward(dz)
    assert_close(z.data, tz.detach().numpy())
    assert_close(ox.grad, tx.grad.numpy())
    assert_close(ow.grad, tw.grad.numpy())
    if mode == "same":
        assert z.shape[2:] == x.shape[2:]


def test_conv2d_unbatched_and_single_matrix(conv_path):
    rng = np.random.default_rng(2)
    x3, w4 = rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 3))
    b = rng.standard_normal(2)
    z3 = F.conv2d(leaf(x3), leaf(w4), leaf(b), padding=1)
    assert z3.shape == (2, 6, 5)
    assert_close(z3.data, conv2d_reference(x3[None], w4, b, padding=(1, 1))[0])
    assert gradcheck(lambda x, w: F.conv2d(x, w, stride=2), [leaf(x3), leaf(w4)])
    v, k = rng.standard_normal((6, 5)), rng.standard_normal((2, 2))
    z2 = F.conv2d(leaf(v), leaf(k), Tensor(np.array(0.5)))
    assert z2.shape == (5, 4)
    assert_close(z2.data, conv2d_reference(v[None, None], k[None, None], np.array([0.5]))[0, 0])
    assert gradcheck(lambda v, k: F.conv2d(v, k, padding="full"), [leaf(v), leaf(k)])


def test_connection_skips_work_and_zeroes_gradients_exactly():
    rng = np.random.default_rng(3)
    conn = figures.LENET_C3_TABLE
    x = rng.standard_normal((2, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    tw = leaf(w)
    z = F.conv2d(Tensor(x), tw, connection=conn)
    z.backward(random_grad(z.shape, np.float32))
    off = np.broadcast_to((conn == 0)[:, :, None, None], w.shape)
    assert np.all(tw.grad.data[off] == 0) and np.all(tw.grad.data[~off] != 0)
    # the result equals a dense conv with the masked weight, whatever sits in unconnected kernels
    dense = F.conv2d(Tensor(x), Tensor(w * conn[:, :, None, None]))
    assert_close(z.data, dense.data, rtol=1e-5, atol=1e-5)


@given(st.sampled_from([np.float64, np.float32]), st.data())
def test_conv2d_noncontiguous_equals_copy(conv_path, dtype, data):
    x = data.draw(arrays((2, 3, 7, 8), dtype=dtype, contiguous=False))
    w = data.draw(arrays((4, 3, 3, 2), dtype=dtype, contiguous=False))
    a = F.conv2d(Tensor(x), Tensor(w), stride=2, padding=1).data
    b = F.conv2d(Tensor(np.ascontiguousarray(x)), Tensor(np.ascontiguousarray(w)), stride=2, padding=1).data
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------- rot180
@given(st.sampled_from([(3, 3), (2, 4, 5), (1, 2, 3, 2)]), st.data())
def test_rot180(shape, data):
    x = data.draw(arrays(shape))
    out = F.rot180(leaf(x))
    assert_close(out.data, rot180_reference(x), rtol=0)
    assert_close(F.rot180(out).data, x, rtol=0)
    assert gradcheck(F.rot180, [leaf(x)])


def test_rot180_full_correlation_is_the_input_gradient():
    """The lecture's dA = rot180(W) ⋆ dZ (full correlation) equals autograd's dA (stride 1)."""
    rng = np.random.default_rng(4)
    v, wk = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    tv = leaf(v)
    z = F.conv2d(tv, Tensor(wk))
    dz = random_grad(z.shape)
    z.backward(dz)
    by_hand = F.conv2d(Tensor(dz), F.rot180(Tensor(wk)), padding="full").data
    assert_close(tv.grad, by_hand)


# ----------------------------------------------------------------------- pooling
@st.composite
def pool_case(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    h, w = draw(st.integers(kh, 9)), draw(st.integers(kw, 9))
    return (n, c, h, w), (kh, kw), stride


@given(pool_case(), st.sampled_from([np.float64, np.float32]), st.booleans(), st.data())
def test_max_pool_against_reference(case, dtype, coarse, data):
    shape, k, stride = case
    x = data.draw(arrays(shape, dtype=dtype))
    if coarse:  # many ties: exercises first-maximum routing
        x = np.round(x).astype(dtype)
    s = k if stride is None else stride
    tx = leaf(x)
    z = F.max_pool2d(tx, k, stride)
    dz = random_grad(z.shape, dtype)
    z.backward(dz)
    assert_close(z.data, max_pool2d_reference(x, k, s), rtol=0)
    assert_close(tx.grad, max_pool2d_backward_reference(x, dz, k, s), **TOL[dtype])


@given(pool_case(), st.sampled_from([np.float64, np.float32]), st.data())
def test_avg_pool_against_reference(case, dtype, data):
    shape, k, stride = case
    s = k if stride is None else stride
    x = data.draw(arrays(shape, dtype=dtype))
    wts = data.draw(arrays((shape[1],), dtype=dtype))
    tx = leaf(x)
    z = F.avg_pool2d(tx, k, stride)
    dz = random_grad(z.shape, dtype)
    z.backward(dz)
    assert_close(z.data, avg_pool2d_reference(x, k, s), **TOL[dtype])
    assert_close(tx.grad, avg_pool2d_backward_reference(x, dz, k, s), **TOL[dtype])
    tx, tw = leaf(x), leaf(wts)
    z = F.avg_pool2d(tx, k, stride, weight=tw)
    z.backward(dz)
    dx_ref, dw_ref = avg_pool2d_backward_reference(x, dz, k, s, weight=wts)
    assert_close(z.data, avg_pool2d_reference(x, k, s, weight=wts), **TOL[dtype])
    assert_close(tx.grad, dx_ref, **TOL[dtype])
    assert_close(tw.grad, dw_ref, **TOL[dtype])


@given(pool_case(), st.data())
def test_pool_gradcheck(case, data):
    shape, k, stride = case
    x = data.draw(arrays(shape))
    wts = data.draw(arrays((shape[1],)))
    assert gradcheck(lambda t: F.max_pool2d(t, k, stride), [leaf(x)])  # distinct values: no kinks
    assert gradcheck(lambda t: F.avg_pool2d(t, k, stride), [leaf(x)])
    assert gradcheck(lambda t, w: F.avg_pool2d(t, k, stride, weight=w), [leaf(x), leaf(wts)])


@given(pool_case(), st.sampled_from([np.float64, np.float32]), st.data())
def test_pools_against_torch(case, dtype, data):
    torch = pytest.importorskip("torch")
    shape, k, stride = case
    x = data.draw(arrays(shape, dtype=dtype))
    x = np.round(x * 2).astype(dtype) if data.draw(st.booleans()) else x  # ties
    for ours, theirs in ((F.max_pool2d, torch.nn.functional.max_pool2d),
                         (F.avg_pool2d, torch.nn.functional.avg_pool2d)):
        tx, px = leaf(x), torch_leaf(torch, x)
        z = ours(tx, k, stride)
        pz = theirs(px, k, stride)
        dz = random_grad(z.shape, dtype)
        z.backward(dz)
        pz.backward(torch.from_numpy(dz))
        assert_close(z.data, pz.detach().numpy(), **TOL[dtype])
        assert_close(tx.grad, px.grad.numpy(), **TOL[dtype])


def test_lecture_pool_equals_window_sum_times_weight_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, wts = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal(3)
    tx, tw = leaf(x), leaf(wts)
    z = F.avg_pool2d(tx, 2, weight=tw)
    dz = random_grad(z.shape)
    z.backward(dz)
    px, pw = torch_leaf(torch, x), torch_leaf(torch, wts)
    pz = torch.nn.functional.avg_pool2d(px, 2) * 4 * pw.reshape(1, 3, 1, 1)
    pz.backward(torch.from_numpy(dz))
    assert_close(z.data, pz.detach().numpy())
    assert_close(tx.grad, px.grad.numpy())
    assert_close(tw.grad, pw.grad.numpy())


def test_max_pool_ties_route_to_first_maximum():
    x = np.ones((1, 1, 4, 4))
    tx = leaf(x)
    F.max_pool2d(tx, 2).backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2))
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(tx.grad[0, 0], expected)


def test_max_pool_overlapping_windows_accumulate():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre is the maximum of all four 2x2 windows (stride 1)
    tx = leaf(x)
    F.max_pool2d(tx, 2, 1).backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert tx.grad[0, 0, 1, 1] == 10.0 and tx.grad.sum() == 10.0


def test_pool_unbatched_and_single_matrix():
    rng = np.random.default_rng(6)
    m = rng.standard_normal((6, 6))
    assert F.max_pool2d(leaf(m), 3).shape == (2, 2)
    assert F.avg_pool2d(leaf(m), 2, weight=Tensor(np.array(2.0))).shape == (3, 3)
    assert_close(F.avg_pool2d(leaf(m), 2, weight=Tensor(np.array(2.0))).data,
                 avg_pool2d_reference(m[None, None], (2, 2), (2, 2), weight=np.array([2.0]))[0, 0])
    c = rng.standard_normal((3, 5, 5))
    assert F.max_pool2d(leaf(c), 2).shape == (3, 2, 2)
    assert gradcheck(lambda t: F.avg_pool2d(t, 2, 1), [leaf(c)])


def test_nan_propagates_through_max_pool_and_conv():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 1] = np.nan
    z = F.max_pool2d(Tensor(x), 2).data
    assert np.isnan(z[0, 0, 0, 0]) and not np.isnan(z[0, 0, 1, 1])
    c = F.conv2d(Tensor(x), Tensor(np.ones((1, 1, 2, 2)))).data
    assert np.isnan(c[0, 0, 0, 0]) and not np.isnan(c[0, 0, 2, 2])


# ----------------------------------------------------------------------- vec
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.data())
def test_vec_unvec(n, c, h, w, data):
    x = data.draw(arrays((n, c, h, w)))
    v = F.vec(leaf(x))
    assert v.shape == (n, c * h * w)
    for ci, i, j in [(c - 1, h - 1, 0), (0, 0, w - 1), (c // 2, h // 2, w // 2)]:
        assert v.data[0, ci * h * w + j * h + i] == x[0, ci, i, j]
    assert_close(v.data, vec_reference(x), rtol=0)
    assert_close(F.unvec(v, (c, h, w)).data, x, rtol=0)
    assert_close(F.vec(leaf(x[0])).data, v.data[0], rtol=0)
    assert_close(F.unvec(F.vec(leaf(x[0])), (c, h, w)).data, x[0], rtol=0)
    assert gradcheck(F.vec, [leaf(x)])
    assert gradcheck(lambda t: F.unvec(t, (c, h, w)), [leaf(vec_reference(x))])


def test_vec_matches_column_stacking_of_the_lecture():
    a = np.arange(12.0).reshape(2, 2, 3)  # two 2x3 maps
    expected = np.concatenate([a[0].T.ravel(), a[1].T.ravel()])  # columns of map 1, then map 2
    np.testing.assert_array_equal(F.vec(Tensor(a)).data, expected)


def test_gemm_path_split_among_workers_matches_reference(monkeypatch):
    """Every example its own chunk, chunks shared among worker threads: same sums as the loops."""
    import tinygrad_cnn.kernels.im2col as im2col_kernels

    monkeypatch.setattr(im2col_kernels, "CHUNK_ELEMENTS", 1)
    monkeypatch.setattr(K.cost_model, "_FORCED", "im2col")
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((5, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    for stride, padding in (((1, 1), (1, 1)), ((2, 1), (0, 2))):
        z_ref = conv2d_reference(x, w, b, stride=stride, padding=padding)
        dz = random_grad(z_ref.shape)
        z, dx, dw, db = _conv_all(x, w, b, stride, padding, None, dz)
        dx_ref, dw_ref, db_ref = conv2d_backward_reference(x, w, dz, stride=stride, padding=padding)
        for ours, theirs in ((z, z_ref), (dx, dx_ref), (dw, dw_ref), (db, db_ref)):
            assert_close(ours, theirs, rtol=1e-9, atol=1e-10)


def test_conv2d_layer_dilation_groups_and_padding_mode():
    """nn.Conv2d takes PyTorch's grouped weight shape and init bound (fan_in = C/groups·kh·kw),
    runs dilated and grouped against PyTorch, and refuses padding modes PyTorch does not have."""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import nn

    conv = nn.Conv2d(6, 4, 3, padding=2, dilation=2, groups=2).double()
    assert conv.weight.shape == (4, 3, 3, 3)
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(3 * 9)
    assert conv.trainable_parameter_count() == 4 * 3 * 9 + 4
    assert "dilation=(2, 2), groups=2" in repr(conv)
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 8))
    t = torch.nn.Conv2d(6, 4, 3, padding=2, dilation=2, groups=2).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(conv.weight.data))
        t.bias.copy_(torch.from_numpy(conv.bias.data))
    assert_close(conv(Tensor(x)).data, t(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular'"):
        nn.Conv2d(2, 2, 3, padding_mode="symmetric")
    with pytest.raises(ValueError, match=r"groups=4 must divide both in_channels \(6\)"):
        nn.Conv2d(6, 4, 3, groups=4)
    with pytest.raises(ValueError, match="dilation must be >= 1"):
        nn.Conv2d(2, 2, 3, dilation=0)


@pytest.mark.parametrize("shape", [(3, 6, 28, 28), (2, 16, 10, 10), (2, 3, 7, 9)])
def test_subsampling_bias_in_the_pass_gives_the_two_step_bits(shape):
    """LeNet's S2/S4 add the bias inside the pooling pass: the bits of w·⊞A, rounded, then + b
    (the separate "+ bias" it replaced), and db = Σ dZ per map against plain float64 sums."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    w, b = rng.standard_normal((2, shape[1])).astype(np.float32)
    tx, tw, tb = (Tensor(a, requires_grad=True) for a in (x, w, b))
    z = subsampling(tx, 2, tw, tb)
    two_step = F.avg_pool2d(Tensor(x), 2, weight=Tensor(w)).data + b.reshape(1, -1, 1, 1)
    np.testing.assert_array_equal(z.data, two_step)
    dz = rng.standard_normal(z.shape).astype(np.float32)
    z.backward(dz)
    np.testing.assert_allclose(tb.grad.data, dz.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-6)
    assert tb.grad.dtype == np.float32 and tb.grad.shape == (shape[1],)
    # negative control: a bias left out of the pass would differ
    assert not np.array_equal(z.data, two_step - b.reshape(1, -1, 1, 1))


def test_subsampling_module_is_one_op_with_three_inputs():
    layer = nn.Subsampling(6)
    z = layer(Tensor(np.ones((1, 6, 4, 4), np.float32)))
    assert type(z._ctx).__name__ == "WeightedAvgPool2d" and len(z._ctx.parents) == 3
