"""sin, cos, tan, log1p, expm1, log2, log10, exp2, rsqrt, reciprocal, erf, the step functions
(sign, floor, ceil, round, trunc), logsumexp, prod, tril/triu, outer, dot and bmm.

Their op-table rows (forward against a naive reference in float64, float64 gradcheck with a
random upstream gradient, PyTorch forward and backward, non-contiguous input) are in
``op_cases_unary.py``; here, what the table does not cover.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from helpers import random_grad
from op_cases import OpCase
from op_cases_unary import STEPS
from test_op_table import check_forward, check_gradcheck

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
