"""Pooling against PyTorch where a row of the op table cannot say it: returned indices, the tie
and NaN rules, ceil_mode and padding edge cases, unpooling round trips, the layers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn
from tinygrad_cnn import Tensor, gradcheck
from tinygrad_cnn.kernels import pool as K
from helpers import random_grad
from op_cases import pool_geometry_inputs

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FEW = settings(max_examples=10, deadline=None)


def _t(a):
    return torch.tensor(np.asarray(a))  # a copy; 0-d stays 0-d


@FEW
@given(st.data())
def test_max_pool2d_indices_values_and_gradient_match_torch(data):
    (x,), p = pool_geometry_inputs(data.draw, None)
    z, idx = F.max_pool2d(Tensor(x), return_indices=True, **p)
    tz, tidx = TF.max_pool2d(_t(x), return_indices=True, **p)
    np.testing.assert_array_equal(z.data, tz.numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert idx.dtype == np.int64 and not idx.requires_grad


def test_max_pool2d_float32_and_unbatched_indices_match_torch():
    x = np.random.default_rng(1).standard_normal((3, 9, 7)).astype(np.float32)
    z, idx = F.max_pool2d(Tensor(x), 3, 2, 1, 2, True, True)
    tz, tidx = TF.max_pool2d(_t(x), 3, 2, 1, 2, True, True)
    assert z.shape == tuple(tz.shape) and z.dtype == np.float32
    np.testing.assert_array_equal(z.data, tz.numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())


def test_ties_go_to_the_first_maximum_and_padding_never_wins():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = 5.0  # a tie inside one window
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2, dilation=2)):
        z, idx = F.max_pool2d(Tensor(x), return_indices=True, **kw)
        tz, tidx = TF.max_pool2d(_t(x), return_indices=True, **kw)
        np.testing.assert_array_equal(idx.data, tidx.numpy())
    neg = -np.ones((1, 1, 3, 3))  # all below 0: a −∞ padding tap must still lose
    z, idx = F.max_pool2d(Tensor(neg), 3, 1, 1, return_indices=True)
    assert np.all(z.data == -1)
    np.testing.assert_array_equal(idx.data, TF.max_pool2d(_t(neg), 3, 1, 1, return_indices=True)[1].numpy())


def test_nan_wins_and_takes_the_gradient_as_in_torch():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = np.nan
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1, ceil_mode=True)):
        t = Tensor(x.copy(), requires_grad=True)
        z, idx = F.max_pool2d(t, return_indices=True, **kw)
        tx = _t(x).requires_grad_()
        tz, tidx = TF.max_pool2d(tx, return_indices=True, **kw)
        np.testing.assert_array_equal(z.data, tz.detach().numpy())  # NaN positions equal too
        np.testing.assert_array_equal(idx.data, tidx.numpy())
        g = random_grad(z.shape)
        z.backward(g)
        tz.backward(_t(g))
        np.testing.assert_array_equal(t.grad.data, tx.grad.numpy())


def test_a_dilated_window_with_no_tap_inside_gives_minus_infinity_as_torch():
    x = np.ones((1, 1, 2, 2))
    z = F.max_pool2d(Tensor(x), 2, 1, padding=1, dilation=3)
    np.testing.assert_array_equal(z.data, TF.max_pool2d(_t(x), 2, 1, padding=1, dilation=3).numpy())
    assert np.isneginf(z.data).any()


def test_output_sizes_and_divisors_match_torch_on_every_small_geometry():
    """ceil_mode windows hanging off the end, windows crossing the padding, every divisor rule."""
    rng = np.random.default_rng(0)
    for h, k, s, p, ceil in itertools.product((1, 2, 3, 5), range(1, 4), range(1, 4), range(2), (False, True)):
        if p > k // 2:
            continue
        x = rng.standard_normal((1, 1, h, h + 1))
        try:
            expected_max = TF.max_pool2d(_t(x), k, s, p, 1, ceil).numpy()
        except RuntimeError:
            with pytest.raises(ValueError, match="larger than the input"):
                F.max_pool2d(Tensor(x), k, s, p, 1, ceil)
            continue
        np.testing.assert_array_equal(F.max_pool2d(Tensor(x), k, s, p, 1, ceil).data, expected_max)
        for include, override in ((True, None), (False, None), (True, 3)):
            ours = F.avg_pool2d(Tensor(x), k, s, p, ceil, include, override).data
            np.testing.assert_allclose(ours, TF.avg_pool2d(_t(x), k, s, p, ceil, include, override).numpy(),
                                       rtol=1e-14, atol=1e-15)


def test_a_ceil_mode_window_larger_than_the_input_is_one_window_as_torch():
    x = np.arange(3.0).reshape(1, 1, 1, 3)
    for fn, tfn in ((F.max_pool2d, TF.max_pool2d), (F.avg_pool2d, TF.avg_pool2d)):
        np.testing.assert_allclose(fn(Tensor(x), 2, 2, ceil_mode=True).data,
                                   tfn(_t(x), 2, 2, ceil_mode=True).numpy(), rtol=1e-15)


def test_general_kernels_agree_with_the_plain_fast_path():
    x = np.random.default_rng(2).standard_normal((2, 3, 8, 7)).astype(np.float32)
    z_fast, am_fast = K.max_pool2d_forward(x, 2, 3, 2, 2)
    z_gen, am_gen = K.max_pool2d_general_forward(x, 2, 3, 2, 2, 0, 0, 1, 1, *z_fast.shape[2:])
    np.testing.assert_array_equal(z_fast, z_gen)
    np.testing.assert_array_equal(am_fast, am_gen)
    s_fast = K.window_sum_forward(x, 2, 3, 2, 2)
    np.testing.assert_allclose(K.avg_pool2d_general_forward(x, 2, 3, 2, 2, 0, 0, *s_fast.shape[2:], True, 1),
                               s_fast, rtol=1e-6)
    ds = np.random.default_rng(3).standard_normal(s_fast.shape).astype(np.float32)
    np.testing.assert_allclose(K.avg_pool2d_general_backward(ds, 8, 7, 2, 3, 2, 2, 0, 0, True, 1),
                               K.window_sum_backward(ds, 8, 7, 2, 3, 2, 2), rtol=1e-6)


def test_avg_pool2d_float32_general_geometry_matches_torch():
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8)).astype(np.float32)
    t = Tensor(x, requires_grad=True)
    z = F.avg_pool2d(t, 3, 2, 1, True, False)
    tx = _t(x).requires_grad_()
    tz = TF.avg_pool2d(tx, 3, 2, 1, True, False)
    np.testing.assert_allclose(z.data, tz.detach().numpy(), rtol=1e-6, atol=1e-7)
    g = random_grad(z.shape, np.float32)
    z.backward(g)
    tz.backward(_t(g))
    np.testing.assert_allclose(t.grad.data, tx.grad.numpy(), rtol=1e-6, atol=1e-7)


@FEW
@given(st.data())
def test_unpooling_what_max_pooling_returned_matches_torch(data):
    (x,), p = pool_geometry_inputs(data.draw, None)
    p.pop("ceil_mode")
    if p.pop("dilation") != (1, 1):
        return
    stride = p["stride"] or p["kernel_size"]
    if any(s < k for s, k in zip(stride, p["kernel_size"])):
        return  # overlapping windows may share a maximum: unpooling then keeps one of them
    z, idx = F.max_pool2d(Tensor(x), return_indices=True, **p)
    size = x.shape[2:]
    t = Tensor(z.data.copy(), requires_grad=True)
    y = F.max_unpool2d(t, idx, output_size=size, **p)
    tz = _t(z.data).requires_grad_()
    ty = TF.max_unpool2d(tz, _t(idx.data), output_size=size, **p)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    g = random_grad(y.shape)
    y.backward(g)
    ty.backward(_t(g))
    np.testing.assert_array_equal(t.grad.data, tz.grad.numpy())
    assert gradcheck(lambda v: F.max_unpool2d(v, idx, output_size=size, **p), [Tensor(z.data.copy(), requires_grad=True)])


def test_adaptive_max_pool2d_indices_and_adaptive_avg_float32_match_torch():
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 10)).astype(np.float32)
    for size in (3, (None, 4), (5, 1), (7, 10), (9, 12)):
        z, idx = F.adaptive_max_pool2d(Tensor(x), size, return_indices=True)
        tz, tidx = TF.adaptive_max_pool2d(_t(x), size, return_indices=True)
        np.testing.assert_array_equal(z.data, tz.numpy())
        np.testing.assert_array_equal(idx.data, tidx.numpy())
        np.testing.assert_allclose(F.adaptive_avg_pool2d(Tensor(x), size).data,
                                   TF.adaptive_avg_pool2d(_t(x), size).numpy(), rtol=1e-6)
    assert F.adaptive_avg_pool2d(Tensor(x[0]), (2, None)).shape == (3, 2, 10)  # unbatched


def test_layers_take_torch_arguments_and_match_the_functions():
    x = Tensor(np.random.default_rng(6).standard_normal((2, 3, 9, 9)))
    pool = nn.MaxPool2d(3, 2, padding=1, dilation=1, return_indices=True, ceil_mode=True)
    z, idx = pool(x)
    assert np.array_equal(z.data, F.max_pool2d(x, 3, 2, 1, 1, True).data)
    assert repr(pool) == "MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, return_indices=True)"
    unpool = nn.MaxUnpool2d(3, 2, padding=1)
    assert unpool(z, idx, output_size=(9, 9)).shape == (2, 3, 9, 9)
    assert "padding=(1, 1)" in repr(unpool)
    avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=None)
    assert np.array_equal(avg(x).data, F.avg_pool2d(x, 3, 2, 1, True, False).data)
    assert "count_include_pad=False" in repr(avg)
    lecture = nn.AvgPool2d(2, padding=1, channels=3).double()
    assert lecture(x).shape == (2, 3, 5, 5) and "channels=3" in repr(lecture)
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (2, 3, 9, 2)
    assert repr(nn.AdaptiveMaxPool2d(4)) == "AdaptiveMaxPool2d(output_size=4)"
    z2, idx2 = nn.AdaptiveMaxPool2d(4, return_indices=True)(x)
    assert z2.shape == idx2.shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match="padding"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(TypeError, match="output_size"):
        nn.AdaptiveAvgPool2d(2.0)
