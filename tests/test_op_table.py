"""Every row of ``op_cases.CASES`` through the same five checks.

1. forward against the naive reference, float64, tight tolerance;
2. float64 gradcheck (central differences against a random upstream gradient);
3. forward and backward against PyTorch (skipped cleanly without torch);
4. a non-contiguous input gives exactly what its contiguous copy gives;
5. each bad input raises its TypeError/ValueError naming the argument.

The checks are plain functions, so the negative control at the end can run
them on a deliberately wrong op and see them fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn import Function, GradcheckError, Tensor, gradcheck
from helpers import random_grad
from op_cases import CASES, OpCase

FEW = settings(max_examples=8, deadline=None)


def _leaves(arrays):
    """Fresh differentiable copies (gradcheck nudges its inputs in place)."""
    return [Tensor(np.array(a), requires_grad=True) for a in arrays]


def check_forward(case: OpCase, arrays, params) -> None:
    out = case.call(*[Tensor(a) for a in arrays], **params)
    expected = np.asarray(case.reference(*arrays, **params), dtype=np.float64)
    assert out.shape == expected.shape, f"{case.name}: shape {out.shape} != reference {expected.shape}"
    np.testing.assert_allclose(out.data, expected, rtol=case.rtol, atol=1e-12)


def check_gradcheck(case: OpCase, arrays, params) -> None:
    assert gradcheck(lambda *t: case.call(*t, **params), _leaves(arrays))


def check_torch(case: OpCase, torch, arrays, params) -> None:
    ours = _leaves(arrays)
    out = case.call(*ours, **params)
    theirs = [torch.tensor(np.array(a, order="C"), requires_grad=True) for a in arrays]
    expected = case.torch(torch, *theirs, **params)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = random_grad(out.shape)
    out.backward(g)
    expected.backward(torch.from_numpy(np.asarray(g)).reshape(expected.shape))
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.data, other.grad.numpy(), rtol=case.torch_grad_rtol, atol=1e-12)


def check_noncontiguous(case: OpCase, arrays, params) -> None:
    def run(inputs):
        leaves = [Tensor(a, requires_grad=True) for a in inputs]  # the views themselves, not copies
        out = case.call(*leaves, **params)
        out.backward(random_grad(out.shape))
        return out.data, [t.grad.data for t in leaves]

    out, grads = run(arrays)
    out_c, grads_c = run([np.ascontiguousarray(a) for a in arrays])
    # numpy may sum a strided view in another order: equal up to the last bits
    np.testing.assert_allclose(out, out_c, rtol=1e-13, atol=1e-15)
    for g, g_c in zip(grads, grads_c):
        np.testing.assert_allclose(g, g_c, rtol=1e-13, atol=1e-15)


def _draw(data, case, contiguous=None):
    return case.inputs(data.draw, contiguous)


@pytest.mark.parametrize("case", CASES, ids=repr)
@FEW
@given(st.data())
def test_forward_matches_reference(case, data):
    check_forward(case, *_draw(data, case))


@pytest.mark.parametrize("case", CASES, ids=repr)
@FEW
@given(st.data())
def test_gradcheck(case, data):
    check_gradcheck(case, *_draw(data, case))


@pytest.mark.parametrize("case", [c for c in CASES if c.torch is not None], ids=repr)
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


BAD = [(case, i) for case in CASES for i in range(len(case.bad))]


@pytest.mark.parametrize("case, i", BAD, ids=[f"{c.name}-{i}" for c, i in BAD])
def test_bad_input(case, i):
    thunk, exc, pattern = case.bad[i]
    with pytest.raises(exc, match=pattern):
        thunk()


def test_every_family_has_a_row():
    assert {c.family for c in CASES} >= {"conv", "pool", "vec", "activation", "loss", "elementwise", "reduce",
                                         "movement", "dropout", "normalization", "shape", "linear"}


# --------------------------------------------------------------- negative control
class _WrongTanhBackward(Function):
    """tanh with the derivative's sign flipped: forward right, backward wrong."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad * (1 - a * a)


WRONG = OpCase("wrong_tanh", "activation", call=_WrongTanhBackward.apply, reference=np.tanh,
               inputs=lambda draw, contiguous: ([np.linspace(-1.5, 1.5, 6).reshape(2, 3)], {}),
               torch=lambda torch, x: torch.tanh(x))


def test_the_checks_catch_a_wrong_backward():
    """The forward check passes (the forward is right) while gradcheck and PyTorch both fail."""
    arrays, params = WRONG.inputs(None, True)
    check_forward(WRONG, arrays, params)
    with pytest.raises(GradcheckError):
        check_gradcheck(WRONG, arrays, params)
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError):
        check_torch(WRONG, torch, arrays, params)


def test_no_argument_checks_inside_forward():
    """Validation happens before a Function runs (in functional, _checks or an ``apply``): no forward
    raises a ValueError or TypeError of its own."""
    import inspect

    from tinygrad_cnn.ops import (activation, activation_extra, conv, dropout, elementwise, linear, loss, movement,
                                  normalization, pool, reduce, shape, vec)

    for module in (activation, activation_extra, conv, dropout, elementwise, linear, loss, movement, normalization,
                   pool, reduce, shape, vec):
        for name, obj in vars(module).items():
            if isinstance(obj, type) and issubclass(obj, Function) and "forward" in vars(obj):
                source = inspect.getsource(obj.forward)
                assert "raise ValueError" not in source and "raise TypeError" not in source, f"{name}.forward"
