"""`t.grad` as a Tensor, in-place Tensor methods, and the version counter that guards saved values."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, no_grad
from tinygrad_cnn import nn, optim

from helpers import random_grad


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ------------------------------------------------------------------- grad is a Tensor
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_is_a_plain_tensor_of_the_leafs_shape_and_dtype(dtype):
    x = Tensor(np.arange(6.0, dtype=dtype).reshape(2, 3), requires_grad=True)
    assert x.grad is None
    g = random_grad((2, 3), dtype)
    (x * x).backward(g)
    assert isinstance(x.grad, Tensor)
    assert x.grad.shape == (2, 3) and x.grad.dtype == dtype
    assert not x.grad.requires_grad and x.grad.is_leaf and x.grad.grad is None
    np.testing.assert_allclose(np.asarray(x.grad), 2 * x.data * g, rtol=1e-6)
    assert float(x.grad.norm()) == pytest.approx(float(np.linalg.norm(2 * x.data * g)), rel=1e-5)
    assert x.grad.zero_() is x.grad
    np.testing.assert_array_equal(x.grad.data, 0)


def test_gradients_accumulate_until_cleared():
    x = leaf([1.0, 2.0, 3.0])
    g1, g2 = random_grad(3, seed=1), random_grad(3, seed=2)
    (x * 2).backward(g1)
    (x * x).backward(g2)
    np.testing.assert_allclose(x.grad.data, 2 * g1 + 2 * x.data * g2, rtol=1e-12)
    x.grad.zero_()  # zeroing in place: the next backward adds to zero
    (x * 3).backward(g1)
    np.testing.assert_allclose(x.grad.data, 3 * g1, rtol=1e-12)
    x.grad = None
    (x * 5).backward(g2)
    np.testing.assert_allclose(x.grad.data, 5 * g2, rtol=1e-12)


def test_no_aliasing_between_leaves():
    x, y = leaf([1.0, 1.0]), leaf([1.0, 1.0])
    (x + y).sum().backward()  # Add hands the same array to both inputs
    assert not np.shares_memory(x.grad.data, y.grad.data)
    x.grad.mul_(10)
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])
    # one Tensor assigned as the grad of two leaves: accumulating into one leaves the other alone
    shared = Tensor(np.ones(2))
    x.grad = shared
    y.grad = shared
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])
    np.testing.assert_array_equal(shared.data, [1.0, 1.0])
    assert y.grad is shared



# ------------------------------------------------------------------- leaves keep fresh gradients
def _capture(monkeypatch, module, name):
    """Wrap ``module.name`` so that the arrays it returns are recorded."""
    made = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        out = original(*args, **kwargs)
        made.append(out)
        return out

    monkeypatch.setattr(module, name, wrapper)
    return made


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_leaf_keeps_the_array_a_fresh_backward_made(monkeypatch, dtype):
    from tinygrad_cnn import functional as F
    from tinygrad_cnn.kernels import pool as KP

    made = _capture(monkeypatch, KP, "max_pool2d_backward")
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(dtype), requires_grad=True)
    g = random_grad((2, 3, 3, 3), dtype)
    F.max_pool2d(x, 2).backward(g)
    assert len(made) == 1 and x.grad.data is made[0]  # no copy of the kernel's output
    assert not np.shares_memory(x.grad.data, g)


def test_fresh_gradients_of_two_ops_on_one_leaf_are_added_into_a_new_array(monkeypatch):
    from tinygrad_cnn import functional as F
    from tinygrad_cnn.kernels import pool as KP

    made = _capture(monkeypatch, KP, "max_pool2d_backward")
    x = leaf(np.random.default_rng(1).standard_normal((1, 2, 4, 4)))
    g1, g2 = random_grad((1, 2, 2, 2)), random_grad((1, 2, 2, 2))
    (F.max_pool2d(x, 2) * Tensor(g1) + F.max_pool2d(x, 2) * Tensor(g2)).sum().backward()
    assert len(made) == 2
    assert all(not np.shares_memory(x.grad.data, m) for m in made)
    np.testing.assert_allclose(x.grad.data, made[0] + made[1], rtol=1e-15)


class _PassThrough(tg.Function):
    """An op whose backward hands back the very array it received."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class _LyingPassThrough(_PassThrough):
    fresh_grads = True  # a false promise: its gradient is the caller's array


@pytest.mark.parametrize("op, kept", [(_PassThrough, False), (_LyingPassThrough, True)])
def test_only_a_fresh_op_hands_its_array_to_the_leaf(op, kept):
    """Without fresh_grads the leaf gets a copy of what the op returned (here the caller's
    upstream gradient).  Negative control: the same op declared fresh hands the caller's
    array to the leaf, so the check can tell a copy from none."""
    x = leaf([1.0, 2.0])
    g = np.array([0.5, -0.5])
    op.apply(x).backward(g)
    assert (x.grad.data is g) == kept
    if not kept:
        assert not np.shares_memory(x.grad.data, g)
        x.grad.mul_(3)
        np.testing.assert_array_equal(g, [0.5, -0.5])


def test_a_fresh_gradient_that_is_not_c_contiguous_is_copied():
    returned = []

    class Transposed(tg.Function):
        fresh_grads = True

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            returned.append(np.ascontiguousarray(grad.T).T)  # a new array, in Fortran order
            return returned[-1]

    x = leaf(np.ones((2, 3)))
    g = random_grad((2, 3))
    Transposed.apply(x).backward(g)
    assert x.grad.data is not returned[0]
    np.testing.assert_array_equal(x.grad.data, g)


def test_conv_and_linear_leaves_share_no_memory_with_each_other_or_the_upstream_gradient():
    from tinygrad_cnn import functional as F

    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal((2, 3, 6, 6)))
    w = leaf(rng.standard_normal((4, 3, 3, 3)))
    b = leaf(rng.standard_normal(4))
    g = random_grad((2, 4, 4, 4))
    F.conv2d(x, w, b).backward(g)
    arrays = [x.grad.data, w.grad.data, b.grad.data, g]
    for i, a in enumerate(arrays):
        for c in arrays[i + 1:]:
            assert not np.shares_memory(a, c)
    lx, lw, lb = leaf(rng.standard_normal((5, 3))), leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal(2))
    gl = random_grad((5, 2))
    F.linear(lx, lw, lb).backward(gl)
    arrays = [lx.grad.data, lw.grad.data, lb.grad.data, gl]
    for i, a in enumerate(arrays):
        for c in arrays[i + 1:]:
            assert not np.shares_memory(a, c)

def test_module_zero_grad_and_optimiser_zero_grad_clear_to_none():
    lin = nn.Linear(3, 2)
    lin(Tensor(np.ones((4, 3), np.float32))).sum().backward()
    assert isinstance(lin.weight.grad, Tensor) and lin.weight.grad.dtype == np.float32
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_assigning_grad_checks_shape_and_dtype():
    x = leaf([1.0, 2.0])
    x.grad = np.array([0.5, 0.5])
    assert isinstance(x.grad, Tensor) and x.grad.dtype == np.float64
    g = Tensor(np.array([1.0, 2.0]))
    x.grad = g
    assert x.grad is g
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        x.grad = np.zeros(3)
    with pytest.raises(TypeError, match="float32.*float64"):
        x.grad = np.zeros(2, np.float32)
    with pytest.raises(TypeError, match="list"):
        x.grad = [1.0, 2.0]
    assert x.grad is g  # a refused assignment leaves the old gradient


# ------------------------------------------------------------------- the hand-written SGD loop
def _problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3
    return Tensor(X), Tensor(y)


def _loss(w, b, X, y):
    return ((X @ w + b - y) ** 2).mean()


def test_manual_sgd_loop_under_no_grad_matches_the_optimiser():
    X, y = _problem()
    w1, b1 = leaf(np.zeros(3)), leaf(0.0)
    w2, b2 = leaf(np.zeros(3)), leaf(0.0)
    opt = optim.SGD([w2, b2], lr=0.1)
    first = _loss(w1, b1, X, y).item()
    for _ in range(60):
        loss = _loss(w1, b1, X, y)
        loss.backward()
        with no_grad():
            w1 -= 0.1 * w1.grad  # the classic loop: p -= lr * p.grad in place
            b1 -= 0.1 * b1.grad
            w1.grad.zero_()
            b1.grad.zero_()
        opt.zero_grad()
        _loss(w2, b2, X, y).backward()
        opt.step()
    np.testing.assert_allclose(w1.data, w2.data, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b1.data, b2.data, rtol=1e-12, atol=1e-14)
    assert w1.requires_grad and w1.is_leaf
    assert _loss(w1, b1, X, y).item() < 1e-3 * first
    np.testing.assert_allclose(w1.data, [1.5, -2.0, 0.5], atol=1e-2)


# ------------------------------------------------------------------- in-place methods
def test_inplace_methods_change_the_array_in_place_and_return_self():
    base = np.arange(6.0).reshape(2, 3)
    t = Tensor(base.copy())
    arr = t.data
    view = t[0]  # a view: sees every change
    expected = base.copy()
    steps = [
        (lambda: t.add_(Tensor(np.ones(3)), alpha=2), lambda e: e + 2),
        (lambda: t.sub_(1.0), lambda e: e - 1),
        (lambda: t.mul_(np.array([[2.0], [3.0]])), lambda e: e * np.array([[2.0], [3.0]])),
        (lambda: t.div_(2), lambda e: e / 2),
        (lambda: t.clamp_(min=1.0, max=4.0), lambda e: np.clip(e, 1.0, 4.0)),
        (lambda: t.clamp_(max=2.0), lambda e: np.minimum(e, 2.0)),
        (lambda: t.copy_(np.array([7.0, 8.0, 9.0])), lambda e: np.broadcast_to([7.0, 8.0, 9.0], e.shape)),
        (lambda: t.fill_(Tensor(np.array(2.5))), lambda e: np.full_like(e, 2.5)),
        (lambda: t.zero_(), lambda e: np.zeros_like(e)),
    ]
    for step, reference in steps:
        assert step() is t
        expected = reference(expected)
        assert t.data is arr and t.dtype == np.float64
        np.testing.assert_array_equal(t.data, expected)
        np.testing.assert_array_equal(view.data, expected[0])


def test_augmented_assignment_is_in_place_on_a_tensor_without_grad():
    t = Tensor(np.ones(3, np.float32))
    alias = t
    t += 1
    t *= Tensor(np.array([1.0, 2.0, 3.0], np.float32))
    t -= np.ones(3, np.float32)
    t /= 2
    assert t is alias and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, [0.5, 1.5, 2.5])


def test_normal_and_uniform_draw_from_the_package_generator():
    t = Tensor(np.zeros((200, 50), np.float32))
    tg.manual_seed(3)
    t.normal_(mean=2.0, std=0.5)
    first = t.data.copy()
    assert t.dtype == np.float32
    assert abs(first.mean() - 2.0) < 0.02 and abs(first.std() - 0.5) < 0.02
    tg.manual_seed(3)
    t.normal_(2.0, 0.5)
    np.testing.assert_array_equal(t.data, first)  # seeded: the same draws
    t.uniform_(-1.0, 3.0)
    assert t.data.min() >= -1.0 and t.data.max() < 3.0 and abs(t.data.mean() - 1.0) < 0.05
    with pytest.raises(ValueError, match="std"):
        t.normal_(0.0, -1.0)
    with pytest.raises(ValueError, match="a <= b"):
        t.uniform_(1.0, 0.0)
    with pytest.raises(TypeError, match="float tensor"):
        Tensor(np.zeros(3, np.int64)).normal_()


def test_inplace_bad_operands():
    t = Tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*shape \(3,\)"):
        t.add_(np.ones((2, 3)))  # would change the tensor's shape
    with pytest.raises(TypeError, match="int64"):
        Tensor(np.arange(3)).add_(0.5)  # a float result does not fit an integer tensor
    with pytest.raises(TypeError, match="alpha"):
        t.add_(1.0, alpha="2")
    with pytest.raises(TypeError, match="str"):
        t.mul_("2")
    with pytest.raises(ValueError, match="min and max"):
        t.clamp_()
    with pytest.raises(RuntimeError, match="read-only"):
        Tensor(np.ones(3)).expand(2, 3).zero_()
    np.testing.assert_array_equal(t.data, 0)  # nothing was written by a refused call


# ------------------------------------------------------------------- in-place and the graph
@pytest.mark.parametrize("op", [
    lambda t: t.zero_(), lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.normal_(),
    lambda t: t.copy_(np.zeros(2)), lambda t: t.__isub__(1.0), lambda t: t.__iadd__(1.0),
])
def test_inplace_on_a_leaf_that_requires_grad_needs_no_grad(op):
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        op(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    with no_grad():
        assert op(w) is w
    assert w.requires_grad


def test_inplace_refused_on_a_recorded_result_and_with_an_operand_that_requires_grad():
    w = leaf([1.0, 2.0])
    h = w * 2
    with pytest.raises(RuntimeError, match="out of place"):
        h.add_(1)
    # augmented assignment rebinds the name to the recorded result instead (d2l's Y += X)
    old = h
    h += w
    assert h is not old and h.tolist() == [3.0, 6.0] and old.tolist() == [2.0, 4.0]
    h.backward(np.ones(2))
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])
    buffer = Tensor(np.zeros(2))
    with pytest.raises(RuntimeError, match="requires grad"):
        buffer.add_(w)  # would silently drop w from the graph
    total = Tensor(np.zeros(2))
    total += w  # likewise: total now depends on w
    assert total.requires_grad
    with no_grad():
        buffer.add_(w)
    np.testing.assert_array_equal(buffer.data, [1.0, 2.0])


def test_version_counter_catches_a_saved_value_changed_before_backward():
    w = leaf([1.0, 2.0])
    x = Tensor(np.array([3.0, 4.0]))
    y = (w * x).sum()  # Mul saves x to compute dL/dw
    x.add_(1.0)        # x does not require grad: allowed, and counted
    with pytest.raises(RuntimeError, match=r"Mul\.backward.*modified by an in-place operation"):
        y.backward()

    y = (w * x).sum()
    with no_grad():
        w -= 0.5       # w is saved too (for dL/dx, were x to need it)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()

    e = w.exp()        # Exp saves its output
    out = e.sum()
    with no_grad():
        e[0:1].zero_()  # through a view of the saved output
    with pytest.raises(RuntimeError, match=r"Exp\.backward"):
        out.backward()


def test_version_counter_lets_harmless_changes_through():
    w = leaf([1.0, 2.0])
    x = Tensor(np.array([3.0, 4.0]))
    y = (w + x).sum()  # Add saves nothing
    x.zero_()
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0])
    y = (w * x.clone()).sum()  # a clone is other memory
    x.fill_(5.0)
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0])
    z = (w * w).sum()
    z.backward()  # the graph is used and freed: changing w afterwards is the optimiser step
    with no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, [1.0 - 0.1 * 3.0, 2.0 - 0.1 * 5.0])


def test_requires_grad_and_detach_in_place():
    t = Tensor(np.ones(2))
    assert t.requires_grad_() is t and t.requires_grad
    h = t * 2
    assert h.detach_() is h and not h.requires_grad and h.is_leaf
    (t * 3).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [3.0, 3.0])


def test_parameter_from_a_list_takes_the_default_dtype():
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert nn.Parameter(np.array([1.0, 2.0])).dtype == np.float64  # an array keeps its float dtype
    tg.set_default_dtype(tg.float64)
    try:
        assert nn.Parameter([1.0, 2.0]).dtype == np.float64
        assert nn.Parameter(3).dtype == np.float64
    finally:
        tg.set_default_dtype(tg.float32)


def test_version_entries_go_with_their_memory():
    from tinygrad_cnn import _versions

    t = Tensor(np.zeros(3))
    t[1:].zero_()  # written through a view: counted for the array that owns the memory
    key = id(t.data)
    assert _versions.version(t.data) == 1 and key in _versions.written
    del t
    assert key not in _versions.written  # freed with the array, before its id can be reused
