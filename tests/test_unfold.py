"""F.unfold (im2col) and F.fold (col2im), each the other's adjoint and backward: against the
naive loops, float64 gradcheck, PyTorch bit for bit in float32, the layers, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck, nn
from tinygrad_cnn.kernels.unfold import fold_reference, unfold_reference
from helpers import arrays, assert_close, random_grad

FEW = settings(max_examples=15, deadline=None)


@st.composite
def window_case(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    h = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 7))
    w = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 7))
    x = draw(arrays((draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)))
    return x, dict(kernel_size=k, dilation=d, padding=p, stride=s)


def _geometry(params):
    return params["kernel_size"], params["stride"], params["dilation"], params["padding"]


@FEW
@given(case=window_case())
def test_unfold_and_fold_against_the_loops(case):
    x, params = case
    cols = F.unfold(Tensor(x), **params)
    np.testing.assert_array_equal(cols.data, unfold_reference(x, *_geometry(params)))
    g = random_grad(cols.shape)
    back = F.fold(Tensor(g), x.shape[2:], **params)
    assert_close(back.data, fold_reference(g, x.shape[2:], *_geometry(params)), rtol=1e-13, atol=1e-13)
    # the adjoint pair: <unfold(x), g> = <x, fold(g)>
    assert np.isclose(np.vdot(cols.data, g), np.vdot(x, back.data), rtol=1e-12, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(case=window_case())
def test_gradcheck_both(case):
    x, params = case
    assert gradcheck(lambda t: F.unfold(t, **params), [Tensor(np.array(x), requires_grad=True)])
    cols = F.unfold(Tensor(x), **params)
    c = np.random.default_rng(0).standard_normal(cols.shape)
    assert gradcheck(lambda t: F.fold(t, x.shape[2:], **params), [Tensor(c, requires_grad=True)])


@FEW
@given(case=window_case())
def test_pytorch_bit_for_bit_in_float32(case):
    torch = pytest.importorskip("torch")
    x, params = case
    x = x.astype(np.float32)
    leaf, tx = Tensor(x, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_(True)
    cols = F.unfold(leaf, **params)
    tcols = torch.nn.functional.unfold(tx, **params)
    g = random_grad(cols.shape, np.float32)
    cols.backward(g)
    tcols.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(cols.data, tcols.detach().numpy())
    np.testing.assert_array_equal(leaf.grad.data, tx.grad.numpy())  # fold adds in col2im's order
    np.testing.assert_array_equal(F.fold(Tensor(g), x.shape[2:], **params).data,
                                  torch.nn.functional.fold(torch.from_numpy(g), x.shape[2:], **params).numpy())


def test_unbatched_and_layers():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 5, 4))
    assert F.unfold(Tensor(x), 2).shape == (12, 12)
    assert F.fold(F.unfold(Tensor(x), 2), (5, 4), 2).shape == (3, 5, 4)
    for ours, theirs in ((nn.Unfold(2, padding=1), torch.nn.Unfold(2, padding=1)),
                         (nn.Fold((4, 5), (2, 3), stride=2), torch.nn.Fold((4, 5), (2, 3), stride=2))):
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: F.unfold(Tensor(np.zeros((1, 2, 3, 3))), 4), ValueError, "does not fit|larger"),
    (lambda: F.unfold(Tensor(np.zeros((2, 3))), 2), ValueError, r"unfold: x must be \(N, C, H, W\) or \(C, H, W\)"),
    (lambda: F.fold(Tensor(np.zeros((1, 5, 4))), (3, 3), 2), ValueError, "divisible by kh·kw = 4"),
    (lambda: F.fold(Tensor(np.zeros((1, 8, 3))), (3, 3), 2), ValueError, r"holds 3 windows but output_size \(3, 3\)"),
    (lambda: F.unfold(Tensor(np.zeros((1, 2, 3, 3))), 2, padding=-1), ValueError, "padding must be >= 0|padding"),
    (lambda: F.unfold(Tensor(np.zeros((1, 2, 3, 3))), 2.5), TypeError, "kernel_size must be an int"),
])
def test_bad_input_is_refused_by_name(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
