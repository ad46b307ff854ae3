"""Conv1d, ConvTranspose1d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d: the 2-D
kernels on one row, against the naive loops, float64 gradcheck, PyTorch's layers (values,
every gradient, reprs), unbatched input and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck, nn
from tinygrad_cnn.kernels.conv_reference import conv2d_reference, conv_transpose2d_reference
from helpers import assert_close, random_grad

FEW = settings(max_examples=10, deadline=None)


@st.composite
def conv1d_case(draw):
    g = draw(st.integers(1, 2))
    c, o = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    p = draw(st.integers(0, 2))
    length = draw(st.integers(d * (k - 1) + 1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x, w = rng.standard_normal((2, c, length)), rng.standard_normal((o, c // g, k))
    b = rng.standard_normal(o) if draw(st.booleans()) else None
    return x, w, b, dict(stride=s, padding=p, dilation=d, groups=g)


@FEW
@given(case=conv1d_case())
def test_conv1d_against_the_loops_and_gradcheck(case):
    x, w, b, p = case
    y = F.conv1d(Tensor(x), Tensor(w), None if b is None else Tensor(b), **p)
    ref = conv2d_reference(x[:, :, None], w[:, :, None], b, (1, p["stride"]), (0, p["padding"]),
                           dilation=(1, p["dilation"]), groups=p["groups"])[:, :, 0]
    assert_close(y.data, ref, rtol=1e-12, atol=1e-12)
    leaves = [Tensor(np.array(a), requires_grad=True) for a in (x, w) + (() if b is None else (b,))]
    assert gradcheck(lambda *t: F.conv1d(t[0], t[1], t[2] if len(t) > 2 else None, **p), leaves)


@FEW
@given(case=conv1d_case(), out_per_group=st.integers(1, 2), extra=st.integers(0, 1))
def test_conv_transpose1d_against_the_loops(case, out_per_group, extra):
    x, _, b, p = case
    s, d, g = p["stride"], p["dilation"], p["groups"]
    extra = min(extra, max(s, d) - 1)
    rng = np.random.default_rng(1)
    w = rng.standard_normal((x.shape[1], out_per_group, 3))
    b = rng.standard_normal(out_per_group * g) if b is not None else None
    y = F.conv_transpose1d(Tensor(x), Tensor(w), None if b is None else Tensor(b), s, 0, extra, g, d)
    ref = conv_transpose2d_reference(x[:, :, None], w[:, :, None], b, (1, s), (0, 0), (0, extra), g, (1, d))[:, :, 0]
    assert_close(y.data, ref, rtol=1e-12, atol=1e-12)


def _pair(cls, *args, **kwargs):
    torch = pytest.importorskip("torch")
    ours = getattr(nn, cls)(*args, **kwargs).double()
    theirs = getattr(torch.nn, cls)(*args, **kwargs).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.data))
    return torch, ours, theirs


LAYERS = [
    ("Conv1d", (4, 6, 3), {}),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
    ("Conv1d", (4, 6, 4), dict(padding="same")),
    ("Conv1d", (4, 6, 3), dict(padding=2, padding_mode="reflect")),
    ("Conv1d", (4, 6, 4), dict(padding="same", padding_mode="circular", dilation=2)),
    ("Conv1d", (4, 6, 3), dict(padding=1, padding_mode="replicate")),
    ("ConvTranspose1d", (4, 6, 3), {}),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("MaxPool1d", (2,), {}),
    ("MaxPool1d", (3, 2, 1, 2, True, True), {}),
    ("AvgPool1d", (2,), {}),
    ("AvgPool1d", (3, 2, 1, True, False), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveMaxPool1d", (4, True), {}),
]


@pytest.mark.parametrize("cls, args, kwargs", LAYERS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(LAYERS)])
def test_layers_match_pytorchs(cls, args, kwargs):
    torch, ours, theirs = _pair(cls, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(5)
    for shape in ((2, 4, 11), (4, 11)):  # batched and not
        x = rng.standard_normal(shape)
        leaf = Tensor(x, requires_grad=True)
        tx = torch.from_numpy(x.copy()).requires_grad_(True)
        y, ty = ours(leaf), theirs(tx)
        if isinstance(y, tuple):
            np.testing.assert_array_equal(y[1].data, ty[1].numpy())
            y, ty = y[0], ty[0]
        g = random_grad(y.shape, seed=6)
        y.backward(g)
        ty.backward(torch.from_numpy(g))
        assert_close(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-13)
        assert_close(leaf.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-13)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert_close(p.grad.data, q.grad.numpy(), rtol=1e-12, atol=1e-13)
            p.grad = None
            q.grad = None


def test_initialisation_bounds():
    conv = nn.Conv1d(4, 6, 3, groups=2)
    assert conv.weight.shape == (6, 2, 3) and np.abs(conv.weight.data).max() <= 1 / np.sqrt(2 * 3)
    up = nn.ConvTranspose1d(4, 6, 3, groups=2)
    assert up.weight.shape == (4, 3, 3) and np.abs(up.weight.data).max() <= 1 / np.sqrt(3 * 3)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: F.conv1d(Tensor(np.zeros((1, 2, 3, 4))), Tensor(np.zeros((2, 2, 3)))), ValueError,
     r"conv1d: x must be \(N, C, L\) or \(C, L\), got 4-D shape \(1, 2, 3, 4\)"),
    (lambda: F.conv1d(Tensor(np.zeros((1, 2, 8))), Tensor(np.zeros((2, 2, 3, 3)))), ValueError,
     r"conv1d: weight must be \(O, C/groups, k\), got shape \(2, 2, 3, 3\)"),
    (lambda: F.conv1d(Tensor(np.zeros((1, 2, 8))), Tensor(np.zeros((2, 2, 3))), stride=(1, 2)), ValueError,
     r"conv1d: stride must be an int or a tuple of one int, got \(1, 2\)"),
    (lambda: F.max_pool1d(Tensor(np.zeros((1, 2, 8))), 2.5), TypeError, "max_pool1d: kernel_size must be an int"),
    (lambda: F.avg_pool1d(Tensor(np.zeros((1, 2, 8))), 2, padding=-1), ValueError, r"avg_pool1d: padding must lie in \[0"),
    (lambda: nn.Conv1d(2, 2, (3, 3)), ValueError, "kernel_size must be an int or a tuple of one int"),
    (lambda: nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect"), ValueError, "padding_mode must be one of 'zeros'"),
])
def test_bad_input_is_refused_by_name(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
