"""einsum, meshgrid, and narrow, tile, movedim, swapaxes, broadcast_to, rot90, diagonal, trace,
diag, lerp, hypot, masked_select (differentiable, made of existing ops) and the searches without
a gradient: against naive loops or PyTorch, float64 gradcheck, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, gradcheck
from tinygrad_cnn.ops.einsum import einsum_reference, parse_einsum
from helpers import assert_close, random_grad

EQUATIONS = [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->ji", [(3, 4)]), ("ii->i", [(4, 4)]), ("ii", [(3, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("bchw,oc->bohw", [(2, 3, 4, 4), (5, 3)]), ("ij,jk", [(2, 3), (3, 4)]), ("i,j->ij", [(3,), (4,)]),
    ("ijk->", [(2, 3, 4)]), ("iij->j", [(3, 3, 2)]), ("ab,b->a", [(3, 4), (4,)]),
    ("...,...->...", [(2, 3), (3,)]), ("i,i,i->", [(4,), (4,), (4,)]), ("bi,bi->b", [(5, 1), (5, 3)]),
    ("i...->...", [(3, 3)]), ("...ik, ...j -> ij", [(1, 2, 3), (3,)]),
]


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_against_the_loops_gradcheck_and_pytorch(equation, shapes):
    rng = np.random.default_rng(len(equation))
    xs = [rng.standard_normal(s) for s in shapes]
    inputs, output = parse_einsum(equation, shapes)
    y = tc.einsum(equation, *[Tensor(x) for x in xs])
    assert_close(y.data, einsum_reference(inputs, output, *xs), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: tc.einsum(equation, *t), [Tensor(np.array(x), requires_grad=True) for x in xs])
    torch = pytest.importorskip("torch")
    leaves = [Tensor(np.array(x), requires_grad=True) for x in xs]
    theirs = [torch.from_numpy(np.array(x)).requires_grad_(True) for x in xs]
    y = tc.einsum(equation, leaves)  # the operands as one list, as PyTorch also takes them
    ty = torch.einsum(equation, theirs)
    g = random_grad(y.shape)
    y.backward(g)
    ty.backward(torch.from_numpy(np.asarray(g)).reshape(ty.shape))
    assert_close(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(leaves, theirs):
        assert_close(a.grad.data, b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_negative_control():
    """The reference and the check fail when an operand's gradient is taken transposed."""
    from tinygrad_cnn import GradcheckError
    from tinygrad_cnn.ops import einsum as E

    original = E._operand_grad
    try:
        E._operand_grad = lambda k, xs, inputs, output, grad: np.ascontiguousarray(
            original(k, xs, inputs, output, grad)[::-1])
        with pytest.raises(GradcheckError):
            gradcheck(lambda a, b: tc.einsum("ij,jk->ik", a, b),
                      [Tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True),
                       Tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)])
    finally:
        E._operand_grad = original


@pytest.mark.parametrize("equation, shapes, pattern", [
    ("ij,jk->ik", [(2, 3)], "2 operand"),
    ("ij->ij", [(2, 3, 4)], r"term 'ij' has 2 subscripts for an operand of shape \(2, 3, 4\)"),
    ("ij,jk->il", [(2, 3), (3, 4)], "output subscript 'l'"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "subscript 'j' has size 3 and 4"),
    ("i1->i", [(2, 3)], "letters"),
    ("ij->ii", [(2, 2)], "repeat"),
])
def test_einsum_bad_equations_are_refused(equation, shapes, pattern):
    with pytest.raises(ValueError, match=pattern):
        tc.einsum(equation, *[Tensor(np.zeros(s)) for s in shapes])


METHODS = [
    ("narrow", lambda x: x.narrow(1, 1, 2)), ("narrow-negative", lambda x: x.narrow(-1, -3, 2)),
    ("tile", lambda x: x.tile(2, 1, 1)), ("movedim", lambda x: x.movedim((0, 2), (2, 0))),
    ("swapaxes", lambda x: x.swapaxes(0, 2)), ("broadcast_to", lambda x: x.unsqueeze(0).broadcast_to(2, 2, 3, 4)),
    ("rot90", lambda x: x.rot90(1, (1, 2))), ("rot90-3", lambda x: x.rot90(3, (0, 2))),
    ("diagonal", lambda x: x.diagonal(1, 1, 2)), ("diagonal-negative", lambda x: x.diagonal(-1, 0, 2)),
    ("trace", lambda x: x[0].trace()), ("diag-of-matrix", lambda x: x[0].diag(1)), ("diag-of-vector", lambda x: x[0, 0].diag(-2)),
    ("lerp", lambda x: x.lerp(x * 2 + 1, 0.3)), ("hypot", lambda x: x.hypot(x[:, :1] + 0.5)),
    ("masked_select", lambda x: x.masked_select(x.data > 0)),
]


@pytest.mark.parametrize("name, call", METHODS, ids=[n for n, _ in METHODS])
def test_methods_gradcheck_and_pytorch(name, call):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4)) + 0.1
    assert gradcheck(lambda t: call(t), [Tensor(np.array(x), requires_grad=True)])
    torch = pytest.importorskip("torch")

    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    leaf = Tensor(x.copy(), requires_grad=True)
    y = call(leaf)
    if name == "masked_select":
        ty = tx.masked_select(torch.from_numpy(x > 0))
    elif name == "broadcast_to":
        ty = tx.unsqueeze(0).broadcast_to(2, 2, 3, 4)
    elif name == "lerp":
        ty = tx.lerp(tx * 2 + 1, 0.3)
    elif name == "hypot":
        ty = tx.hypot(tx[:, :1] + 0.5)
    else:
        ty = call(tx)
    g = random_grad(y.shape)
    y.backward(g)
    ty.backward(torch.from_numpy(np.asarray(g)).reshape(ty.shape))
    assert_close(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_close(leaf.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3), indexing=st.sampled_from(["ij", "xy"]))
def test_meshgrid_against_numpy(sizes, indexing):
    vectors = [np.arange(n, dtype=np.float64) + 10 * k for k, n in enumerate(sizes)]
    ours = tc.meshgrid(*[Tensor(v) for v in vectors], indexing=indexing)
    for a, b in zip(ours, np.meshgrid(*vectors, indexing=indexing)):
        np.testing.assert_array_equal(a.data, b)


def test_searches_without_gradient():
    x = Tensor(np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]))
    assert x.nonzero().data.tolist() == [[0, 1], [1, 0], [1, 2]]
    assert [t.data.tolist() for t in x.nonzero(as_tuple=True)] == [[0, 1, 1], [1, 0, 2]]
    assert x.count_nonzero().item() == 3 and x.count_nonzero(0).data.tolist() == [1, 1, 1]
    assert Tensor(np.array(5.0)).nonzero().shape == (1, 0)
    assert x.logical_and(x.data > 0).data.tolist() == [[False, True, False], [True, False, False]]
    assert x.logical_not().data.tolist() == [[True, False, True], [False, True, False]]
    assert x.isclose(x + 1e-9).data.all()


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda x: x.narrow(1, 2, 5), ValueError, r"start \(2\) \+ length \(5\) exceeds dimension 1 of size 3"),
    (lambda x: x.movedim((0, 1), 2), ValueError, "same length"),
    (lambda x: x.rot90(1, (1, 1)), ValueError, "dims must differ"),
    (lambda x: x.trace(), ValueError, r"trace: expected a 2-D tensor, got shape \(2, 3, 4\)"),
    (lambda x: x.diag(), ValueError, "diag: expected a 1-D or 2-D tensor"),
    (lambda x: x.masked_select(np.ones((2, 3, 4))), TypeError, "mask must be boolean"),
    (lambda x: tc.meshgrid(x), ValueError, "must be 0-D or 1-D"),
])
def test_bad_input_is_refused_by_name(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(Tensor(np.zeros((2, 3, 4))))


# ------------------------------------------------------------------ remainder, fmod, atan2, scatter, cumprod
def _loops(f, *arrays):
    out = np.empty(np.broadcast_shapes(*[a.shape for a in arrays]))
    bs = np.broadcast_arrays(*arrays)
    for idx in np.ndindex(out.shape):
        out[idx] = f(*[float(b[idx]) for b in bs])
    return out


@pytest.mark.parametrize("name, scalar", [
    ("remainder", lambda a, b: a - math.floor(a / b) * b),
    ("fmod", lambda a, b: math.fmod(a, b)),
    ("atan2", math.atan2),
])
def test_binary_functions_against_the_loops_gradcheck_and_pytorch(name, scalar):
    rng = np.random.default_rng(4)
    a = rng.uniform(-5, 5, (3, 4))
    b = rng.uniform(1.2, 3.0, (1, 4)) * np.where(rng.random((1, 4)) < 0.5, -1, 1)
    a = np.where(np.abs(a / b - np.round(a / b)) < 0.05, a + 0.3, a)  # off the jumps of the remainder
    assert_close(getattr(tc, name)(Tensor(a), Tensor(b)).data, _loops(scalar, a, b), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, y: getattr(tc, name)(x, y), [Tensor(np.array(a), requires_grad=True),
                                                           Tensor(np.array(b), requires_grad=True)])
    torch = pytest.importorskip("torch")
    x, y = Tensor(a.copy(), requires_grad=True), Tensor(b.copy(), requires_grad=True)
    tx, ty = torch.from_numpy(a.copy()).requires_grad_(True), torch.from_numpy(b.copy()).requires_grad_(True)
    out, tout = getattr(tc, name)(x, y), getattr(torch, name)(tx, ty)
    g = random_grad(out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_close(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_close(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_close(y.grad.data, ty.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_modulo_operator_follows_pythons_sign():
    assert (Tensor(np.array([5.0, -5.0])) % 3).data.tolist() == [2.0, 1.0]
    assert (7 % Tensor(np.array([3.0, -3.0]))).data.tolist() == [1.0, -2.0]


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
def test_scatter_against_the_loops_gradcheck_and_pytorch(op):
    rng = np.random.default_rng(5)
    x, src = rng.standard_normal((3, 5)), rng.standard_normal((2, 6))
    index = np.array([[0, 1, 2, 0, 1], [2, 0, 1, 1, 0]])
    expected = x.copy()
    for i, j in np.ndindex(index.shape):
        if op == "scatter":
            expected[index[i, j], j] = src[i, j]
        else:
            expected[index[i, j], j] += src[i, j]
    out = getattr(Tensor(x), op)(0, tc.tensor(index), Tensor(src))
    assert_close(out.data, expected, rtol=0, atol=1e-15)
    assert gradcheck(lambda a, b: getattr(a, op)(0, tc.tensor(index), b),
                     [Tensor(np.array(x), requires_grad=True), Tensor(np.array(src), requires_grad=True)])
    torch = pytest.importorskip("torch")
    src = np.ascontiguousarray(src[:, :5])  # PyTorch's backward needs src no larger than index (ours pads with 0)
    a, b = Tensor(x.copy(), requires_grad=True), Tensor(src.copy(), requires_grad=True)
    ta, tb = torch.from_numpy(x.copy()).requires_grad_(True), torch.from_numpy(src.copy()).requires_grad_(True)
    out, tout = getattr(a, op)(0, tc.tensor(index), b), getattr(ta, op)(0, torch.from_numpy(index), tb)
    g = random_grad(out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_close(a.grad.data, ta.grad.numpy(), rtol=0, atol=0)
    assert_close(b.grad.data, tb.grad.numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("x", [np.random.default_rng(6).uniform(0.5, 1.5, (3, 5)),
                               np.array([[1.0, 0.0, 2.0, 3.0], [0.0, 0.0, 1.0, 2.0], [2.0, 3.0, 4.0, 0.5]])],
                         ids=["no-zeros", "zeros"])
def test_cumprod_against_the_loops_gradcheck_and_pytorch(x):
    expected = np.array([[np.prod(row[:i + 1]) for i in range(len(row))] for row in x])
    assert_close(Tensor(x).cumprod(1).data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: t.cumprod(1), [Tensor(np.array(x), requires_grad=True)])
    torch = pytest.importorskip("torch")
    a, ta = Tensor(x.copy(), requires_grad=True), torch.from_numpy(x.copy()).requires_grad_(True)
    out, tout = a.cumprod(1), ta.cumprod(1)
    g = random_grad(out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_close(a.grad.data, ta.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda x: x.scatter(0, tc.tensor([[3]]), x), ValueError, r"index values must lie in \[0, 1\]"),
    (lambda x: x.scatter(0, tc.tensor([0]), x), ValueError, "must have the 2 dimensions"),
    (lambda x: x.scatter(0, tc.tensor([[0]]), x, reduce="multiply"), ValueError, "reduce='multiply' is not supported"),
    (lambda x: x.scatter(0, tc.tensor([[0]])), TypeError, "give src"),
    (lambda x: x.scatter(0, tc.tensor([[0.5]]), x), TypeError, "index must be an integer tensor"),
    (lambda x: x.cumprod(3), ValueError, "out of range"),
])
def test_scatter_and_cumprod_bad_input(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(Tensor(np.zeros((2, 3))))
