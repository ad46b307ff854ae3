"""InstanceNorm1d/2d, LocalResponseNorm, PixelShuffle/PixelUnshuffle, UpsamplingNearest2d,
UpsamplingBilinear2d and Embedding: naive loops, float64 gradcheck, PyTorch's layers (values,
gradients, running statistics, reprs, state dicts) and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck, nn
from tinygrad_cnn.ops.linear import embedding_reference
from helpers import arrays, assert_close, random_grad

FEW = settings(max_examples=10, deadline=None)


# ------------------------------------------------------------------ naive loops
def instance_norm_reference(x, eps=1e-5):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            v = [float(a) for a in x[n, c].ravel()]
            mean = sum(v) / len(v)
            var = sum((a - mean) ** 2 for a in v) / len(v)
            out[n, c] = (x[n, c] - mean) / math.sqrt(var + eps)
    return out


def lrn_reference(x, size, alpha=1e-4, beta=0.75, k=1.0):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    C = x.shape[1]
    for idx in np.ndindex(x.shape):
        c = idx[1]
        total = 0.0
        for j in range(c - size // 2, c + (size - 1) // 2 + 1):
            if 0 <= j < C:
                total += float(x[(idx[0], j) + idx[2:]]) ** 2
        out[idx] = x[idx] / (k + alpha / size * total) ** beta
    return out


def pixel_shuffle_reference(x, r):
    N, C, H, W = x.shape
    out = np.empty((N, C // (r * r), H * r, W * r))
    for n, c, h, w in np.ndindex(out.shape):
        out[n, c, h, w] = x[n, c * r * r + (h % r) * r + (w % r), h // r, w // r]
    return out


@FEW
@given(x=st.integers(1, 3).flatmap(lambda c: arrays((2, c, 3, 4))))
def test_instance_norm_against_the_loops_and_gradcheck(x):
    assert_close(F.instance_norm(Tensor(x)).data, instance_norm_reference(x), rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda t: F.instance_norm(t), [Tensor(np.array(x), requires_grad=True)])


@FEW
@given(x=arrays((2, 5, 2, 3)), size=st.integers(1, 6))
def test_local_response_norm_against_the_loops_and_gradcheck(x, size):
    assert_close(F.local_response_norm(Tensor(x), size, 0.1, 0.6, 2.0).data, lrn_reference(x, size, 0.1, 0.6, 2.0),
                 rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.local_response_norm(t, size, 0.1, 0.6, 2.0), [Tensor(np.array(x), requires_grad=True)])


@FEW
@given(r=st.integers(1, 3), c=st.integers(1, 2), data=st.data())
def test_pixel_shuffle_against_the_loops_and_its_inverse(r, c, data):
    x = data.draw(arrays((2, c * r * r, 2, 3)))
    y = F.pixel_shuffle(Tensor(x), r)
    np.testing.assert_array_equal(y.data, pixel_shuffle_reference(x, r))
    np.testing.assert_array_equal(F.pixel_unshuffle(y, r).data, x)
    assert gradcheck(lambda t: F.pixel_shuffle(t, r), [Tensor(np.array(x), requires_grad=True)])


def test_embedding_against_the_lookup_and_gradcheck():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3))
    idx = rng.integers(0, 6, (2, 4))
    np.testing.assert_array_equal(F.embedding(tc.tensor(idx), Tensor(w)).data, embedding_reference(idx, w))
    assert gradcheck(lambda t: F.embedding(idx, t), [Tensor(np.array(w), requires_grad=True)])


# ------------------------------------------------------------------ against PyTorch's layers
LAYERS = [
    ("InstanceNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True, momentum=0.3), (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), dict(track_running_stats=True, momentum=None), (2, 3, 4, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True), (2, 3, 6)),
    ("InstanceNorm2d", (3,), {}, (3, 4, 5)),
    ("LocalResponseNorm", (3,), dict(alpha=0.1, k=2.0), (2, 5, 3, 3)),
    ("LocalResponseNorm", (2,), {}, (2, 5, 7)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 3)),
    ("PixelUnshuffle", (3,), {}, (2, 1, 6, 9)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2), (1, 2, 3, 3)),
    ("UpsamplingBilinear2d", (), dict(size=5), (1, 2, 3, 3)),
    ("Upsample", (), dict(scale_factor=2), (1, 1, 2, 2)),
]


@pytest.mark.parametrize("cls, args, kwargs, shape", LAYERS, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(LAYERS)])
def test_layers_match_pytorchs(cls, args, kwargs, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, cls)(*args, **kwargs).double(), getattr(torch.nn, cls)(*args, **kwargs).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(7)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(rng.standard_normal(tuple(q.shape))))
            p.data[...] = q.numpy()
    for mode in ("train", "eval", "train"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x = rng.standard_normal(shape)
        leaf = Tensor(x, requires_grad=True)
        tx = torch.from_numpy(x.copy()).requires_grad_(True)
        y, ty = ours(leaf), theirs(tx)
        g = random_grad(y.shape, seed=8)
        y.backward(g)
        ty.backward(torch.from_numpy(g))
        assert_close(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        assert_close(leaf.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert_close(p.grad.data, q.grad.numpy(), rtol=1e-12, atol=1e-12)
        for (name, b), (_, tb) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert_close(np.asarray(b.data if hasattr(b, "data") else b), tb.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs", [{}, dict(padding_idx=0), dict(padding_idx=-1, scale_grad_by_freq=True),
                                    dict(max_norm=1.0)])
def test_embedding_matches_pytorchs(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Embedding(10, 3, **kwargs).double(), torch.nn.Embedding(10, 3, **kwargs).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
    assert repr(ours) == repr(theirs)
    idx = np.random.default_rng(9).integers(0, 10, (4, 5))
    y, ty = ours(tc.tensor(idx)), theirs(torch.from_numpy(idx))
    g = random_grad(y.shape, seed=10)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    assert_close(y.data, ty.detach().numpy(), rtol=0, atol=0)
    assert_close(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert_close(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-12, atol=1e-15)  # max_norm's renorm
    if "padding_idx" in kwargs:
        assert not ours.weight.grad.data[kwargs["padding_idx"]].any()
    frozen = nn.Embedding.from_pretrained(tc.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not frozen.weight.requires_grad and frozen(tc.tensor([1, 0])).data.tolist() == [[3.0, 4.0], [1.0, 2.0]]


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: F.instance_norm(Tensor(np.zeros((2, 3)))), ValueError, r"at least one position axis, got shape \(2, 3\)"),
    (lambda: F.instance_norm(Tensor(np.zeros((2, 3, 1)))), ValueError, "more than 1 position per channel"),
    (lambda: F.instance_norm(Tensor(np.zeros((2, 3, 4))), use_input_stats=False), ValueError, "needed when use_input_stats=False"),
    (lambda: nn.InstanceNorm2d(3, affine=True)(Tensor(np.zeros((2, 4, 3, 3)))), ValueError, "must have 3 channels"),
    (lambda: F.local_response_norm(Tensor(np.zeros((2, 3))), 2), ValueError, "at least 3 dimensions"),
    (lambda: F.local_response_norm(Tensor(np.zeros((2, 3, 4))), 0), ValueError, "size must be"),
    (lambda: F.pixel_shuffle(Tensor(np.zeros((1, 3, 2, 2))), 2), ValueError, r"channels divisible by 4.*\(1, 3, 2, 2\)"),
    (lambda: F.pixel_unshuffle(Tensor(np.zeros((1, 3, 5, 4))), 2), ValueError, r"divisible by 2.*\(1, 3, 5, 4\)"),
    (lambda: F.embedding(tc.tensor([0, 6]), Tensor(np.zeros((6, 2)))), ValueError, r"indices must lie in \[0, 6\)"),
    (lambda: F.embedding(tc.tensor([0.5]), Tensor(np.zeros((6, 2)))), TypeError, "integer indices"),
    (lambda: F.embedding(tc.tensor([0]), Tensor(np.zeros((6, 2))), sparse=True), ValueError, "sparse=True"),
    (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError, "padding_idx"),
])
def test_bad_input_is_refused_by_name(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ------------------------------------------------------------------ ParameterList, ParameterDict
def test_parameter_containers_register_their_parameters_as_pytorch_names_them():
    from tinygrad_cnn import optim

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([tc.ones(2), nn.Parameter(np.zeros((2, 3), np.float32))])
            self.gains = nn.ParameterDict({"a": tc.ones(3)})
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x * self.scales[0]) * self.gains["a"][:2]

    model = Model()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "gains.a", "lin.weight", "lin.bias"]
    assert all(isinstance(p, nn.Parameter) for p in model.scales) and isinstance(model.gains["a"], nn.Parameter)
    torch = pytest.importorskip("torch")

    class TorchModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = torch.nn.ParameterList([torch.ones(2), torch.zeros(2, 3)])
            self.gains = torch.nn.ParameterDict({"a": torch.ones(3)})
            self.lin = torch.nn.Linear(2, 2)

    assert list(model.state_dict()) == list(TorchModel().state_dict())
    before = model.scales[0].data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(tc.ones(4, 2)).backward(random_grad((4, 2), np.float32))
    opt.step()
    assert not np.array_equal(model.scales[0].data, before)  # the optimiser saw and moved it
    assert model.double().scales[0].dtype == np.float64 and model.gains["a"].dtype == np.float64
    state = {k: np.full(v.shape, 2.0) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert np.all(model.scales[1].data == 2.0) and "(a): Parameter containing: [float64 of size 3]" in repr(model)
    with pytest.raises(TypeError, match="ParameterList.append: expected a Parameter, Tensor or array, got list"):
        model.scales.append([1.0, 2.0])
    with pytest.raises(IndexError, match="ParameterList index 5 out of range for 2 parameters"):
        model.scales[5]
    with pytest.raises(KeyError, match="without '.'"):
        model.gains["a.b"] = tc.ones(1)


# ------------------------------------------------------------------ softmin, glu, normalize, shuffles, channel dropout
SMALL = [
    ("softmin", lambda m, a: m.softmin(a, 1)), ("glu", lambda m, a: m.glu(a, 1)),
    ("normalize", lambda m, a: m.normalize(a)), ("normalize-p1", lambda m, a: m.normalize(a, 1.0, -1)),
    ("channel_shuffle", lambda m, a: m.channel_shuffle(a, 3)),
]


@pytest.mark.parametrize("name, call", SMALL, ids=[n for n, _ in SMALL])
def test_small_functions_gradcheck_and_pytorch(name, call):
    x = np.random.default_rng(11).standard_normal((2, 6, 3, 4))
    assert gradcheck(lambda t: call(F, t), [Tensor(np.array(x), requires_grad=True)])
    torch = pytest.importorskip("torch")
    leaf, tx = Tensor(x.copy(), requires_grad=True), torch.from_numpy(x.copy()).requires_grad_(True)
    y, ty = call(F, leaf), call(torch.nn.functional, tx)
    g = random_grad(y.shape, seed=12)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    assert_close(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert_close(leaf.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, args", [("Softmin", (2,)), ("Softmax2d", ()), ("GLU", (1,)), ("ChannelShuffle", (2,)),
                                       ("Dropout1d", (0.3,)), ("Dropout3d", (0.3,))])
def test_small_layers_print_as_pytorchs(cls, args):
    torch = pytest.importorskip("torch")
    assert repr(getattr(nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))


@pytest.mark.parametrize("layer, shape, channel_axes", [(nn.Dropout1d(0.5), (8, 6, 5), 2), (nn.Dropout1d(0.5), (6, 5), 1),
                                                         (nn.Dropout3d(0.5), (4, 6, 2, 3, 2), 2)])
def test_channel_dropout_drops_whole_channels(layer, shape, channel_axes):
    tc.manual_seed(0)
    y = layer(Tensor(np.ones(shape))).data
    per_channel = y.reshape(shape[:channel_axes] + (-1,))
    assert np.all((per_channel == 0).all(axis=-1) | (per_channel == 2.0).all(axis=-1))  # zeroed, or scaled by 1/(1 − p)
    assert 0 < (per_channel[..., 0] == 0).mean() < 1
    layer.eval()
    np.testing.assert_array_equal(layer(Tensor(np.ones(shape))).data, np.ones(shape))
    layer.train()


@pytest.mark.parametrize("call, pattern", [
    (lambda: F.glu(Tensor(np.zeros((2, 3)))), "even size"),
    (lambda: F.channel_shuffle(Tensor(np.zeros((2, 5, 3))), 2), "divisible by groups=2"),
    (lambda: nn.Softmax2d()(Tensor(np.zeros((2, 3)))), r"Softmax2d: x must be \(N, C, H, W\) or \(C, H, W\)"),
    (lambda: F.dropout1d(Tensor(np.zeros((2, 3, 4, 5)))), r"dropout1d: x must be \(N, C, L\) or \(C, L\)"),
])
def test_small_bad_inputs(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
