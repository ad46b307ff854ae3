"""Core ops: forward against numpy, backward by gradcheck (float64, random upstream
gradient) on hypothesis-drawn shapes and non-contiguous views, and both against PyTorch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck
from helpers import arrays, assert_close, leaf, random_grad, shapes, torch_leaf

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: drop leading axes and set some sides to 1."""
    full = draw(shapes(min_dims=1, max_dims=4, max_side=4))
    def variant():
        k = draw(st.integers(0, len(full)))
        s = list(full[k:])
        return tuple(1 if draw(st.booleans()) else n for n in s)
    return variant(), variant()


@given(st.sampled_from(sorted(BINARY)), broadcast_pair(), st.data())
def test_binary_ops_broadcast(name, pair, data):
    op, ref = BINARY[name]
    sa, sb = pair
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb, low=0.5, high=2.0) if name == "div" else arrays(sb))
    ta, tb = leaf(a), leaf(b)
    out = op(ta, tb)
    assert_close(out.data, ref(a, b), rtol=1e-12)
    assert gradcheck(op, [leaf(a), leaf(b)])


@given(broadcast_pair(), st.data())
def test_binary_ops_against_torch(pair, data):
    torch = pytest.importorskip("torch")
    sa, sb = pair
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb, low=0.5, high=2.0))
    for name in BINARY:
        op = BINARY[name][0]
        ta, tb = leaf(a), leaf(b)
        out = op(ta, tb)
        g = random_grad(out.shape)
        out.backward(g)
        xa, xb = torch_leaf(torch, a), torch_leaf(torch, b)
        tout = op(xa, xb)
        tout.backward(torch.from_numpy(g))
        assert_close(out.data, tout.detach().numpy())
        assert_close(ta.grad, xa.grad.numpy())
        assert_close(tb.grad, xb.grad.numpy())


@given(shapes(max_dims=3, max_side=4), st.data())
def test_pow_exp_log_neg(shape, data):
    a = data.draw(arrays(shape, low=0.5, high=2.0))
    b = data.draw(arrays(shape, low=-1.5, high=1.5))
    assert gradcheck(lambda x, y: x**y, [leaf(a), leaf(b)])
    assert gradcheck(lambda x: x**3, [leaf(a)])
    assert gradcheck(lambda x: 2.0**x, [leaf(b)])
    assert gradcheck(lambda x: (-x).exp().log(), [leaf(a)])
    torch = pytest.importorskip("torch")
    ta, tb = leaf(a), leaf(b)
    out = (ta**tb).exp() / ta.log().exp() - (-tb) ** 2
    g = random_grad(out.shape)
    out.backward(g)
    xa, xb = torch_leaf(torch, a), torch_leaf(torch, b)
    tout = (xa**xb).exp() / xa.log().exp() - (-xb) ** 2
    tout.backward(torch.from_numpy(g))
    assert_close(out.data, tout.detach().numpy())
    assert_close(ta.grad, xa.grad.numpy())
    assert_close(tb.grad, xb.grad.numpy())


@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["2d", "vec-left", "vec-right", "vec-vec", "batched"]))
    if kind == "2d":
        return (m, k), (k, n)
    if kind == "vec-left":
        return (k,), (draw(st.integers(1, 3)), k, n)
    if kind == "vec-right":
        return (draw(st.integers(1, 3)), m, k), (k,)
    if kind == "vec-vec":
        return (k,), (k,)
    batch = draw(shapes(min_dims=1, max_dims=2, max_side=3))
    ba = tuple(1 if draw(st.booleans()) else s for s in batch)
    bb = tuple(1 if draw(st.booleans()) else s for s in batch)[draw(st.integers(0, len(batch))):]
    return ba + (m, k), bb + (k, n)


@given(matmul_shapes(), st.data())
def test_matmul_batched_broadcast(pair, data):
    sa, sb = pair
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    out = leaf(a) @ leaf(b)
    assert_close(out.data, a @ b, rtol=1e-12)
    assert gradcheck(lambda x, y: x @ y, [leaf(a), leaf(b)])
    torch = pytest.importorskip("torch")
    ta, tb = leaf(a), leaf(b)
    out = ta @ tb
    g = random_grad(out.shape)
    out.backward(g)
    xa, xb = torch_leaf(torch, a), torch_leaf(torch, b)
    (xa @ xb).backward(torch.from_numpy(np.asarray(g)))
    assert_close(ta.grad, xa.grad.numpy())
    assert_close(tb.grad, xb.grad.numpy())


@st.composite
def reduction_case(draw):
    shape = draw(shapes(min_dims=1, max_dims=4, max_side=4))
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-len(shape), len(shape) - 1),
            st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple),
        )
    )
    return shape, axis, draw(st.booleans())


@given(reduction_case(), st.data())
def test_reductions(case, data):
    shape, axis, keepdims = case
    a = data.draw(arrays(shape))
    for name, ref in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
        out = getattr(leaf(a), name)(axis=axis, keepdims=keepdims)
        assert_close(out.data, ref(a, axis=axis, keepdims=keepdims), rtol=1e-12)
        assert gradcheck(lambda t, n=name: getattr(t, n)(axis=axis, keepdims=keepdims), [leaf(a)])
    torch = pytest.importorskip("torch")
    for name, tname in (("sum", "sum"), ("mean", "mean"), ("max", "amax")):
        t = leaf(a)
        out = getattr(t, name)(axis=axis, keepdims=keepdims)
        g = random_grad(out.shape)
        out.backward(g)
        x = torch_leaf(torch, a)
        dim = tuple(range(a.ndim)) if axis is None else axis
        tout = getattr(x, tname)(dim=dim, keepdim=keepdims)
        tout.backward(torch.from_numpy(np.asarray(g)).reshape(tout.shape))
        assert_close(t.grad, x.grad.numpy())


def test_max_splits_gradient_among_ties_like_amax():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    t = leaf(a)
    t.max(axis=1).backward(np.array([1.0, 3.0]))
    np.testing.assert_allclose(t.grad, [[0, 0.5, 0.5], [1, 1, 1]])


@given(shapes(min_dims=1, max_dims=4, max_side=4), st.data())
def test_reshape_transpose(shape, data):
    a = data.draw(arrays(shape))
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    assert_close(leaf(a).transpose(perm).data, a.transpose(perm), rtol=0)  # a tuple: numpy's permutation
    assert_close(leaf(a).T.data, a.T, rtol=0)
    assert_close(leaf(a).reshape(-1).data, a.reshape(-1), rtol=0)
    assert gradcheck(lambda t: t.transpose(perm).reshape(-1, 1) * 1.5, [leaf(a)])
    assert gradcheck(lambda t: t.T.reshape(a.size), [leaf(a)])


@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=5), st.data())
def test_indexing_slices_and_repeated_indices(shape, data):
    a = data.draw(arrays(shape))
    idx = np.asarray(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6)))
    cases = [
        lambda t: t[1],
        lambda t: t[:-1],
        lambda t: t[::2],
        lambda t: t[idx],
        lambda t: t[Tensor(idx)],
        lambda t: t[..., 0],
    ]
    for case in cases:
        assert gradcheck(case, [leaf(a)])
    np.testing.assert_array_equal(leaf(a)[idx].data, a[idx])
    t = leaf(a)
    t[idx].backward(np.ones((len(idx),) + shape[1:]))
    counts = np.bincount(idx, minlength=shape[0]).astype(float)
    np.testing.assert_allclose(t.grad, np.broadcast_to(counts.reshape((-1,) + (1,) * (len(shape) - 1)), shape))
    torch = pytest.importorskip("torch")
    t = leaf(a)
    out = t[idx][:, ...] * 2
    g = random_grad(out.shape)
    out.backward(g)
    x = torch_leaf(torch, a)
    (x[torch.from_numpy(idx)] * 2).backward(torch.from_numpy(g))
    assert_close(t.grad, x.grad.numpy())


def test_comparisons_and_argmax_carry_no_grad():
    t = Tensor(np.array([1.0, 3.0, 2.0]), requires_grad=True)
    for r in (t > 1.5, t >= 2, t < 2, t <= 1, t == 3, t != 3):
        assert r.dtype == np.bool_ and not r.requires_grad
    np.testing.assert_array_equal((t > 1.5).data, [False, True, True])
    assert t.argmax().item() == 1 and not t.argmax().requires_grad


TRANSFER = {
    "relu": (F.relu, np.vectorize(lambda v: max(v, 0.0))),
    "tanh": (F.tanh, np.tanh),
    "sigmoid": (F.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    "poslin": (F.poslin, np.vectorize(lambda v: max(v, 0.0))),
    "tansig": (F.tansig, np.tanh),
    "logsig": (F.logsig, lambda v: 1 / (1 + np.exp(-v))),
    "purelin": (F.purelin, lambda v: v),
}


@given(st.sampled_from(sorted(TRANSFER)), shapes(max_dims=3, max_side=4), st.data())
def test_transfer_functions(name, shape, data):
    fn, ref = TRANSFER[name]
    a = data.draw(arrays(shape))
    a = np.where(np.abs(a) < 1e-3, 0.5, a)  # keep central differences off relu's kink
    assert_close(fn(leaf(a)).data, ref(a), rtol=1e-12)
    assert gradcheck(lambda t: fn(t) * 1.0, [leaf(a)])
    torch = pytest.importorskip("torch")
    tf = {"relu": torch.relu, "poslin": torch.relu, "tanh": torch.tanh, "tansig": torch.tanh,
          "sigmoid": torch.sigmoid, "logsig": torch.sigmoid, "purelin": lambda v: v * 1.0}[name]
    t = leaf(a)
    out = fn(t) * 1.0
    g = random_grad(out.shape)
    out.backward(g)
    x = torch_leaf(torch, a)
    tf(x).backward(torch.from_numpy(np.asarray(g)))
    assert_close(out.data, tf(x).detach().numpy())
    assert_close(t.grad, x.grad.numpy())


@given(shapes(min_dims=1, max_dims=3, max_side=5), st.data())
def test_softmax_log_softmax(shape, data):
    a = data.draw(arrays(shape, low=-5, high=5))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    ref = e / e.sum(axis=axis, keepdims=True)
    assert_close(F.softmax(leaf(a), axis=axis).data, ref)
    assert_close(F.log_softmax(leaf(a), axis=axis).data, np.log(ref))
    assert gradcheck(lambda t: F.softmax(t, axis=axis), [leaf(a)])
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), [leaf(a)])
    torch = pytest.importorskip("torch")
    for ours, theirs in ((F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)):
        t = leaf(a)
        out = ours(t, axis=axis)
        g = random_grad(out.shape)
        out.backward(g)
        x = torch_leaf(torch, a)
        theirs(x, dim=axis).backward(torch.from_numpy(g))
        assert_close(t.grad, x.grad.numpy())


def test_log_softmax_and_cross_entropy_stable_at_1000():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    out = F.log_softmax(leaf(logits))
    assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(out.data[0], [0.0, -2000.0, -1000.0])
    t = leaf(logits)
    loss = F.cross_entropy(t, np.array([1, 2]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(t.grad.data))
    assert loss.item() == pytest.approx(1000.0)
    sm = F.softmax(leaf(logits)).data
    assert np.all(np.isfinite(sm)) and sm[0, 0] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_short_path_has_the_general_rules_bits(dtype, reduction):
    """Plain class indices take a short path (ℓ = −log p[t], dZ = softmax − onehot); unit class
    weights force the general rule, which must give the same bits, forward and backward."""
    rng = np.random.default_rng(4)
    logits = (rng.standard_normal((9, 7)) * 4).astype(dtype)
    labels = rng.integers(0, 7, 9)
    results = []
    for weight in (None, Tensor(np.ones(7, dtype))):
        t = Tensor(logits.copy(), requires_grad=True)
        loss = F.cross_entropy(t, labels, weight=weight, reduction=reduction)
        loss.backward(random_grad(loss.shape, seed=1) if loss.shape else None)
        results.append((loss.data, t.grad.data))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    # an ignored target leaves the short path: the general rule's zero row
    t = Tensor(logits.copy(), requires_grad=True)
    F.cross_entropy(t, np.where(np.arange(9) == 3, -100, labels)).backward()
    assert np.all(t.grad.data[3] == 0) and np.any(t.grad.data[2] != 0)


@given(st.integers(1, 6), st.integers(2, 5), st.data())
def test_losses(n, k, data):
    logits = data.draw(arrays((n, k), low=-3, high=3))
    labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    pred, target = data.draw(arrays((n, k))), data.draw(arrays((n, k), contiguous=True))
    assert gradcheck(lambda t: F.cross_entropy(t, labels), [leaf(logits)])
    assert gradcheck(lambda p, q: F.mse_loss(p, q), [leaf(pred), leaf(target)])
    assert_close(F.mse_loss(leaf(pred), target).data, np.mean((pred - target) ** 2))
    torch = pytest.importorskip("torch")
    t = leaf(logits)
    loss = F.cross_entropy(t, labels)
    loss.backward()
    x = torch_leaf(torch, logits)
    tl = torch.nn.functional.cross_entropy(x, torch.from_numpy(labels))
    tl.backward()
    assert_close(loss.data, tl.detach().numpy())
    assert_close(t.grad, x.grad.numpy())
    p = leaf(pred)
    m = F.mse_loss(p, target)
    m.backward()
    xp = torch_leaf(torch, pred)
    tm = torch.nn.functional.mse_loss(xp, torch.from_numpy(target))
    tm.backward()
    assert_close(m.data, tm.detach().numpy())
    assert_close(p.grad, xp.grad.numpy())


def test_deep_chain_against_torch():
    torch = pytest.importorskip("torch")
    a = np.array([0.3, -0.2])
    t, x = leaf(a), torch_leaf(torch, a)
    y, z = t, x
    for i in range(5000):
        y = (y * 0.999 + 0.001).tanh() if i % 2 else y * 1.0001
        z = (z * 0.999 + 0.001).tanh() if i % 2 else z * 1.0001
    y.sum().backward()
    z.sum().backward()
    assert_close(y.data, z.detach().numpy())
    assert_close(t.grad, x.grad.numpy())


def test_accumulation_no_grad_detach_against_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[0.5, -1.0], [2.0, 0.25]])
    t, x = leaf(a), torch_leaf(torch, a)
    for _ in range(3):
        (t.exp() * t).sum().backward()
        (x.exp() * x).sum().backward()
    from tinygrad_cnn import no_grad
    with no_grad():
        frozen = t * 10
    with torch.no_grad():
        tfrozen = x * 10
    (frozen * t + t.detach() * t).sum().backward()
    (tfrozen * x + x.detach() * x).sum().backward()
    assert_close(t.grad, x.grad.numpy())


def test_float32_preserved_through_ops():
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    t = leaf(a)
    out = F.log_softmax((t @ t.T).tanh() * 2 - 1, axis=0).mean(axis=0).sum()
    assert out.dtype == np.float32
    out.backward()
    assert t.grad.dtype == np.float32
