"""F.pad's 'reflect', 'replicate' and 'circular' modes, nn.Conv2d's padding_mode, the padding
layers (ReflectionPad2d, ZeroPad2d, ...) and their export.

The op table (tests/op_cases.py, rows pad_reflect, pad_replicate, pad_circular) already runs
the modes through the reference, gradcheck, PyTorch, non-contiguous input and bad input;
here: the same bits as PyTorch in float32 (forward and backward), the order in which copies
of one cell add up (with a negative control), the fold as the gather's adjoint, crops in
circular mode, and the layers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, _checks, gradcheck, nn
from tinygrad_cnn.kernels.pad import circular_fold, pad_fold, pad_gather, pad_mode_reference, source_index
from helpers import arrays, assert_close, random_grad

MODES = ("reflect", "replicate", "circular")
FEW = settings(max_examples=25, deadline=None)


@st.composite
def padded(draw, mode, contiguous=True):
    """(x, pad) with 1-3 padded axes, one or two in front, pads anywhere inside the mode's limits
    (negative ones, which crop, included); the package's own check agrees they are valid."""
    k = draw(st.integers(1, 3))
    shape = [draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2)))]
    shape += [draw(st.integers(1, 4)) for _ in range(k)]
    pad = []
    for n in shape[::-1][:k]:
        if mode == "circular":  # crop first (leaving at least one cell), then wrap at most what is left
            front = draw(st.integers(0, n - 1))
            back = draw(st.integers(0, n - 1 - front))
            kept = n - front - back
            pad += [-front if front else draw(st.integers(0, kept)), -back if back else draw(st.integers(0, kept))]
        else:
            high = n - 1 if mode == "reflect" else 4  # and at least one cell left
            before = draw(st.integers(max(1 - n, -4), high))
            pad += [before, draw(st.integers(max(1 - n - before, -4), high))]
    pad = tuple(pad)
    _checks.pad_mode_widths(pad, tuple(shape), mode, None)
    return draw(arrays(tuple(shape), contiguous=None if contiguous else False)), pad


def _torch_pad(torch, x, pad, mode, g):
    tx = torch.from_numpy(np.array(x)).requires_grad_(True)
    ty = torch.nn.functional.pad(tx, pad, mode=mode)
    ty.backward(torch.from_numpy(g))
    return ty.detach().numpy(), tx.grad.numpy()


def _ours(x, pad, mode, g):
    leaf = Tensor(x, requires_grad=True)
    y = F.pad(leaf, pad, mode=mode)
    y.backward(g)
    return y.data, leaf.grad.data


@pytest.mark.parametrize("mode", MODES)
@FEW
@given(data=st.data())
def test_same_bits_as_pytorch_in_float32(mode, data):
    """Forward and backward bit for bit: the copies of a cell are added in PyTorch's order."""
    torch = pytest.importorskip("torch")
    x, pad = data.draw(padded(mode))
    x = x.astype(np.float32)
    y = F.pad(Tensor(x), pad, mode=mode).data
    assume(y.size > 0)  # PyTorch leaves the gradient of an empty output unwritten
    g = random_grad(y.shape, np.float32)
    ours_y, ours_dx = _ours(x, pad, mode, g)
    torch_y, torch_dx = _torch_pad(torch, x, pad, mode, g)
    assert ours_y.dtype == np.float32 and ours_dx.dtype == np.float32
    np.testing.assert_array_equal(ours_y, torch_y)
    np.testing.assert_array_equal(ours_dx, torch_dx)


@pytest.mark.parametrize("mode", MODES)
@FEW
@given(data=st.data())
def test_against_the_reference_and_gradcheck_with_crops(mode, data):
    x, pad = data.draw(padded(mode, contiguous=False))
    y = F.pad(Tensor(x), pad, mode=mode)
    assert_close(y.data, pad_mode_reference(x, pad, mode), rtol=0, atol=0)
    assert gradcheck(lambda t: F.pad(t, pad, mode=mode), [Tensor(np.array(x), requires_grad=True)])


@pytest.mark.parametrize("mode", MODES)
@FEW
@given(data=st.data())
def test_the_fold_is_the_gathers_adjoint(mode, data):
    """<gather(x), g> = <x, fold(g)> for every x and g: the backward is exactly the transpose."""
    x, pad = data.draw(padded(mode))
    widths = _checks.pad_mode_widths(pad, x.shape, mode, None)
    k = len(widths)
    sources = [source_index(n, b, a, mode) for n, (b, a) in zip(x.shape[x.ndim - k:], widths)]
    y = pad_gather(x, sources)
    g = random_grad(y.shape, seed=3)
    fold = circular_fold(g, widths, x.shape) if mode == "circular" else pad_fold(g, sources, x.shape)
    assert fold.shape == x.shape
    assert np.isclose(np.vdot(y, g), np.vdot(x, fold), rtol=1e-12, atol=1e-12)


def test_copies_of_one_cell_add_in_pytorchs_order():
    """Three copies of one cell, gradients 1, 1e8 and -1e8 in float32: the order of the two
    additions decides between 0 and 1.  'reflect' adds in the output's row-major order,
    'circular' the middle's, then the right pad's, then the left pad's (PyTorch's slab
    copies undone); the row-major fold on circular's sources gives the other answer, which
    the bit-for-bit test above would catch."""
    x = np.zeros((1, 1, 3), np.float32)
    g = np.array([[[0, 1, 0, 1e8, 0, -1e8, 0]]], np.float32)  # reflect (2, 2) of 3: j = 1, 3, 5 copy cell 1
    assert _ours(x, (2, 2), "reflect", g)[1][0, 0, 1] == 0.0  # ((0 + 1) + 1e8) - 1e8
    x = np.zeros((1, 1, 2), np.float32)
    g = np.array([[[1, 0, 1e8, 0, -1e8, 0]]], np.float32)  # circular (2, 2) of 2: j = 0, 2, 4 copy cell 0
    assert _ours(x, (2, 2), "circular", g)[1][0, 0, 0] == 1.0  # (1e8 - 1e8) + 1
    row_major = pad_fold(g, [source_index(2, 2, 2, "circular")], x.shape)
    assert row_major[0, 0, 0] == 0.0  # negative control: the other order, other bits
    torch = pytest.importorskip("torch")
    assert _torch_pad(torch, x, (2, 2), "circular", g)[1][0, 0, 0] == 1.0


def test_circular_wraps_around_what_a_negative_pad_leaves():
    """PyTorch's own sample: crop one cell, then wrap the remaining ones; beyond them it refuses."""
    x = np.arange(5.0).reshape(1, 1, 5)
    assert F.pad(Tensor(x), (-1, 2), mode="circular").data.ravel().tolist() == [1, 2, 3, 4, 1, 2]
    assert F.pad(Tensor(x), (2, -1), mode="circular").data.ravel().tolist() == [2, 3, 0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"at most the size they wrap.*\(-3, 3\) for dimension 2"):
        F.pad(Tensor(x), (-3, 3), mode="circular")  # 2 cells left, 3 to wrap: twice round


def test_reflect_and_replicate_at_the_edges():
    x = Tensor(np.arange(4.0).reshape(1, 4))
    assert F.pad(x, (3, 3), mode="reflect").data.ravel().tolist() == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    assert F.pad(x, (5, 2), mode="replicate").data.ravel().tolist() == [0] * 6 + [1, 2, 3, 3, 3]
    assert F.pad(x, (-1, 2), mode="reflect").data.ravel().tolist() == [1, 2, 3, 2, 1]


def test_padding_a_float32_input_keeps_float32_and_a_leaf_gets_a_fresh_gradient():
    x = Tensor(np.ones((2, 3, 4), np.float32), requires_grad=True)
    y = F.pad(x, (1, 1, 2, 0), mode="replicate")
    assert y.dtype == np.float32 and y.shape == (2, 5, 6)
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32 and x.grad.data.sum() == y.data.size


# ------------------------------------------------------------------------------ Conv2d

@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_conv2d_padding_mode_against_pytorch(mode, data):
    torch = pytest.importorskip("torch")
    groups = data.draw(st.integers(1, 2))
    c, o = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride, dilation = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    padding = data.draw(st.sampled_from(["same", 0, 1, 2, (1, 2)] if stride == 1 else [0, 1, 2, (2, 1)]))
    h, w = data.draw(st.integers(3, 7)), data.draw(st.integers(3, 7))
    layer = nn.Conv2d(c, o, k, stride, padding, dilation, groups, padding_mode=mode).double()
    theirs = torch.nn.Conv2d(c, o, k, stride, padding, dilation, groups, padding_mode=mode).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(layer.weight.data))
        theirs.bias.copy_(torch.from_numpy(layer.bias.data))
    x = data.draw(arrays((2, c, h, w), contiguous=None))
    tx = torch.from_numpy(np.array(x)).requires_grad_(True)
    try:
        ty = theirs(tx)
    except RuntimeError:  # PyTorch refuses it (a reflection as wide as the map): so must we
        with pytest.raises(ValueError, match="(?i)conv2d"):
            layer(Tensor(x))
        return
    leaf = Tensor(np.array(x), requires_grad=True)
    y = layer(leaf)
    g = random_grad(y.shape, seed=1)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    assert_close(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert_close(leaf.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_close(layer.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_close(layer.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_padding_mode_repr_errors_and_attribute():
    conv = nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")
    assert repr(conv) == "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), padding_mode=reflect)"
    with pytest.raises(ValueError, match=r"Conv2d\(padding_mode='reflect', padding=\(3, 3\)\): pad: 'reflect' pads "
                                         r"must be less than the size they reflect"):
        nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(Tensor(np.zeros((1, 1, 3, 3), np.float32)))
    x = Tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 4)).astype(np.float32))
    reflected = conv(x).data
    conv.padding_mode = "circular"  # read at every call, as PyTorch reads it
    assert not np.array_equal(conv(x).data, reflected)
    conv.padding_mode = "zeros"
    assert_close(conv(x).data, F.conv2d(x, conv.weight, conv.bias, padding=1).data, rtol=0, atol=0)
    conv.padding_mode = "mirror"
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros', 'reflect'"):
        conv(x)


# ------------------------------------------------------------------------------ layers

LAYERS = [f"{base}{d}d" for base in ("ReflectionPad", "ReplicationPad", "CircularPad", "ZeroPad", "ConstantPad")
          for d in (1, 2, 3)]


@pytest.mark.parametrize("name", LAYERS)
def test_padding_layers_match_pytorchs(name):
    torch = pytest.importorskip("torch")
    if not hasattr(torch.nn, name):
        pytest.skip(f"this PyTorch has no {name}")
    dims = int(name[-2])
    rng = np.random.default_rng(dims)
    pad = tuple(int(p) for p in rng.integers(0, 3, 2 * dims))
    args = (pad, -1.5) if name.startswith("Constant") else (pad,)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert repr(getattr(nn, name)(1, *args[1:])) == repr(getattr(torch.nn, name)(1, *args[1:]))
    for shape in ((2, 3) + (4,) * dims, (3,) + (4,) * dims):  # batched and not
        x = rng.standard_normal(shape)
        leaf = Tensor(x, requires_grad=True)
        tx = torch.from_numpy(x.copy()).requires_grad_(True)
        y, ty = ours(leaf), theirs(tx)
        g = random_grad(y.shape, seed=2)
        y.backward(g)
        ty.backward(torch.from_numpy(g))
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        np.testing.assert_array_equal(leaf.grad.data, tx.grad.numpy())


def test_padding_layers_check_their_arguments():
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be an int or a tuple of 4 ints, got 2"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(TypeError, match=r"ZeroPad1d: padding must be an int or a tuple of 2 ints, got 1.5"):
        nn.ZeroPad1d(1.5)
    with pytest.raises(TypeError, match="ConstantPad2d: value must be a real number"):
        nn.ConstantPad2d(1, "a")
    with pytest.raises(ValueError, match=r"mode 'reflect' pads the last 1, 2 or 3 dimensions.*input \(4,\)"):
        nn.ReflectionPad1d(1)(Tensor(np.zeros(4)))


# ------------------------------------------------------------------------------ export

def _padded_model(mode):
    nn.manual_seed(0)
    return nn.Sequential(nn.ReflectionPad2d((1, 2, 0, 1)), nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode),
                         nn.ReLU(), nn.ZeroPad2d(1), nn.ReplicationPad2d((0, 1, 1, 0)),
                         nn.ConstantPad2d((1, 0, 0, 1), 2.5), nn.Flatten(), nn.ConstantPad1d((2, -1), -1.0))


@pytest.mark.parametrize("mode", ["zeros", *MODES])
def test_to_torch_and_back(mode):
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import export

    model = _padded_model(mode)
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 5))
    expected = model.double()(Tensor(x)).data
    theirs = export.to_torch(model)
    assert theirs[1].padding_mode == mode
    assert_close(theirs(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    back = export.from_torch(theirs)
    assert back[1].padding_mode == mode and repr(back) == repr(model)
    np.testing.assert_array_equal(back(Tensor(x)).data, expected)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate"])
def test_to_onnx_pads(tmp_path, mode):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from tinygrad_cnn import export

    model = _padded_model(mode)
    x = np.random.default_rng(1).standard_normal((3, 2, 6, 5)).astype(np.float32)
    path = str(tmp_path / "padded.onnx")
    export.to_onnx(model, x, path)
    got = ort.InferenceSession(path).run(None, {"input": x})[0]
    assert_close(got, model(Tensor(x)).data, rtol=1e-5, atol=1e-5)


def test_to_onnx_refuses_what_opset_17_cannot_pad(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_cnn import export

    x = np.zeros((1, 2, 6, 5), np.float32)
    with pytest.raises(TypeError, match=r"layer '1' pads in mode 'circular'.*opset 19"):
        export.to_onnx(_padded_model("circular"), x, str(tmp_path / "c.onnx"))
    with pytest.raises(TypeError, match=r"layer '0' crops \(pad \(-1, 1, 0, 0\)\) in mode 'reflect'"):
        export.to_onnx(nn.Sequential(nn.ReflectionPad2d((-1, 1, 0, 0))), x, str(tmp_path / "r.onnx"))
