"""Argument forms and edge cases that PyTorch's own operator samples exercise (see
``tests/torch_samples.py``): tensor bounds for clamp, ``flip(dims=...)``, any real
``correction``, ``norm(p=0)``, one-element and empty geometry tuples in pooling, and
PyTorch's legacy rule for empty 1-D tensors in ``cat``.  Each against PyTorch where it is
importable, each new backward by float64 gradcheck with a random upstream gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck
from helpers import assert_close, leaf, random_grad

try:
    import torch
except ImportError:  # the PyTorch comparisons are skipped, everything else runs
    torch = None

FEW = settings(max_examples=15, deadline=None)


def _bounds_case(draw):
    """An input shape and two bound shapes that broadcast with it (a bound may be missing)."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    def bound():
        kind = draw(st.sampled_from(["none", "same", "row", "ones"]))
        if kind == "none":
            return None
        if kind == "same":
            return shape
        if kind == "row":
            return shape[1:]
        return (1,) * len(shape)
    return shape, bound(), bound()


@FEW
@given(st.data())
def test_clamp_with_tensor_bounds_against_torch_and_gradcheck(data):
    shape, lo_shape, hi_shape = _bounds_case(data.draw)
    if lo_shape is None and hi_shape is None:
        lo_shape = shape
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.uniform(-2, 2, shape)
    lo = None if lo_shape is None else rng.uniform(-1.5, 0.5, lo_shape)
    hi = None if hi_shape is None else rng.uniform(-0.5, 1.5, hi_shape)
    arrays = [a for a in (x, lo, hi) if a is not None]

    def ours(*ts):
        it = iter(ts[1:])
        return ts[0].clamp(None if lo is None else next(it), None if hi is None else next(it))

    # away from the kinks (|x - bound| > eps) the central differences are exact enough
    assert gradcheck(ours, [leaf(a) for a in arrays], seed=3)
    if torch is None:
        return
    ts_ = [leaf(a) for a in arrays]
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    it = iter(xs[1:])
    tout = torch.clamp(xs[0], None if lo is None else next(it), None if hi is None else next(it))
    out = ours(*ts_)
    assert_close(out.data, tout.detach().numpy(), rtol=0, atol=0)
    g = random_grad(out.shape, seed=2)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    for t, xt in zip(ts_, xs):
        assert_close(t.grad.data, xt.grad.numpy(), rtol=1e-12)


def test_clamp_bounds_crossed_and_integer_bounds_like_torch():
    x = leaf(np.array([-2.0, 0.0, 2.0]))
    lo, hi = leaf(np.array([1.0, 1.0, 1.0])), leaf(np.array([-1.0, -1.0, -1.0]))
    out = x.clamp(lo, hi)  # low > high: every element is high, which receives the whole gradient
    assert_close(out.data, [-1.0, -1.0, -1.0], rtol=0)
    out.backward(np.array([1.0, 2.0, 3.0]))
    assert_close(x.grad.data, [0, 0, 0], rtol=0)
    assert_close(lo.grad.data, [0, 0, 0], rtol=0)
    assert_close(hi.grad.data, [1, 2, 3], rtol=0)
    y = Tensor(np.array([0.5, 3.0], np.float32)).clamp(max=Tensor(np.array([1, 1], np.int32)))
    assert y.dtype == np.float32 and y.tolist() == [0.5, 1.0]  # PyTorch: float32, not numpy's float64
    with pytest.raises(ValueError, match="clamp: input, min and max shapes"):
        Tensor(np.zeros((2, 3))).clamp(Tensor(np.zeros(3)), Tensor(np.zeros(2)))


def test_flip_takes_dims_as_keyword_or_positional():
    a = np.arange(24.0).reshape(2, 3, 4)
    for call, axes in ((lambda t: t.flip(dims=[0, 2]), (0, 2)), (lambda t: t.flip(0, 2), (0, 2)),
                       (lambda t: tg.flip(t, dims=(-1,)), (2,)), (lambda t: t.flip(dims=()), ())):
        assert np.array_equal(call(Tensor(a)).data, np.flip(a, axes))
    with pytest.raises(TypeError, match="not both"):
        Tensor(a).flip(0, dims=[1])
    with pytest.raises(TypeError, match="missing"):
        Tensor(a).flip()


@pytest.mark.parametrize("correction", [-1, -5, 0.5, 3])
def test_var_std_accept_any_real_correction(correction):
    a = np.random.default_rng(0).standard_normal((4, 5))
    n = a.size
    expected = ((a - a.mean()) ** 2).sum() / (n - correction)
    assert_close(Tensor(a).var(correction=correction).item(), expected, rtol=1e-12)
    assert_close(Tensor(a).std(correction=correction).item(), np.sqrt(expected), rtol=1e-12)
    assert gradcheck(lambda t: t.var(1, correction=correction), [leaf(a)])


def test_norm_zero_counts_non_zero_elements_with_zero_gradient():
    a = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    x = leaf(a)
    assert x.norm(0).item() == 3.0
    assert x.norm(0, 1).tolist() == [2.0, 1.0]
    out = x.norm(0, 1, keepdim=True) + x.sum()  # a graph through norm(0) gives zeros, not an error
    out.backward(np.ones((2, 1)))
    assert_close(x.grad.data, np.full((2, 3), 2.0), rtol=0)  # only sum's: the two upstream ones
    with pytest.raises(ValueError, match="norm: p"):
        x.norm(-1)


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("kwargs", [dict(padding=(1,)), dict(stride=()), dict(stride=(2,), padding=[1]),
                                    dict(kernel_size=(3,))])
def test_pooling_takes_one_element_and_empty_tuples_like_torch(kwargs):
    a = np.random.default_rng(1).standard_normal((2, 3, 7, 7))
    args = dict(kernel_size=3) | kwargs
    for ours, theirs in ((F.avg_pool2d, torch.nn.functional.avg_pool2d),
                         (F.max_pool2d, torch.nn.functional.max_pool2d)):
        assert_close(ours(Tensor(a), **args).data, theirs(torch.tensor(a), **args).numpy(), rtol=1e-12)


def test_pair_still_refuses_longer_and_non_int_sequences():
    for bad in ((1, 2, 3), (1.5,), ("a",)):
        with pytest.raises(TypeError, match="padding must be an int or a pair"):
            F.avg_pool2d(Tensor(np.zeros((1, 1, 4, 4))), 2, padding=bad)


def test_cat_leaves_out_empty_1d_tensors_like_torch():
    a, e = leaf(np.ones((2, 3))), leaf(np.zeros(0))
    out = tg.cat([e, a, e], dim=1)
    assert out.shape == (2, 3)
    out.backward(random_grad((2, 3)))
    assert a.grad is not None
    # only when some other tensor has more dimensions: empty 1-D tensors still join each other
    assert tg.cat([Tensor(np.zeros(0)), Tensor(np.ones(2))]).shape == (2,)
    if torch is not None:
        assert tuple(torch.cat([torch.zeros(0), torch.ones(2, 3)], dim=1).shape) == (2, 3)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("correction", [3, 4, 5, 6])  # N = 4: below, at and past the count
def test_var_std_gradient_past_the_count_follows_pytorch(op, correction):
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(correction).standard_normal((3, 4))
    dy = np.random.default_rng(9).standard_normal(3)
    x = Tensor(z, requires_grad=True)
    getattr(x, op)(1, correction=correction).backward(dy)
    xt = torch.tensor(z, requires_grad=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch warns about the degrees of freedom
        getattr(xt, op)(1, correction=correction).backward(torch.tensor(dy))
    ours, theirs = x.grad.data, xt.grad.numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
    assert np.array_equal(np.signbit(ours), np.signbit(theirs))
