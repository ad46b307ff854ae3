"""The PyTorch-shaped Tensor surface: every method and package function against PyTorch on
hypothesis-drawn shapes (0-d, empty and non-contiguous included), every new differentiable op by
float64 gradcheck with a random upstream gradient, the naive references, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck
from tinygrad_cnn.ops import pointwise as P
from tinygrad_cnn.ops import reduce_extra as X
from tinygrad_cnn.ops import shape as S
from helpers import arrays, assert_close, leaf, random_grad, shapes

try:
    import torch
except ImportError:  # the PyTorch comparisons are skipped, everything else runs
    torch = None


def against_torch(ours, theirs, *arrs, grads=True):
    """Forward values and shapes, then the gradient of a random upstream gradient, against PyTorch."""
    if torch is None:
        return
    ts = [leaf(a) for a in arrs]
    xs = [torch.tensor(np.array(a, order="C"), requires_grad=True) for a in arrs]
    out, tout = ours(*ts), theirs(*xs)
    assert out.shape == tuple(tout.shape)
    assert_close(out.data, tout.detach().numpy(), rtol=1e-12)
    if not grads:
        return
    g = random_grad(out.shape, seed=1)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    for t, x in zip(ts, xs):
        expected = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        assert_close(np.zeros(t.shape) if t.grad is None else t.grad, expected, rtol=1e-12)


def tied(a):
    """Rounded to a few values so that ties, zeros and clamp bounds are hit."""
    return np.asarray(np.round(a))


# --------------------------------------------------------------- shape methods
@st.composite
def shape_call(draw):
    """(name, our call, torch call) for one shape method with arguments drawn for ``shape``."""
    shape = draw(shapes(min_dims=0, max_dims=4, min_side=draw(st.sampled_from([0, 1])), max_side=3))
    nd = len(shape)
    dim = st.integers(-max(nd, 1), max(nd, 1) - 1)
    kind = draw(st.sampled_from(["permute", "transpose", "unsqueeze", "squeeze", "flatten", "expand",
                                 "flip", "view", "clone", "contiguous", "t"]))
    if kind == "permute":
        p = tuple(draw(st.permutations(range(nd))))
        return shape, kind, (lambda t: t.permute(*p) if p else t.permute(p)), (lambda x: x.permute(p))
    if kind == "transpose":
        d0, d1 = draw(dim), draw(dim)
        return shape, kind, (lambda t: t.transpose(d0, d1)), (lambda x: x.transpose(d0, d1))
    if kind == "unsqueeze":
        d = draw(st.integers(-nd - 1, nd))
        return shape, kind, (lambda t: t.unsqueeze(d)), (lambda x: x.unsqueeze(d))
    if kind == "squeeze":
        d = draw(st.one_of(st.none(), dim))
        if d is None:
            return shape, kind, (lambda t: t.squeeze()), (lambda x: x.squeeze())
        return shape, kind, (lambda t: t.squeeze(d)), (lambda x: x.squeeze(d))
    if kind == "flatten":
        s, e = sorted((draw(dim) % max(nd, 1), draw(dim) % max(nd, 1)))
        return shape, kind, (lambda t: t.flatten(s, e)), (lambda x: x.flatten(s, e))
    if kind == "expand":
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        sizes = lead + tuple(draw(st.sampled_from([-1, 2])) if n == 1 else draw(st.sampled_from([-1, n])) for n in shape)
        return shape, kind, (lambda t: t.expand(*sizes)), (lambda x: x.expand(sizes))
    if kind == "flip":
        dims = tuple(draw(st.lists(st.integers(0, max(nd - 1, 0)), unique=True, max_size=nd)))
        return shape, kind, (lambda t: t.flip(dims)), (lambda x: x.flip(dims))
    if kind == "view":
        new = (-1,) + shape[1:] if nd and all(shape) else shape[::-1]  # -1 is ambiguous with 0 elements
        return shape, kind, (lambda t: t.view(*new)), (lambda x: x.reshape(new))
    if kind == "t" and nd <= 2:
        return shape, kind, (lambda t: t.t()), (lambda x: x.t())
    return shape, kind, (lambda t: t.clone()), (lambda x: x.clone())


@given(shape_call(), st.data())
def test_shape_methods_against_torch_and_gradcheck(call, data):
    shape, _, ours, theirs = call
    a = data.draw(arrays(shape))
    against_torch(ours, theirs, a)
    assert gradcheck(ours, [leaf(a)])


def test_views_share_data_and_clone_does_not():
    a = np.arange(6.0).reshape(2, 3)
    t = Tensor(a)
    assert np.shares_memory(t.view(3, 2).data, a) and np.shares_memory(t.permute(1, 0).data, a)
    assert np.shares_memory(t.expand(4, 2, 3).data, a)
    c = t.clone()
    assert not np.shares_memory(c.data, a) and c.data.flags.c_contiguous
    nc = Tensor(a.T)
    assert nc.contiguous().data.flags.c_contiguous and t.contiguous() is t


def test_transpose_keeps_numpy_meaning_only_for_permutations():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(a)
    assert t.transpose(0, 1).shape == (3, 2, 4)  # PyTorch: swap two dims
    assert t.transpose().shape == (4, 3, 2)  # numpy: reverse all
    assert_close(t.transpose((2, 0, 1)).data, a.transpose(2, 0, 1), rtol=0)  # numpy: a permutation
    assert_close(t.transpose(2, 0, 1).data, a.transpose(2, 0, 1), rtol=0)
    m = Tensor(a[0])
    assert_close(m.transpose(0, 1).data, a[0].T, rtol=0)  # on a matrix both meanings agree with .T
    assert Tensor(np.float64(2.0)).transpose(0, -1).shape == ()


# --------------------------------------------------------------- pointwise
@given(shapes(max_dims=3, min_side=0, max_side=4), st.data())
def test_abs_sqrt_clamp(shape, data):
    a = data.draw(arrays(shape))
    lo, hi = data.draw(st.sampled_from([(-1.0, 1.0), (None, 0.5), (-0.5, None), (1.0, -1.0)]))
    cases = [
        (lambda t: t.abs(), lambda x: x.abs()),
        (lambda t: t.clamp(lo, hi), lambda x: x.clamp(lo, hi)),
        (lambda t: t.clamp(min=lo) if lo is not None else t.clamp(max=hi),
         lambda x: x.clamp(min=lo) if lo is not None else x.clamp(max=hi)),
    ]
    for ours, theirs in cases:
        against_torch(ours, theirs, tied(a))  # zeros and values on the bounds: PyTorch's choices
        assert gradcheck(ours, [leaf(a)])
    pos = np.abs(a) + 0.5
    against_torch(lambda t: t.sqrt(), lambda x: x.sqrt(), pos)
    assert gradcheck(lambda t: t.sqrt(), [leaf(pos)])


@st.composite
def broadcast_pair(draw, min_side=1):
    full = draw(shapes(min_dims=0, max_dims=3, min_side=min_side, max_side=3))
    def variant():
        s = full[draw(st.integers(0, len(full))):]
        return tuple(1 if draw(st.booleans()) else n for n in s)
    return variant(), variant()


@given(broadcast_pair(), st.data())
def test_maximum_minimum_split_ties_like_torch(pair, data):
    a, b = data.draw(arrays(pair[0])), data.draw(arrays(pair[1]))
    for name in ("maximum", "minimum"):
        against_torch(lambda s, t: getattr(s, name)(t), lambda x, y: getattr(torch, name)(x, y), tied(a), tied(b))
        against_torch(lambda s, t: getattr(tg, name)(s, t), lambda x, y: getattr(torch, name)(x, y), a, b)
        assert gradcheck(lambda s, t: getattr(s, name)(t), [leaf(a), leaf(b)])
    against_torch(lambda s, t: s.max(t), lambda x, y: x.max(y), tied(a), tied(b))


@given(broadcast_pair(), st.sampled_from(["trunc", "floor"]), st.data())
def test_div_rounding_mode_and_alpha(pair, mode, data):
    a = data.draw(arrays(pair[0], low=-9, high=9))
    b = data.draw(arrays(pair[1], low=0.5, high=3)) * data.draw(st.sampled_from([1, -1]))
    against_torch(lambda s, t: s.div(t, rounding_mode=mode), lambda x, y: x.div(y, rounding_mode=mode), a, b)
    assert_close(P.rounded_divide(a, b, mode), P.rounded_divide_reference(a, b, mode), rtol=0)
    ia = np.asarray(np.trunc(a), dtype=np.int64)
    ib = np.asarray(np.where(np.trunc(b) == 0, 1, np.trunc(b)), dtype=np.int64)
    out = Tensor(ia).div(Tensor(ib), rounding_mode=mode)
    assert out.dtype == np.int64
    assert_close(out.data, P.rounded_divide_reference(ia, ib, mode), rtol=0)
    if torch is not None:
        assert_close(out.data, torch.div(torch.from_numpy(ia), torch.from_numpy(ib), rounding_mode=mode).numpy(), rtol=0)
    against_torch(lambda s, t: s.add(t, alpha=2.5), lambda x, y: x.add(y, alpha=2.5), a, b)
    against_torch(lambda s, t: s.sub(t, alpha=-3), lambda x, y: x.sub(y, alpha=-3), a, b)
    assert gradcheck(lambda s, t: s.sub(t, alpha=0.5).mul(t), [leaf(a), leaf(b)])


@given(broadcast_pair(), st.data())
def test_where(pair, data):
    a, b = data.draw(arrays(pair[0])), data.draw(arrays(pair[1]))
    cond = np.asarray(data.draw(arrays(np.broadcast_shapes(pair[0], pair[1])[1:])) > 0)
    against_torch(lambda s, t: tg.where(Tensor(cond), s, t), lambda x, y: torch.where(torch.from_numpy(cond), x, y), a, b)
    assert gradcheck(lambda s, t: tg.where(cond, s, t), [leaf(a), leaf(b)])
    assert_close(tg.where(cond, leaf(a), 0.5).data, np.where(cond, a, 0.5), rtol=0)


# --------------------------------------------------------------- joining
@given(shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), st.integers(1, 3), st.data())
def test_cat_and_stack(shape, n, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrs = []
    for _ in range(n):
        s = list(shape)
        s[d] = data.draw(st.integers(0, 3))
        arrs.append(data.draw(arrays(tuple(s))))
    against_torch(lambda *ts: tg.cat(list(ts), dim=d), lambda *xs: torch.cat(xs, dim=d), *arrs)
    assert gradcheck(lambda *ts: tg.cat(ts, d), [leaf(a) for a in arrs])
    assert_close(tg.cat([Tensor(a) for a in arrs], d).data, S.cat_reference(arrs, d % len(shape)), rtol=0)
    same = [data.draw(arrays(shape)) for _ in range(n)]
    sd = data.draw(st.integers(-len(shape) - 1, len(shape)))
    against_torch(lambda *ts: tg.stack(ts, sd), lambda *xs: torch.stack(xs, sd), *same)
    assert gradcheck(lambda *ts: tg.stack(list(ts), dim=sd), [leaf(a) for a in same])


def test_cat_promotes_dtypes_and_casts_gradients_back():
    a = Tensor(np.ones(2, np.float32), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    out = tg.cat([a, b])
    assert out.dtype == np.float64
    out.backward(np.arange(5.0))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert_close(b.grad, [2.0, 3.0, 4.0])


# --------------------------------------------------------------- reductions
@st.composite
def reduce_case(draw, min_side=1):
    shape = draw(shapes(min_dims=0, max_dims=4, min_side=min_side, max_side=4))
    nd = len(shape)
    dims = st.integers(-max(nd, 1), max(nd, 1) - 1)
    dim = draw(st.one_of(st.none(), dims, st.lists(st.integers(0, max(nd - 1, 0)), min_size=1,
                                                   max_size=max(nd, 1), unique=True).map(tuple)))
    return shape, dim, draw(st.booleans())


def _torch_dim(dim, ndim):
    return tuple(range(ndim)) if dim is None else dim


@given(reduce_case(min_side=0), st.data())
@settings(max_examples=40)
def test_sum_mean_var_std_norm(case, data):
    shape, dim, keep = case
    a = data.draw(arrays(shape))
    c = data.draw(st.sampled_from([0, 1, 2]))
    td = _torch_dim(dim, len(shape))
    full = int(np.prod(shape)) if dim is None else None
    nonempty = all(shape) and len(shape) > 0 or shape == ()
    cases = [
        (lambda t: t.sum(dim, keep), lambda x: x.sum(td, keep)),
        (lambda t: t.sum(axis=dim, keepdims=keep), lambda x: x.sum(td, keep)),
        (lambda t: tg.sum(t, dim=dim, keepdim=keep), lambda x: x.sum(td, keep)),
    ]
    if nonempty:
        cases += [
            (lambda t: t.mean(dim, keepdim=keep), lambda x: x.mean(td, keep)),
            (lambda t: t.norm(dim=dim, keepdim=keep), lambda x: torch.linalg.vector_norm(x, 2, td, keep)),
            (lambda t: t.norm(1, dim, keep), lambda x: torch.linalg.vector_norm(x, 1, td, keep)),
            (lambda t: t.norm(3, dim, keep), lambda x: torch.linalg.vector_norm(x, 3, td, keep)),
        ]
        if a.size > c and (full is None or full > c):
            cases += [
                (lambda t: t.var(dim, keepdim=keep, correction=c), lambda x: x.var(td, keepdim=keep, correction=c)),
                (lambda t: t.std(dim=dim, keepdim=keep, correction=c), lambda x: x.std(td, keepdim=keep, correction=c)),
            ]
    for ours, theirs in cases:
        if torch is not None:
            with np.errstate(all="ignore"):
                if np.all(np.isfinite(theirs(torch.from_numpy(np.array(a))).numpy())):
                    against_torch(ours, theirs, a)
        if nonempty:
            with np.errstate(all="ignore"):
                if np.all(np.isfinite(ours(leaf(a)).data)):
                    assert gradcheck(ours, [leaf(a)])


@given(reduce_case(), st.data())
def test_max_min_amax_amin(case, data):
    shape, dim, keep = case
    a = tied(data.draw(arrays(shape)))
    noisy = a + np.random.default_rng(0).uniform(0, 0.1, a.shape)  # no ties: central differences are exact
    td = _torch_dim(dim, len(shape))
    for name in ("max", "min"):
        amax = "amax" if name == "max" else "amin"
        against_torch(lambda t: getattr(t, name)(axis=dim, keepdims=keep), lambda x: getattr(x, amax)(td, keep), a)
        against_torch(lambda t: getattr(t, amax)(dim, keep), lambda x: getattr(x, amax)(td, keep), a)
        assert gradcheck(lambda t: getattr(t, amax)(dim, keep), [leaf(noisy)])
        if isinstance(dim, int):
            ours = getattr(leaf(a), name)(dim, keep)
            assert isinstance(ours, tuple) and ours.values is ours[0] and ours.indices.dtype == np.int64
            against_torch(lambda t: getattr(t, name)(dim, keepdim=keep).values,
                          lambda x: getattr(x, name)(dim, keepdim=keep).values, a)
            assert gradcheck(lambda t: getattr(t, name)(dim=dim, keepdim=keep)[0], [leaf(noisy)])
            if torch is not None:
                theirs = getattr(torch.from_numpy(np.array(a)), name)(dim, keep)
                assert_close(ours.indices.data, theirs.indices.numpy(), rtol=0)
                assert_close(getattr(tg, name)(Tensor(a), dim).indices.data,
                             getattr(torch, name)(torch.from_numpy(np.array(a)), dim).indices.numpy(), rtol=0)
            if a.ndim:
                ref = X.arg_extreme_reference(a, dim % a.ndim, name == "max")
                assert_close(X.arg_extreme(a, dim % a.ndim, name == "max"), ref, rtol=0)


@given(reduce_case(), st.data())
def test_argmax_argmin(case, data):
    shape, dim, keep = case
    if isinstance(dim, tuple):
        dim = dim[0] if shape else None
    a = tied(data.draw(arrays(shape)))
    for name in ("argmax", "argmin"):
        ours = getattr(Tensor(a), name)(dim, keep)
        assert ours.dtype == np.int64 and not ours.requires_grad
        if torch is not None:
            theirs = getattr(torch.from_numpy(np.array(a)), name)(dim, keep)
            assert ours.shape == tuple(theirs.shape)
            assert_close(ours.data, theirs.numpy(), rtol=0)


def test_nan_wins_in_max_with_indices_and_references():
    a = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, np.nan]])
    v, i = Tensor(a).max(1)
    assert_close(i.data, [1, 2], rtol=0) and np.all(np.isnan(v.data))
    assert_close(X.arg_extreme_reference(a, 1, True)[:, 0], [1, 2], rtol=0)
    assert_close(X.var_reference(a[:, :1].T, 1, 0), [(0.5 * 0.5 + 0.5 * 0.5) / 2], rtol=1e-12)


@given(shapes(min_dims=1, max_dims=3, max_side=4), st.data())
def test_var_naive_reference(shape, data):
    a = data.draw(arrays(shape))
    d = data.draw(st.integers(0, len(shape) - 1))
    c = data.draw(st.sampled_from([0, 1]))
    with np.errstate(all="ignore"):
        assert_close(Tensor(a).var(d, correction=c).data, X.var_reference(a, d, c), rtol=1e-12)


def test_reductions_of_zero_d_tensors_like_torch():
    t = Tensor(np.array(1.5), requires_grad=True)
    for ax in (0, -1):
        assert t.max(axis=ax).item() == 1.5 and t.sum(axis=ax).shape == () and t.mean(ax).item() == 1.5
        assert t.min(dim=ax).values.item() == 1.5 and t.max(ax).indices.item() == 0
        assert t.argmax(ax).item() == 0 and t.softmax(ax).item() == 1.0
    t.max(0).values.backward()
    assert t.grad == 1.0
    assert np.isnan(Tensor(np.array(1.5)).std().item())  # one element, correction 1: nan, as PyTorch


def test_softmax_dim_empty_and_zero_d():
    assert F.softmax(Tensor(np.zeros((0, 3))), axis=-1).shape == (0, 3)
    assert F.softmax(Tensor(np.zeros((2, 0))), axis=-1).shape == (2, 0)
    assert F.log_softmax(Tensor(np.zeros((0,))), axis=0).shape == (0,)
    assert F.softmax(Tensor(np.array(0.3)), axis=0).item() == 1.0


@given(shapes(min_dims=0, max_dims=3, max_side=4), st.data())
def test_softmax_log_softmax_methods(shape, data):
    a = data.draw(arrays(shape))
    d = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    for name in ("softmax", "log_softmax"):
        against_torch(lambda t: getattr(t, name)(d), lambda x: getattr(x, name)(d), a)
        against_torch(lambda t: getattr(t, name)(dim=d), lambda x: getattr(torch, name)(x, dim=d), a)
        assert gradcheck(lambda t: getattr(t, name)(axis=d), [leaf(a)])


# --------------------------------------------------------------- conversions, dtypes, device
def test_sizes_and_python_conversions():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3 and t.size().numel() == 6
    assert t.numel() == 6 and t.dim() == 2 and len(t) == 2 and t.shape == (2, 3)
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and Tensor(np.array(2.5)).tolist() == 2.5
    one = Tensor(np.array([[7.5]]))
    assert float(one) == 7.5 and int(one) == 7 and one.item() == 7.5
    assert t.device == "cpu" and t.device == tg.device("cpu") and str(t.device) == "cpu" and not t.is_cuda
    assert not hasattr(t, "__dict__")  # the mixins keep Tensor slotted


def test_to_float_double_long_type():
    t = Tensor(np.array([1.7, -2.2]), requires_grad=True)
    assert t.to("cpu") is t and t.to(tg.device("cpu")) is t and t.double() is t and t.to(tg.float64) is t
    f = t.float()
    assert f.dtype == np.float32 and f.requires_grad
    f.sum().backward()
    assert t.grad.dtype == np.float64
    lng = t.long()
    assert lng.dtype == np.int64 and not lng.requires_grad and lng.tolist() == [1, -2]
    assert t.to("cpu", tg.float32).dtype == np.float32 and t.to(dtype=tg.long).dtype == np.int64
    assert t.to(Tensor(np.zeros(1, np.float32))).dtype == np.float32
    assert t.type() == "tinygrad_cnn.DoubleTensor" and t.type("torch.FloatTensor").dtype == np.float32
    assert t.type(tg.int64).dtype == np.int64 and t.bool().dtype == np.bool_ and t.int().dtype == np.int32
    assert t.to(tg.float64, copy=True) is not t


def test_comparison_methods_and_requires_grad_():
    a = np.array([1.0, 2.0, 3.0])
    t = Tensor(a)
    for name, ref in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                      ("gt", np.greater), ("ge", np.greater_equal)):
        assert_close(getattr(t, name)(2.0).data, ref(a, 2.0), rtol=0)
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad


def test_factories_infer_dtypes_like_torch():
    pairs = [
        (tg.tensor([1, 2]), [1, 2], "int64"), (tg.tensor([1.0, 2]), [1.0, 2.0], "float32"),
        (tg.tensor(True), True, "bool"), (tg.tensor(3), 3, "int64"), (tg.full((2,), 3), [3, 3], "int64"),
        (tg.full((2,), 0.5), [0.5, 0.5], "float32"), (tg.arange(3), [0, 1, 2], "int64"),
        (tg.arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], "float32"), (tg.zeros(2, 3), np.zeros((2, 3)), "float32"),
        (tg.ones((2,), dtype=tg.int64), [1, 1], "int64"), (tg.linspace(0, 1, 5), np.linspace(0, 1, 5), "float32"),
    ]
    for t, values, dtype in pairs:
        assert str(t.dtype) == dtype
        assert_close(t.data, np.asarray(values, dtype=np.float64), rtol=0)
    x = tg.tensor(np.arange(3.0), requires_grad=True)
    assert x.dtype == np.float64 and x.requires_grad
    assert tg.zeros_like(x).dtype == np.float64 and tg.ones_like(x, dtype=tg.float32).dtype == np.float32
    assert tg.full_like(x, 2.0).tolist() == [2.0, 2.0, 2.0] and tg.randn_like(x).shape == (3,)
    arr = np.zeros(3)
    shared = tg.from_numpy(arr)
    arr[0] = 5.0
    assert shared.data[0] == 5.0 and tg.as_tensor(shared) is shared
    assert tg.is_tensor(shared) and not tg.is_tensor(arr) and tg.numel(shared) == 3
    assert tg.tensor(shared).data is not shared.data
    if torch is not None:
        for data in ([1, 2], [[1.5, 2]], 3, 2.5, [True, False]):
            assert str(tg.tensor(data).dtype) == str(torch.tensor(data).dtype).replace("torch.", "")


def test_default_dtype_reaches_lists_scalars_and_factories():
    assert tg.get_default_dtype() == tg.float32
    try:
        tg.set_default_dtype(tg.float64)
        assert Tensor([1, 2]).dtype == np.float64 and tg.zeros(2).dtype == np.float64
        assert tg.tensor(1.5).dtype == np.float64 and tg.randn(2).dtype == np.float64
        assert tg.arange(0.0, 1.0, 0.5).dtype == np.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert Tensor([1, 2]).dtype == np.float32


def test_manual_seed_makes_every_draw_repeatable():
    def draws():
        return (tg.randn(2, 3).data, tg.rand(4).data, tg.randint(0, 10, (5,)).data, tg.randint(3, size=(2,)).data,
                tg.randperm(6).data, Tensor.randn(3).data)

    tg.manual_seed(7)
    first = draws()
    tg.manual_seed(7)
    again = draws()
    for x, y in zip(first, again):
        assert np.array_equal(x, y)
    assert not np.array_equal(first[0], draws()[0])
    assert np.array_equal(Tensor.randn(3, seed=1).data, Tensor.randn(3, seed=1).data)  # an explicit seed still works
    r = tg.randint(-2, 3, (200,))
    assert r.dtype == np.int64 and r.data.min() >= -2 and r.data.max() <= 2
    u = tg.rand(200)
    assert u.dtype == np.float32 and 0 <= u.data.min() and u.data.max() < 1
    assert sorted(tg.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_package_functions_forward_to_methods():
    a = np.arange(6.0).reshape(2, 3)
    t = Tensor(a)
    assert tg.sum(t, dim=1).tolist() == [3.0, 12.0] and tg.transpose(t, 0, 1).shape == (3, 2)
    assert tg.flatten(Tensor(np.zeros((2, 3, 4))), 1).shape == (2, 12) and tg.exp(t).shape == (2, 3)
    v, i = tg.max(t, dim=1)
    assert v.tolist() == [2.0, 5.0] and i.tolist() == [2, 2] and tg.max(t).item() == 5.0
    assert tg.allclose(t, a) and tg.equal(t, a) and not tg.equal(t, a[:1])
    assert not tg.cuda.is_available() and tg.long == np.int64 and tg.float == np.float32
    star = {}
    exec("from tinygrad_cnn import *", star)  # noqa: S102 - the builtins must survive a star import
    assert "tensor" in star and not {"sum", "max", "min", "abs", "pow", "float", "int", "bool"} & set(star)


# --------------------------------------------------------------- bad input
BAD = [
    (TypeError, "dim", lambda t: t.size("a")),
    (ValueError, "0-d", lambda t: Tensor(np.array(1.0)).size(0)),
    (TypeError, "shape", lambda t: t.view(2, "x")),
    (ValueError, "one size may be -1", lambda t: t.view(-1, -1)),
    (ValueError, r"\(6, 4\).*\(2, 3\)", lambda t: t.view(6, 4)),
    (ValueError, "permutation", lambda t: t.permute(0, 0)),
    (ValueError, "dim1 5", lambda t: t.transpose(0, 5)),
    (ValueError, "dim 3", lambda t: t.unsqueeze(3)),
    (ValueError, "dim 4", lambda t: t.squeeze(4)),
    (ValueError, "start_dim", lambda t: t.flatten(1, 0)),
    (ValueError, r"size 3 .*\(2, 3\)", lambda t: t.expand(2, 4)),
    (ValueError, "twice", lambda t: t.flip((0, 0))),
    (ValueError, "min and max", lambda t: t.clamp()),
    (TypeError, "min", lambda t: t.clamp(min="a")),
    (ValueError, "rounding_mode", lambda t: t.div(2.0, rounding_mode="round")),
    (TypeError, "alpha", lambda t: t.add(t, alpha="x")),
    (TypeError, "dim", lambda t: t.sum(dim=1.5)),
    (ValueError, "axis 3", lambda t: t.mean(axis=3)),
    (TypeError, "not both", lambda t: t.sum(dim=0, axis=0)),
    (TypeError, "keepdim", lambda t: t.sum(0, keepdim="yes")),
    (ValueError, "size 0", lambda t: Tensor(np.zeros((2, 0))).max(1)),
    (ValueError, "empty", lambda t: Tensor(np.zeros(0)).argmax()),
    (TypeError, "dim", lambda t: t.argmax(dim=(0, 1))),
    (TypeError, "var: input", lambda t: Tensor(np.arange(3)).var()),
    (TypeError, "unbiased or correction", lambda t: t.var(0, True, correction=1)),
    (TypeError, "norm: p", lambda t: t.norm("nuc")),
    (ValueError, "norm: p", lambda t: t.norm(-1)),
    (ValueError, "only a one-element", lambda t: float(t)),
    (TypeError, "requires_grad_", lambda t: Tensor(np.arange(3)).requires_grad_()),
    (ValueError, "only 'cpu'", lambda t: t.to("cuda")),
    (TypeError, "dtype", lambda t: t.to(object)),
    (ValueError, "non-empty", lambda t: tg.cat([])),
    (TypeError, "list or tuple", lambda t: tg.cat(t)),
    (TypeError, r"tensors\[1\]", lambda t: tg.cat([t, np.zeros((2, 3))])),
    (ValueError, r"\(2, 4\).*\(2, 3\).*dimension 0", lambda t: tg.cat([t, Tensor(np.zeros((2, 4)))])),
    (ValueError, "zero-dimensional", lambda t: tg.cat([Tensor(np.array(1.0))])),
    (ValueError, r"\(3, 2\)", lambda t: tg.stack([t, Tensor(np.zeros((3, 2)))])),
    (TypeError, "boolean", lambda t: tg.where(t, t, t)),
    (ValueError, "broadcast", lambda t: tg.where(np.ones(4, bool), t, t)),
    (ValueError, "broadcast", lambda t: t.maximum(Tensor(np.zeros(4)))),
    (ValueError, "only 'cpu'", lambda t: tg.device("cuda:0")),
    (TypeError, "tensor: data", lambda t: tg.tensor("abc")),
    (ValueError, "high", lambda t: tg.randint(5, 2, (3,))),
    (TypeError, "seed", lambda t: tg.manual_seed(1.5)),
    (TypeError, "float32 or float64", lambda t: tg.set_default_dtype(tg.int64)),
    (ValueError, "negative", lambda t: tg.zeros(-1)),
    (TypeError, "size", lambda t: tg.ones(2.5)),
    (ValueError, "step", lambda t: tg.arange(0, 3, 0)),
    (ZeroDivisionError, "division by zero", lambda t: Tensor(np.arange(3)).div(Tensor(np.zeros(3, np.int64)), rounding_mode="floor")),
]


@pytest.mark.parametrize("error, message, call", BAD, ids=[m for _, m, _ in BAD])
def test_bad_input_names_the_argument(error, message, call):
    with pytest.raises(error, match=message):
        call(Tensor(np.zeros((2, 3))))
