"""What a user changes after a call or a constructor cannot reach a kernel unchecked.

A layer's attributes and weights can be replaced at any time (PyTorch reads them at every
call), and arrays passed to an op can be changed before its backward runs.  Each used to
reach a compiled kernel unchecked: a stale connection table indexed past the output, changed
unpooling indices read past dY.  The cases that could crash run in a fresh interpreter and
must end cleanly; the rest check the numbers here.
"""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.data import random_affine

from test_hardening_engine import assert_clean_error, run_fresh

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional oracle
    torch = None

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# --------------------------------------------------------------- fresh-process cases
def test_unpool_indices_changed_after_forward_do_not_reach_the_backward():
    proc = run_fresh("""
        x = Tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2), requires_grad=True)
        idx = np.array([[[[0, 3], [8, 15]]]], dtype=np.int64)
        y = F.max_unpool2d(x, idx, 2)
        idx += 1_000_000                       # the caller's array, after the forward pass
        dy = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        y.backward(dy)
        print(x.grad.data.ravel().tolist())
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[0.0, 3.0, 8.0, 15.0]"  # dY at the indices given to the forward


def test_conv_layer_with_a_replaced_weight_computes_with_that_weight():
    proc = run_fresh("""
        from tinygrad_cnn import nn
        def same(layer, x):
            out = layer(x)
            ref = F.conv2d(x, layer.weight, layer.bias, layer.stride, layer.padding)
            assert out.shape == ref.shape and np.allclose(out.data, ref.data, atol=1e-5), out.shape
            out.backward(np.ones(out.shape, np.float32))
            return out.shape
        rng = np.random.default_rng(0)
        w = lambda *s: nn.Parameter(rng.standard_normal(s).astype(np.float32))
        a = nn.Conv2d(1, 2, 3); a.weight = w(2, 8, 3, 3)                   # more input maps
        print(same(a, Tensor(rng.standard_normal((1, 8, 9, 9)).astype(np.float32))))
        b = nn.Conv2d(3, 64, 3); b.weight = w(1, 3, 3, 3); b.bias = w(1)  # fewer output maps
        for _ in range(3):
            print(same(b, Tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))))
        c = nn.Conv2d(1, 2, 3); c.weight.data = rng.standard_normal((64, 1, 3, 3)).astype(np.float32)
        c.bias = w(64)                                                     # more output maps
        print(same(c, Tensor(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))))
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[:5] == ["(1, 2, 7, 7)"] + ["(2, 1, 6, 6)"] * 3 + ["(2, 64, 4, 4)"]


@pytest.mark.parametrize("change, message", [
    ("conv.dilation = (-1, -1)", "dilation must be >= 1"),
    ("conv.stride = (0, 0)", "stride must be >= 1"),
    ("conv.padding = -3", "padding must be >= 0"),
    ("conv.connection = np.ones((1, 1), np.uint8); conv.weight = nn.Parameter(np.ones((1, 2, 3, 3), np.float32))",
     r"connection must have shape \(O, C\) = \(1, 2\), got \(1, 1\)"),
])
def test_conv_layer_attributes_changed_after_construction_are_checked(change, message):
    proc = run_fresh(f"""
        from tinygrad_cnn import nn
        conv = nn.Conv2d(1, 1, 3, bias=False)
        {change}
        conv(Tensor(np.ones((1, conv.weight.shape[1], 6, 6), np.float32)))
    """)
    assert_clean_error(proc, "ValueError", message)


def test_a_connection_table_that_does_not_fit_the_call_is_refused():
    proc = run_fresh("""
        F.conv2d_normalised(Tensor(np.ones((1, 8, 9, 9), np.float32)), Tensor(np.ones((2, 8, 3, 3), np.float32)),
                            None, (1, 1), (0, 0, 0, 0), np.ones((1, 1), np.uint8))
    """)
    assert_clean_error(proc, "ValueError", r"connection matrix must be a uint8 \(O, C\) = \(2, 8\)")


# --------------------------------------------------------------- layer attributes take effect
def test_conv_layer_reads_padding_groups_and_connection_at_every_call():
    x = Tensor(randn(2, 4, 7, 7))
    conv = nn.Conv2d(4, 4, 3, groups=2)
    conv.padding = 2
    assert conv(x).shape == (2, 4, 9, 9)
    np.testing.assert_allclose(conv(x).data, F.conv2d(x, conv.weight, conv.bias, padding=2, groups=2).data, atol=1e-5)
    conv.groups = 1
    conv.weight = nn.Parameter(randn(4, 4, 3, 3))
    np.testing.assert_allclose(conv(x).data, F.conv2d(x, conv.weight, conv.bias, padding=2).data, atol=1e-5)
    table = np.eye(4, dtype=np.uint8)
    conv.connection = table
    np.testing.assert_allclose(conv(x).data, F.conv2d(x, conv.weight, conv.bias, padding=2, connection=table).data,
                               atol=1e-5)


# --------------------------------------------------------------- arrays kept for the backward
def test_changing_a_connection_table_after_forward_leaves_the_gradient_alone():
    table = np.ones((3, 2), np.uint8)
    table[0, 1] = 0
    x = Tensor(randn(2, 2, 6, 6), requires_grad=True)
    w = Tensor(randn(3, 2, 3, 3), requires_grad=True)
    dy = randn(2, 3, 4, 4)
    F.conv2d(x, w, connection=table).backward(dy)
    expected = w.grad.data.copy(), x.grad.data.copy()
    x.grad = w.grad = None
    y = F.conv2d(x, w, connection=table)
    table[:] = 0
    y.backward(dy)
    np.testing.assert_array_equal(w.grad.data, expected[0])
    np.testing.assert_array_equal(x.grad.data, expected[1])


def test_conv_layer_leaves_the_callers_connection_array_writeable():
    table = np.ones((4, 2), np.uint8)
    conv = nn.Conv2d(2, 4, 3, connection=table)
    assert table.flags.writeable
    table[:] = 0  # the layer keeps its own table
    assert conv.connection.sum() == 8


def test_changing_class_targets_after_forward_leaves_the_gradient_alone():
    logits = Tensor(randn(5, 4), requires_grad=True)
    target = np.array([0, 1, 2, 3, 0], dtype=np.int64)
    F.cross_entropy(logits, target).backward()
    expected = logits.grad.data.copy()
    logits.grad = None
    loss = F.cross_entropy(logits, target)
    target[:] = 3
    loss.backward()
    np.testing.assert_array_equal(logits.grad.data, expected)


def test_max_pool_indices_returned_to_the_caller_are_not_the_backwards():
    x = Tensor(randn(1, 2, 6, 6), requires_grad=True)
    dy = randn(1, 2, 3, 3)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    y.backward(dy)
    expected = x.grad.data.copy()
    x.grad = None
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    idx.data[...] = 0
    y.backward(dy)
    np.testing.assert_array_equal(x.grad.data, expected)


# --------------------------------------------------------------- arguments the kernels cannot take
@pytest.mark.parametrize("call", [
    lambda x: F.max_pool2d(x, 1, padding=0),
    lambda x: F.avg_pool2d(x, 1),
    lambda x: F.adaptive_avg_pool2d(x, 1),
    lambda x: F.adaptive_max_pool2d(x, 1),
])
@pytest.mark.parametrize("shape", [(1, 1, 0, 4), (1, 1, 4, 0), (1, 0, 4, 4)])
def test_pooling_refuses_empty_maps(call, shape):
    with pytest.raises(ValueError, match="at least one channel, row and column"):
        call(Tensor(np.ones(shape, np.float32)))


def test_pooling_of_an_empty_batch_is_empty():
    assert F.max_pool2d(Tensor(np.ones((0, 1, 4, 4), np.float32)), 2).shape == (0, 1, 2, 2)


def test_avg_pool_divisor_override_must_fit_an_int64():
    x = Tensor(np.ones((1, 1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=10 ** 30)
    assert F.avg_pool2d(x, 2, divisor_override=2 ** 62).item() == pytest.approx(4 / 2 ** 62)


def test_random_affine_takes_real_images_of_any_width_and_refuses_the_rest():
    aug = random_affine(10, 0.1, 2)
    x32 = rng.random((3, 1, 8, 8)).astype(np.float32)
    for dtype in (np.float16, np.dtype(">f4"), np.dtype(">f8"), np.uint8):
        out = aug(x32.astype(dtype), np.random.default_rng(1))
        assert out.dtype == np.dtype(dtype) and out.shape == x32.shape
    # float16 is resampled in float32: the same numbers, rounded once to float16
    half = x32.astype(np.float16)
    np.testing.assert_array_equal(aug(half, np.random.default_rng(1)),
                                  aug(half.astype(np.float32), np.random.default_rng(1)).astype(np.float16))
    for dtype in (np.complex64, object, np.bool_):
        with pytest.raises(TypeError, match="random_affine: images must be real numbers"):
            aug(np.ones((2, 1, 4, 4), dtype=dtype), np.random.default_rng(0))
    with pytest.raises(ValueError, match="max_rotation"):
        random_affine(1e308)
    with pytest.raises(ValueError, match="max_shift"):
        random_affine(10, 0.1, 1e308)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
def test_cross_entropy_ignores_the_weight_of_a_class_no_target_has():
    z = randn(4, 3)
    target = np.array([0, 1, 0, 1])
    weight = np.array([1.0, 2.0, np.nan], np.float32)
    x = Tensor(z, requires_grad=True)
    F.cross_entropy(x, target, weight=Tensor(weight)).backward()
    xt = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(xt, torch.tensor(target), weight=torch.tensor(weight)).backward()
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------- Tensor.repeat
@pytest.mark.parametrize("shape, sizes", [((2, 3), (2, 3)), ((3,), (2, 2, 1)), ((2, 1, 3), (1, 4, 2)),
                                          ((2, 3), (0, 1)), ((), (3,))])
def test_repeat_tiles_and_sums_the_copies_gradients(shape, sizes):
    z = rng.standard_normal(shape)
    x = Tensor(z, requires_grad=True)
    y = x.repeat(*sizes)
    np.testing.assert_array_equal(y.data, np.tile(z, sizes))
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    # each element's gradient: the sum of dY over its copies
    lead = len(sizes) - len(shape)
    full = tuple(sizes[:lead]) + tuple(d for pair in zip(sizes[lead:], shape) for d in pair)
    expected = dy.reshape(full).sum(axis=tuple(range(lead)) + tuple(lead + 2 * i for i in range(len(shape))))
    np.testing.assert_allclose(x.grad.data, expected.reshape(shape))
    if torch is not None:
        xt = torch.tensor(z, requires_grad=True)
        xt.repeat(*sizes).backward(torch.tensor(dy))
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy())
    with pytest.raises(ValueError, match="fewer dimensions"):
        tc.ones(2, 3).repeat(2)


# --------------------------------------------------------------- second round: layers and saved values
def test_subsampling_needs_its_weight_and_has_no_padding():
    s = nn.Subsampling(1)
    x = Tensor(np.ones((1, 1, 8, 8), np.float32))
    s.weight = None
    with pytest.raises(TypeError, match="a bias needs a weight"):
        s(x)
    s = nn.Subsampling(1)
    s.padding = (1, 1)
    with pytest.raises(ValueError, match="Subsampling has no padding"):
        s(x)


def test_random_affine_checks_what_an_rng_of_ones_own_draws():
    class OneDraw:
        def uniform(self, low, high, size):
            return np.array([(low + high) / 2])  # one value, not one per image

    with pytest.raises(ValueError, match="one per image"):
        random_affine(10, 0.1, 2)(np.ones((20, 1, 4, 4), np.float32), OneDraw())


def test_conv_layer_sees_list_attributes_changed_in_place():
    conv = nn.Conv2d(1, 1, 3)
    x = Tensor(np.ones((1, 1, 8, 8), np.float32))
    conv.stride = [1, 1]
    assert conv(x).shape == (1, 1, 6, 6)
    conv.stride[0] = 2
    assert conv(x).shape == (1, 1, 3, 6)
    table = np.ones((2, 2), np.uint8)
    two = nn.Conv2d(2, 2, 3, bias=False)
    two.connection = table
    x2 = Tensor(randn(1, 2, 5, 5))
    two(x2)
    table[0, 1] = 0  # the user's own array, changed in place
    np.testing.assert_allclose(two(x2).data, F.conv2d(x2, two.weight, connection=table).data, atol=1e-6)


def _grads_after(make, change):
    """x.grad of make(x) with a random upstream gradient, with ``change`` run between forward and backward."""
    x = Tensor(np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    y, handle = make(x)
    dy = np.random.default_rng(5).standard_normal(y.shape).astype(np.float32)
    change(handle)
    y.backward(dy)
    return x.grad.data


@pytest.mark.parametrize("make", [
    lambda x: x.max(1),                                        # (values, indices)
    lambda x: (lambda i: (x[i], i))(Tensor(np.array([0, 2]))),  # integer-array indexing
    lambda x: (lambda c: (tc.where(c, x, x * 2), c))(Tensor(np.array([[True, False, True]] * 4))),
], ids=["max indices", "index array", "where condition"])
def test_arrays_changed_after_forward_leave_the_gradient_alone(make):
    def fill(t):
        with tc.no_grad():
            t.fill_(0)

    np.testing.assert_array_equal(_grads_after(make, fill), _grads_after(make, lambda t: None))


def test_load_state_dict_before_backward_is_noticed():
    for conv in (nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3, groups=2)):
        x = Tensor(randn(1, conv.weight.shape[1] * conv.groups, 6, 6), requires_grad=True)
        y = conv(x)
        conv.load_state_dict({k: np.zeros_like(v.data) for k, v in conv.state_dict().items()})
        with pytest.raises(RuntimeError, match="modified by an in"):
            y.backward(np.ones(y.shape, np.float32))
    grouped = nn.Conv2d(2, 2, 3, groups=2)
    y = grouped(Tensor(randn(1, 2, 6, 6), requires_grad=True))
    with tc.no_grad():
        grouped.weight.zero_()
    with pytest.raises(RuntimeError, match="modified by an in"):
        y.backward(np.ones(y.shape, np.float32))
