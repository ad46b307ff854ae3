"""The engine: graph recording, topological backward, accumulation, release, no_grad, dtypes."""

import numpy as np
import pytest

from tinygrad_cnn import Function, GradcheckError, Tensor, gradcheck, no_grad
from tinygrad_cnn.ops.elementwise import Mul


def test_dtype_rules():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float64
    assert Tensor(np.zeros(3, np.float32)).dtype == np.float32
    assert Tensor(np.arange(3)).dtype.kind == "i"  # labels keep their integer dtype
    t64 = Tensor(np.ones(2), requires_grad=True)
    assert (t64 * 2 + 1).dtype == np.float64  # Python scalars follow the tensor
    assert (t64 / 3).exp().dtype == np.float64


def test_integer_requires_grad_is_a_type_error():
    with pytest.raises(TypeError, match=r"requires_grad.*int.*\(3,\)"):
        Tensor(np.arange(3), requires_grad=True)


def test_array_interop():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.asarray(t) is t.data
    assert t.numpy() is t.data
    assert t.shape == (2, 3) and t.ndim == 2
    assert np.array_equal(np.ones(3) + Tensor(np.ones(3)), np.full(3, 2.0))  # numpy defers to Tensor


def test_node_used_twice():
    x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = x * x + x  # x feeds three edges
    y.backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2 * 1.5 + 1, 2 * (2 * -2.0 + 1)])


def test_gradients_accumulate_until_reset():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_second_backward_through_released_graph_raises():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_shared_subgraph_released_by_first_backward():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()
    a, b = h.sum(), (h * 2).sum()
    a.backward()
    with pytest.raises(RuntimeError, match="second time"):
        b.backward()


def test_retain_graph_allows_second_backward():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])


def test_graph_is_freed_after_backward():
    import gc
    import weakref

    x = Tensor(np.ones(4), requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    y.backward()
    gc.collect()
    assert ref() is None, "an intermediate tensor outlived backward"


def test_non_scalar_backward_needs_grad():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element.*\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()


def test_deep_chain_needs_no_recursion():
    x = Tensor(np.array(0.5), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_no_grad_and_detach():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y._ctx is None
    z = (x * 2).detach()
    assert not z.requires_grad
    w = (z * x).sum()
    w.backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])

    @no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert (x * 1).requires_grad  # restored after the decorator and the with-block


def test_leaf_grad_is_not_aliased():
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    (x + y).sum().backward()
    x.grad *= 5  # an optimiser scaling one grad in place must not touch the other
    np.testing.assert_allclose(y.grad, np.ones(3))


def test_gradient_of_float32_leaf_stays_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    (x * Tensor(np.ones(3))).sum().backward()  # mixed with float64 on the way
    assert x.grad.dtype == np.float32


# ------------------------------------------------------------------- gradcheck itself
class WrongSquare(Function):
    """x² with a deliberately wrong backward (forgets the factor 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class TransposedMatMul(Function):
    """A @ B whose backward for A forgets to transpose B: only a random upstream gradient sees it."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b, a.T @ grad


def test_gradcheck_accepts_a_correct_backward():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda t: Mul.apply(t, t), [x])


def test_gradcheck_rejects_a_wrong_backward():
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, [x])
    err = info.value
    assert err.input_index == 0 and err.element == (0,)
    assert err.analytic != pytest.approx(err.numeric)
    assert "analytic" in str(err) and "numeric" in str(err)


def test_gradcheck_rejects_a_transposition_error():
    rng = np.random.default_rng(1)
    a = Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(TransposedMatMul.apply, [a, b])


def test_gradcheck_requires_float64():
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [x])


def test_gradcheck_leaves_inputs_and_grads_untouched():
    data = np.array([1.0, 2.0])
    x = Tensor(data.copy(), requires_grad=True)
    x.grad = np.array([7.0, 7.0])
    gradcheck(lambda t: t.exp(), [x])
    np.testing.assert_array_equal(x.data, data)
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_requires_grad_on_integers():
    with pytest.raises(TypeError, match="int"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_ragged_data_rejected():
    with pytest.raises((TypeError, ValueError)):
        Tensor([[1, 2], [3]])
