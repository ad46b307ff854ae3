"""sin, cos, tan, log1p, expm1, log2, log10, exp2, rsqrt, reciprocal, erf, the step functions
(sign, floor, ceil, round, trunc), logsumexp, prod, tril/triu, outer, dot and bmm.

Each runs through the op table's checks (``test_op_table``): forward against a naive
reference in float64, float64 gradcheck with a random upstream gradient, PyTorch forward
and backward, non-contiguous input, bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.unary import unary_reference
from helpers import arrays, random_grad, shapes
from op_cases import OpCase
from test_op_table import check_forward, check_gradcheck, check_noncontiguous, check_torch

FEW = settings(max_examples=8, deadline=None)

#: the domain each function is drawn from (away from poles and jumps, where central
#: differences cannot see the derivative)
DOMAINS = {"sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "log1p": (-0.5, 3), "expm1": (-2, 2),
           "log2": (0.2, 3), "log10": (0.2, 3), "exp2": (-2, 2), "rsqrt": (0.2, 3), "reciprocal": (0.3, 3),
           "erf": (-2, 2)}
STEPS = ("sign", "floor", "ceil", "round", "trunc")


def _unary_inputs(name):
    low, high = DOMAINS.get(name, (-3, 3))

    def inputs(draw, contiguous):
        x = draw(arrays(draw(shapes(min_dims=0, max_dims=3)), low=low, high=high, contiguous=contiguous))
        if name in STEPS:  # keep clear of the jumps (and of round's halves)
            x = np.where(np.abs(x - np.round(x)) < 0.05, x + 0.2, x)
            x = np.where(np.abs(x - np.round(x * 2) / 2) < 0.05, x + 0.1, x)
        return [x], {}
    return inputs


def _reduce_inputs(draw, contiguous):
    shape = draw(shapes(min_dims=1, max_dims=3))
    x = draw(arrays(shape, low=0.5, high=1.5, contiguous=contiguous))
    if draw(st.booleans()):  # zeros: the product of the others, not 0/0
        x = x.copy()
        x.flat[draw(st.integers(0, x.size - 1))] = 0.0
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return [x], dict(dim=dim, keepdim=draw(st.booleans()))


def _prod_reference(x, dim, keepdim):
    out = np.ones(np.delete(np.array(x.shape), dim % x.ndim))
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), dim, -1)
    for idx in np.ndindex(out.shape):
        p = 1.0
        for v in moved[idx]:
            p *= float(v)
        out[idx] = p
    return np.expand_dims(out, dim % x.ndim) if keepdim else out


def _logsumexp_reference(x, dim, keepdim):
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), dim, -1)
    out = np.empty(moved.shape[:-1])
    for idx in np.ndindex(out.shape):
        m = max(float(v) for v in moved[idx])
        out[idx] = m + math.log(sum(math.exp(float(v) - m) for v in moved[idx]))
    return np.expand_dims(out, dim % x.ndim) if keepdim else out


def _triangle_inputs(draw, contiguous):
    shape = draw(shapes(min_dims=2, max_dims=3))
    return [draw(arrays(shape, contiguous=contiguous))], dict(diagonal=draw(st.integers(-2, 2)))


def _triangle_reference(upper):
    def reference(x, diagonal):
        out = np.array(x, dtype=np.float64)
        for idx in np.ndindex(out.shape):
            i, j = idx[-2:]
            if (j - i < diagonal) if upper else (j - i > diagonal):
                out[idx] = 0.0
        return out
    return reference


def _pair_inputs(kind):
    def inputs(draw, contiguous):
        n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        if kind == "outer":
            return [draw(arrays((n,), contiguous=contiguous)), draw(arrays((m,), contiguous=contiguous))], {}
        if kind == "dot":
            return [draw(arrays((n,), contiguous=contiguous)), draw(arrays((n,), contiguous=contiguous))], {}
        b, p = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return [draw(arrays((b, n, m), contiguous=contiguous)), draw(arrays((b, m, p), contiguous=contiguous))], {}
    return inputs


def _loops_bmm(a, b):
    out = np.zeros((a.shape[0], a.shape[1], b.shape[2]))
    for k in range(a.shape[0]):
        for i in range(a.shape[1]):
            for j in range(b.shape[2]):
                out[k, i, j] = sum(float(a[k, i, t]) * float(b[k, t, j]) for t in range(a.shape[2]))
    return out


CASES = (
    [OpCase(name, "unary", call=getattr(tc, name), reference=lambda x, name=name: unary_reference(name, x),
            inputs=_unary_inputs(name), torch=lambda torch, x, name=name: getattr(torch, name)(x))
     for name in list(DOMAINS) + list(STEPS)]
    + [OpCase("prod", "reduce", call=lambda x, dim, keepdim: tc.prod(x, dim, keepdim), reference=_prod_reference,
              inputs=_reduce_inputs, torch=lambda torch, x, dim, keepdim: torch.prod(x, dim, keepdim)),
       OpCase("logsumexp", "reduce", call=lambda x, dim, keepdim: tc.logsumexp(x, dim, keepdim),
              reference=_logsumexp_reference, inputs=_reduce_inputs,
              torch=lambda torch, x, dim, keepdim: torch.logsumexp(x, dim, keepdim)),
       OpCase("tril", "shape", call=lambda x, diagonal: tc.tril(x, diagonal), reference=_triangle_reference(False),
              inputs=_triangle_inputs, torch=lambda torch, x, diagonal: torch.tril(x, diagonal)),
       OpCase("triu", "shape", call=lambda x, diagonal: tc.triu(x, diagonal), reference=_triangle_reference(True),
              inputs=_triangle_inputs, torch=lambda torch, x, diagonal: torch.triu(x, diagonal)),
       OpCase("outer", "linear", call=tc.outer, reference=lambda a, b: np.array([[x * y for y in b] for x in a]),
              inputs=_pair_inputs("outer"), torch=lambda torch, a, b: torch.outer(a, b)),
       OpCase("dot", "linear", call=tc.dot, reference=lambda a, b: np.float64(sum(float(x) * float(y) for x, y in zip(a, b))),
              inputs=_pair_inputs("dot"), torch=lambda torch, a, b: torch.dot(a, b)),
       OpCase("bmm", "linear", call=tc.bmm, reference=_loops_bmm, inputs=_pair_inputs("bmm"),
              torch=lambda torch, a, b: torch.bmm(a, b))]
)


def _draw(data, case, contiguous=None):
    return case.inputs(data.draw, contiguous)


@pytest.mark.parametrize("case", CASES, ids=repr)
@FEW
@given(st.data())
def test_forward_matches_reference(case, data):
    check_forward(case, *_draw(data, case))


@pytest.mark.parametrize("case", [c for c in CASES if c.name not in STEPS], ids=repr)
@FEW
@given(st.data())
def test_gradcheck(case, data):
    check_gradcheck(case, *_draw(data, case))


@pytest.mark.parametrize("case", CASES, ids=repr)
@FEW
@given(st.data())
def test_against_torch(case, data):
    torch = pytest.importorskip("torch")
    check_torch(case, torch, *_draw(data, case))


@pytest.mark.parametrize("case", CASES, ids=repr)
@FEW
@given(st.data())
def test_noncontiguous_input(case, data):
    check_noncontiguous(case, *_draw(data, case, contiguous=False))


@pytest.mark.parametrize("name", STEPS)
def test_step_functions_pass_zero_gradient_and_keep_integers(name):
    x = Tensor(np.array([-1.7, -0.2, 0.0, 0.4, 2.5]), requires_grad=True)
    y = getattr(tc, name)(x)
    y.backward(random_grad(y.shape))
    assert np.array_equal(x.grad.data, np.zeros(5))
    ints = tc.tensor([-2, 0, 3])
    out = getattr(ints, name)()
    assert out.dtype == np.int64 and out.data.tolist() == ([-1, 0, 1] if name == "sign" else [-2, 0, 3])


def test_prod_with_zeros_gives_the_product_of_the_others():
    x = Tensor(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]]), requires_grad=True)
    x.prod(1).backward(np.array([1.0, 1.0]))
    assert x.grad.data.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]]
    y = Tensor(np.array([2.0, 0.0, 3.0]), requires_grad=True)
    tc.prod(y).backward()
    assert y.grad.data.tolist() == [0.0, 6.0, 0.0]


def test_logsumexp_does_not_overflow_and_handles_all_minus_infinity():
    x = Tensor(np.array([[1000.0, 1000.0], [-np.inf, -np.inf]]), requires_grad=True)
    y = x.logsumexp(1)
    assert y.data[0] == 1000.0 + math.log(2.0) and y.data[1] == -np.inf
    y[0].backward()
    assert np.allclose(x.grad.data[0], [0.5, 0.5], rtol=1e-12, atol=0)


def test_round_decimals_and_half_to_even():
    assert tc.round(tc.tensor([0.5, 1.5, 2.5, -0.5], dtype=tc.float64)).data.tolist() == [0.0, 2.0, 2.0, -0.0]
    assert tc.round(tc.tensor([1.2345, 2.5551], dtype=tc.float64), decimals=2).data.tolist() == [1.23, 2.56]


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match=r"outer: input and vec2 must be 1-D, got shapes \(2, 2\) and \(3,\)"):
        tc.outer(tc.zeros(2, 2), tc.zeros(3))
    with pytest.raises(ValueError, match=r"dot: .* got shapes \(2,\) and \(3,\)"):
        tc.dot(tc.zeros(2), tc.zeros(3))
    with pytest.raises(ValueError, match=r"bmm: expected \(b, n, m\) and \(b, m, p\) tensors, got shapes \(2, 3, 4\) and \(2, 5, 1\)"):
        tc.bmm(tc.zeros(2, 3, 4), tc.zeros(2, 5, 1))
    with pytest.raises(ValueError, match=r"triu: input must have at least 2 dimensions, got shape \(3,\)"):
        tc.triu(tc.zeros(3))
    with pytest.raises(TypeError, match="prod: dim must be an int or None"):
        tc.zeros(2, 3).prod((0, 1))
    with pytest.raises(ValueError, match="logsumexp: .*out of range"):
        tc.zeros(2, 3).logsumexp(2)
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        tc.zeros(2).round(decimals=1.5)


def test_the_checks_catch_a_wrong_derivative():
    """Negative control: cos's rule given to sin fails gradcheck and PyTorch."""
    from tinygrad_cnn import Function, GradcheckError

    class WrongSin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * -np.sin(x)

    wrong = OpCase("wrong_sin", "unary", call=WrongSin.apply, reference=np.sin,
                   inputs=lambda draw, contiguous: ([np.linspace(-1.5, 1.5, 6)], {}),
                   torch=lambda torch, x: torch.sin(x))
    arrays_, params = wrong.inputs(None, True)
    check_forward(wrong, arrays_, params)
    with pytest.raises(GradcheckError):
        check_gradcheck(wrong, arrays_, params)
