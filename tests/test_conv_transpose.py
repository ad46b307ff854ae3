"""F.conv_transpose2d and nn.ConvTranspose2d: the adjoint of the convolution (its dA rule as a
forward pass), against the naive scatter loops, float64 gradcheck, PyTorch (every path of the
correlation engine), non-contiguous input, bad input, the layer, and export."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck, kernels as K, nn
from tinygrad_cnn.kernels.conv_reference import conv_transpose2d_reference
from helpers import arrays, assert_close, random_grad

FEW = settings(max_examples=12, deadline=None)
PATHS = list(K.PATHS) if hasattr(K, "PATHS") else ["taps", "im2col", "scatter", "batch", "winograd"]


@st.composite
def transpose_case(draw, contiguous=None):
    g = draw(st.integers(1, 2))
    c, og = g * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    out = [(n - 1) * s - 2 * p + d * (kk - 1) + e + 1
           for n, s, p, d, kk, e in zip((h, w), stride, padding, dilation, k, extra)]
    if min(out) < 1:
        padding = (0, 0)
    x = draw(arrays((draw(st.integers(1, 2)), c, h, w), contiguous=contiguous))
    weight = draw(arrays((c, og) + k, contiguous=contiguous))
    bias = draw(arrays((og * g,))) if draw(st.booleans()) else None
    return x, weight, bias, dict(stride=stride, padding=padding, output_padding=extra, groups=g, dilation=dilation)


def _ours(x, weight, bias, params, g=None):
    leaves = [Tensor(np.array(a), requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    y = F.conv_transpose2d(*leaves[:2], leaves[2] if bias is not None else None, **params)
    if g is not None:
        y.backward(g)
    return y, leaves


@FEW
@given(case=transpose_case())
def test_forward_matches_the_scatter_loops(case):
    x, weight, bias, params = case
    y, _ = _ours(x, weight, bias, params)
    assert_close(y.data, conv_transpose2d_reference(x, weight, bias, **params), rtol=1e-12, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(case=transpose_case())
def test_gradcheck(case):
    x, weight, bias, params = case
    leaves = [Tensor(np.array(a), requires_grad=True) for a in (x, weight) + (() if bias is None else (bias,))]
    assert gradcheck(lambda *t: F.conv_transpose2d(t[0], t[1], t[2] if len(t) > 2 else None, **params), leaves)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=8, deadline=None)
@given(case=transpose_case())
def test_against_pytorch_on_every_path(path, case):
    torch = pytest.importorskip("torch")
    x, weight, bias, params = case
    with K.force_path(path):
        y, leaves = _ours(x, weight, bias, params)
        g = random_grad(y.shape)
        y.backward(g)
    theirs = [torch.from_numpy(np.array(a)).requires_grad_(True) for a in (x, weight) + (() if bias is None else (bias,))]
    ty = torch.nn.functional.conv_transpose2d(theirs[0], theirs[1], theirs[2] if bias is not None else None,
                                              params["stride"], params["padding"], params["output_padding"],
                                              params["groups"], params["dilation"])
    ty.backward(torch.from_numpy(g))
    assert_close(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, other in zip(leaves, theirs):
        assert_close(mine.grad.data, other.grad.numpy(), rtol=1e-10, atol=1e-12)


@FEW
@given(case=transpose_case(contiguous=False))
def test_noncontiguous_input_gives_the_same(case):
    x, weight, bias, params = case
    g = None
    y, leaves = _ours(x, weight, bias, params)
    g = random_grad(y.shape)
    y.backward(g)
    y_c, leaves_c = _ours(*(np.ascontiguousarray(a) if a is not None else None for a in (x, weight, bias)), params, g)
    assert_close(y.data, y_c.data, rtol=1e-13, atol=1e-14)
    for a, b in zip(leaves, leaves_c):
        assert_close(a.grad.data, b.grad.data, rtol=1e-13, atol=1e-14)


def test_it_is_the_adjoint_of_the_convolution():
    """<conv2d(v, W), x> = <v, conv_transpose2d(x, W)> for every v and x: the defining property."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 2))
    v = rng.standard_normal((2, 3, 9, 8))
    z = F.conv2d(Tensor(v), Tensor(w), stride=2, padding=1, dilation=(1, 2)).data
    x = rng.standard_normal(z.shape)
    extra = (9 - ((z.shape[2] - 1) * 2 - 2 + 2 + 1), 8 - ((z.shape[3] - 1) * 2 - 2 + 2 * 1 + 1))
    y = F.conv_transpose2d(Tensor(x), Tensor(w), stride=2, padding=1, dilation=(1, 2), output_padding=extra).data
    assert y.shape == v.shape
    assert np.isclose(np.vdot(z, x), np.vdot(v, y), rtol=1e-12)


def test_float32_and_unbatched_input():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((3, 4, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv_transpose2d(x, w, stride=2)
    assert y.shape == (2, 9, 9) and y.dtype == np.float32
    y.backward(random_grad(y.shape, np.float32))
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda x, w: F.conv_transpose2d(x, Tensor(np.zeros((2, 2, 3, 3)))), ValueError,
     r"weight \(2, 2, 3, 3\) expects 2 input channels but x \(1, 3, 4, 4\) has 3"),
    (lambda x, w: F.conv_transpose2d(x, w, groups=2), ValueError, r"groups=2 must divide the input channels \(3\)"),
    (lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=2), ValueError,
     r"output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the dilation \(1, 1\)"),
    (lambda x, w: F.conv_transpose2d(x, w, Tensor(np.zeros(3))), ValueError, r"bias must have shape \(2,\)"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=4), ValueError, "leaves an output of size"),
    (lambda x, w: F.conv_transpose2d(x, w, stride=2 ** 40), ValueError, "stride must lie in|stride must be <="),
    (lambda x, w: F.conv_transpose2d(x, w, stride=(2 ** 20, 2 ** 20)), ValueError, "elements|at most"),
    (lambda x, w: F.conv_transpose2d(x, Tensor(np.zeros((3, 2, 3, 3), np.float32))), TypeError, "float32"),
    (lambda x, w: F.conv_transpose2d(Tensor(np.zeros((4, 4))), w), ValueError, r"x must be \(N, C_in, H, W\)"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=-1), ValueError, "padding must be >= 0"),
])
def test_bad_input_is_refused_by_name(call, exc, pattern):
    x, w = Tensor(np.zeros((1, 3, 4, 4))), Tensor(np.zeros((3, 2, 3, 3)))
    with pytest.raises(exc, match=pattern):
        call(x, w)


def test_layer_matches_pytorchs():
    torch = pytest.importorskip("torch")
    kwargs = dict(stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2)
    ours, theirs = nn.ConvTranspose2d(4, 6, 3, **kwargs), torch.nn.ConvTranspose2d(4, 6, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.weight.shape == tuple(theirs.weight.shape) == (4, 3, 3, 3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    layer = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    assert np.abs(layer.weight.data).max() <= 1 / np.sqrt(2 * 9) and np.abs(layer.bias.data).max() <= 1 / np.sqrt(2 * 9)
    t = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(layer.weight.data))
        t.bias.copy_(torch.from_numpy(layer.bias.data))
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 5))
    for size in (None, (9, 9), (10, 10), (1, 2, 10, 9)):
        y = layer(Tensor(x), output_size=size)
        ty = t(torch.from_numpy(x), output_size=size)
        assert_close(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"output_size \(11, 11\) is not reachable.*\[9, 10\]"):
        layer(Tensor(x), output_size=(11, 11))
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros'"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_an_autoencoder_trains():
    """Conv2d down, ConvTranspose2d up: the reconstruction loss falls."""
    from tinygrad_cnn import optim

    nn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1))
    x = Tensor(np.random.default_rng(3).standard_normal((8, 1, 8, 8)).astype(np.float32))
    opt = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = F.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


def test_export_round_trips(tmp_path):
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import export

    nn.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2),
                          nn.ConvTranspose2d(2, 1, 2, stride=2, bias=False, dilation=2))
    x = np.random.default_rng(4).standard_normal((2, 1, 8, 8)).astype(np.float32)
    y = model(Tensor(x)).data
    theirs = export.to_torch(model)
    assert_close(theirs(torch.from_numpy(x)).detach().numpy(), y, rtol=1e-5, atol=1e-6)
    back = export.from_torch(theirs)
    assert repr(back) == repr(model)
    np.testing.assert_array_equal(back(Tensor(x)).data, y)
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = str(tmp_path / "up.onnx")
    export.to_onnx(model, x, path)
    assert_close(ort.InferenceSession(path).run(None, {"input": x})[0], y, rtol=1e-5, atol=1e-5)
