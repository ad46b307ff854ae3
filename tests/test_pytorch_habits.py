"""Small habits of PyTorch programs that work here as they do there.

Each came from running ordinary tutorial code (the 60-minute blitz, the Quickstart, d2l's
chapters) with this package imported in torch's place: formatting a loss, indexing a list with
a predicted class, ``next(model.parameters())``, replacing a layer of a Sequential, factories
called with ``size=``, and PyTorch's promotion of integers meeting floats.
"""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional oracle
    torch = None


def test_one_element_tensors_format_and_index():
    loss = tc.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and "{:.2f}".format(loss) == "0.12"
    assert f"{tc.ones(2)}" == str(tc.ones(2))  # no spec: str()
    with pytest.raises(TypeError, match="one-element"):
        f"{tc.ones(2):.2f}"
    classes = ["plane", "car", "bird"]
    assert classes[tc.tensor(2)] == "bird" and classes[tc.tensor([1])] == "car"
    assert list(range(tc.tensor(3))) == [0, 1, 2]
    with pytest.raises(TypeError, match="integer tensors"):
        classes[tc.tensor(1.0)]
    with pytest.raises(ValueError, match="one-element"):
        classes[tc.tensor([0, 1])]


def test_parameters_is_a_list_that_next_steps_through():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    params = model.parameters()
    assert len(params) == 4 and params[0] is model[0].weight
    assert next(params) is model[0].weight and next(params) is model[0].bias
    assert next(model.parameters()).shape == (3, 2)  # a fresh call starts again
    assert [p.shape for p in params] == [(3, 2), (3,), (1, 3), (1,)]  # iterating sees all


def test_sequential_item_assignment_and_deletion():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    model[2] = nn.Linear(3, 5)
    assert model(tc.ones(1, 2)).shape == (1, 5)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    del model[1]  # the rest are numbered again, as PyTorch
    assert len(model) == 2 and [n for n, _ in model.named_parameters()] == \
        ["0.weight", "0.bias", "1.weight", "1.bias"]
    del model[0:1]
    assert len(model) == 1 and model(tc.ones(1, 3)).shape == (1, 5)
    with pytest.raises(TypeError, match="expected a Module"):
        model[0] = 3
    with pytest.raises(IndexError, match="out of range"):
        model[4] = nn.ReLU()
    if torch is not None:
        theirs = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.ReLU())
        del theirs[1]
        ours = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.ReLU())
        del ours[1]
        assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]


def test_factories_take_size_as_a_keyword_and_eye_exists():
    assert tc.randn(size=(1, 1, 28, 28)).shape == (1, 1, 28, 28)
    assert tc.rand(size=[2, 3]).shape == (2, 3) and tc.zeros(size=(2,)).shape == (2,)
    assert tc.ones(size=4).shape == (4,)
    with pytest.raises(TypeError, match="not both"):
        tc.zeros(2, size=(3,))
    eye = tc.eye(4, 5, requires_grad=True)
    assert eye.shape == (4, 5) and eye.requires_grad and eye.dtype == np.float32
    np.testing.assert_array_equal(eye.data, np.eye(4, 5))
    assert tc.eye(3, dtype=tc.float64).data.dtype == np.float64
    assert F.relu(tc.tensor([-1.0, 2.0]), inplace=True).tolist() == [0.0, 2.0]


PROMOTIONS = {
    "int + float": lambda T: T.tensor([1, 2]) + 0.5,
    "float * int tensor": lambda T: 0.5 * T.tensor([1, 2]),
    "int * float32 tensor": lambda T: T.tensor([1, 2]) * T.tensor([1.5, 2.0]),
    "float32 - int tensor": lambda T: T.tensor([1.5, 2.0]) - T.tensor([1, 2]),
    "int / int": lambda T: T.tensor([1, 2]) / T.tensor([2, 4]),
    "float / int": lambda T: 2 / T.tensor([1, 2]),
    "int ** float": lambda T: T.tensor([1, 4]) ** 0.5,
    "bool + float32": lambda T: T.tensor([True, False]) + T.tensor([1.5, 1.0]),
    "int + int": lambda T: T.tensor([1, 2]) + 1,
    "int ** int": lambda T: T.tensor([1, 2]) ** 2,
    "float64 + int": lambda T: T.tensor([1.0, 2.0], dtype=T.float64) + T.tensor([1, 2]),
}


@pytest.mark.parametrize("case", sorted(PROMOTIONS))
def test_integers_meeting_floats_promote_as_in_pytorch(case):
    if torch is None:
        pytest.skip("PyTorch is the oracle")
    ours, theirs = PROMOTIONS[case](tc), PROMOTIONS[case](torch)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.data, theirs.numpy())


def test_promotion_keeps_the_gradient_of_the_float_side():
    w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (w * tc.tensor([3, 4])).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm_matches_pytorch(norm_type):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    model = nn.Linear(3, 2)
    (model(Tensor(x)) ** 2).sum().backward()
    grads = [p.grad.data.copy() for p in model.parameters()]
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5, norm_type)
    flat = np.concatenate([g.ravel().astype(np.float64) for g in grads])
    expected = np.abs(flat).max() if norm_type == float("inf") else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    assert total.item() == pytest.approx(expected, rel=1e-6)
    scale = min(1.0, 0.5 / (expected + 1e-6))
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.data, g * scale, rtol=1e-6)
    if torch is not None:
        t = torch.nn.Linear(3, 2)
        for tp, p, g in zip(t.parameters(), model.parameters(), grads):
            tp.grad = torch.from_numpy(g.copy())
        assert torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5, norm_type).item() == pytest.approx(total.item(), rel=1e-6)
        for tp, p in zip(t.parameters(), model.parameters()):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-6)


def test_clip_grad_value_and_parameters_as_a_vector():
    model = nn.Linear(3, 2)
    (model(tc.ones(4, 3)) * 100).sum().backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.25)
    assert all(np.abs(p.grad.data).max() <= 0.25 for p in model.parameters())
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.data[:6], model.weight.data.ravel())
    nn.utils.vector_to_parameters(tc.arange(8, dtype=tc.float32), model.parameters())
    np.testing.assert_array_equal(model.bias.data, [6.0, 7.0])
    with pytest.raises(ValueError, match="8 elements"):
        nn.utils.vector_to_parameters(tc.zeros(7), model.parameters())
    with pytest.raises(ValueError, match="max_norm"):
        nn.utils.clip_grad_norm_(model.parameters(), -1.0)


def test_item_assignment_follows_the_in_place_rules():
    t = tc.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    t[:, 1] = 0
    t[t < 0] = 0
    t[0] = tc.ones(3)
    np.testing.assert_array_equal(t.data, [[1, 1, 1], [0, 0, 0]])
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        t[5] = 1
    w = tc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 5
    y = w * 2
    with tc.no_grad():
        w[1] = 3  # allowed here, and counted: the saved w has changed
    with pytest.raises(RuntimeError, match="modified by an in"):
        y.backward(np.ones(2, np.float32))


def test_grad_fn_and_load_keywords(tmp_path):
    x = tc.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, tc.tensor([0, 1]))
    assert x.grad_fn is None and repr(loss.grad_fn) == "<CrossEntropyBackward>"
    model = nn.Linear(2, 2)
    tc.save(model.state_dict(), str(tmp_path / "m.npz"))
    state = tc.load(str(tmp_path / "m.npz"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)


def test_residual_block_with_augmented_assignment_matches_pytorch():
    # d2l's Residual: Y = conv(...); Y += X; return relu(Y)
    def block(nn_, F_, conv):
        class Residual(nn_.Module):
            def __init__(self):
                super().__init__()
                self.conv = conv

            def forward(self, X):
                Y = self.conv(F_.relu(X))
                Y += X
                return F_.relu(Y)
        return Residual()

    nn.manual_seed(0)
    conv = nn.Conv2d(2, 2, 3, padding=1)
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5)).astype(np.float32)
    dy = np.random.default_rng(2).standard_normal((2, 2, 5, 5)).astype(np.float32)
    xa = Tensor(x, requires_grad=True)
    block(nn, F, conv)(xa).backward(dy)
    assert xa.grad is not None and conv.weight.grad is not None
    if torch is not None:
        tconv = torch.nn.Conv2d(2, 2, 3, padding=1)
        tconv.weight.data = torch.from_numpy(conv.weight.data.copy())
        tconv.bias.data = torch.from_numpy(conv.bias.data.copy())
        xb = torch.tensor(x, requires_grad=True)
        block(torch.nn, torch.nn.functional, tconv)(xb).backward(torch.from_numpy(dy))
        np.testing.assert_allclose(xa.grad.data, xb.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(conv.weight.grad.data, tconv.weight.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_device_selection_lines_choose_the_cpu():
    device = "cuda" if tc.cuda.is_available() else "mps" if tc.backends.mps.is_available() else "cpu"
    assert device == "cpu"
    accel = tc.accelerator.current_accelerator().type if tc.accelerator.is_available() else "cpu"
    assert accel == "cpu"
    tc.backends.cudnn.benchmark = True  # accepted, changes nothing
    tc.cuda.manual_seed_all(0)
    tc.cuda.empty_cache()
    with pytest.raises(ValueError, match="only 'cpu'"):
        tc.ones(2).cuda()


def test_dataset_items_are_tensors():
    x = np.arange(12, dtype=np.float32).reshape(3, 1, 2, 2)
    ds = tc.data.TensorDataset(x, np.array([0, 1, 2]))
    img, label = ds[1]
    assert isinstance(img, Tensor) and isinstance(label, Tensor)
    assert img.unsqueeze(0).shape == (1, 1, 2, 2) and label.item() == 1
    assert ["a", "b", "c"][label] == "b"
    img.data[0, 0, 0] = -1  # the rows' memory, as PyTorch's indexing of a tensor
    assert x[1, 0, 0, 0] == -1
    xb, yb = next(iter(tc.data.DataLoader(ds, 2)))
    assert xb.shape == (2, 1, 2, 2) and yb.tolist() == [0, 1]


def test_legacy_shape_constructor_is_refused_not_misread():
    # torch.Tensor(2, 3) is a 2x3 tensor in PyTorch; here the second argument is requires_grad
    with pytest.raises(TypeError, match="requires_grad must be True or False, got 3"):
        Tensor(2, 3)
    assert Tensor([1.0, 2.0], True).requires_grad and Tensor([1.0], np.bool_(True)).requires_grad


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_topk_values_indices_and_gradient(largest, dim):
    z = np.random.default_rng(3).standard_normal((4, 6))
    x = Tensor(z, requires_grad=True)
    values, indices = tc.topk(x, 3, dim, largest)
    expected = np.sort(z, axis=dim)
    expected = np.flip(expected, axis=dim) if largest else expected
    np.testing.assert_array_equal(values.data, np.take(expected, np.arange(3), axis=dim))
    np.testing.assert_array_equal(np.take_along_axis(z, indices.data, axis=dim), values.data)
    assert tc.gradcheck(lambda t: t.topk(3, dim, largest).values, [x])
    if torch is not None:
        theirs = torch.tensor(z).topk(3, dim, largest)
        np.testing.assert_array_equal(indices.data, theirs.indices.numpy())
    with pytest.raises(ValueError, match="topk: k"):
        x.topk(7, 1)


def test_topk_puts_nan_first_as_pytorch():
    z = np.array([[1.0, np.nan, 3.0, 2.0]])
    assert tc.tensor(z).topk(2).indices.tolist() == [[1, 2]]
    assert tc.tensor(z).topk(2, largest=False).indices.tolist() == [[0, 3]]


@pytest.mark.parametrize("call", [
    lambda t, T: t.split(2, 0), lambda t, T: t.split([1, 4], 0), lambda t, T: t.split(3, 1),
    lambda t, T: t.chunk(2, 0), lambda t, T: t.chunk(3, 1), lambda t, T: t.chunk(6, 0),
])
def test_split_and_chunk_match_pytorch(call):
    z = np.random.default_rng(4).standard_normal((5, 4))
    x = Tensor(z, requires_grad=True)
    pieces = call(x, tc)
    np.testing.assert_array_equal(np.concatenate([p.data for p in pieces], axis=0 if pieces[0].shape[1] == 4 else 1), z)
    dys = [np.random.default_rng(k).standard_normal(p.shape) for k, p in enumerate(pieces)]
    sum((p * Tensor(d)).sum() for p, d in zip(pieces, dys)).backward()
    if torch is not None:
        xt = torch.tensor(z, requires_grad=True)
        theirs = call(xt, torch)
        assert [p.shape for p in pieces] == [tuple(p.shape) for p in theirs]
        sum((p * torch.tensor(d)).sum() for p, d in zip(theirs, dys)).backward()
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy())
    with pytest.raises(ValueError, match="add up to"):
        x.split([1, 1], 0)


def test_masked_fill():
    z = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    x = Tensor(z, requires_grad=True)
    mask = z > 0
    y = x.masked_fill(Tensor(mask), -1.0)
    np.testing.assert_array_equal(y.data, np.where(mask, -1.0, z))
    assert y.dtype == np.float32
    y.backward(np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(x.grad.data, (~mask).astype(np.float32))
    with pytest.raises(TypeError, match="boolean"):
        x.masked_fill(Tensor(z), 0.0)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_match_pytorch(descending):
    z = np.array([[3.0, np.nan, 1.0, 2.0], [0.0, -1.0, 5.0, 5.0]])
    x = Tensor(z.copy(), requires_grad=True)
    values, indices = x.sort(1, descending)
    np.testing.assert_array_equal(np.take_along_axis(z, indices.data, 1), values.data)
    assert tc.argsort(x, 1, descending).tolist() == indices.tolist()
    dy = np.arange(8.0).reshape(2, 4)
    values.backward(dy)
    back = np.zeros_like(z)
    np.put_along_axis(back, indices.data, dy, 1)
    np.testing.assert_array_equal(x.grad.data, back)  # each element's gradient goes back to it
    if torch is not None:
        theirs = torch.tensor(z).sort(1, descending)
        np.testing.assert_array_equal(indices.data, theirs.indices.numpy())


def test_tests_reductions_and_new_factories():
    t = tc.tensor([[1.0, np.nan], [np.inf, 2.0]])
    assert t.isnan().tolist() == [[False, True], [False, False]]
    assert t.isinf().any().item() and not t.isfinite().all().item()
    assert tc.any(t > 1.5, 1).tolist() == [False, True] and tc.all(t < 10).item() is False
    assert t.new_zeros(2, 3).shape == (2, 3) and t.new_ones((1,)).dtype == t.dtype
    assert t.new_full((2,), 7.0).tolist() == [7.0, 7.0] and t.new_tensor([1, 2]).dtype == t.dtype
    assert t.is_contiguous() and not t.t().is_contiguous()


GATHER_CASES = [  # (input shape, dim, index): repeated indices, an index smaller than the input
    ((3, 4), 1, [[0, 0, 3], [1, 2, 1]]),
    ((3, 4), 0, [[0, 2, 1, 2], [2, 2, 0, 1]]),
    ((2, 3, 4), 2, [[[3], [0], [1]], [[2], [2], [0]]]),
]


@pytest.mark.parametrize("shape, dim, index", GATHER_CASES)
def test_gather_against_the_reference_gradcheck_and_pytorch(shape, dim, index):
    from tinygrad_cnn.ops.movement import gather_reference

    z = np.random.default_rng(6).standard_normal(shape)
    index = np.array(index)
    x = Tensor(z, requires_grad=True)
    y = x.gather(dim, tc.tensor(index))
    np.testing.assert_array_equal(y.data, gather_reference(z, dim, index))
    assert tc.gradcheck(lambda t: t.gather(dim, tc.tensor(index)), [x])
    if torch is not None:
        dy = np.random.default_rng(7).standard_normal(index.shape)
        y.backward(dy)
        xt = torch.tensor(z, requires_grad=True)
        xt.gather(dim, torch.tensor(index)).backward(torch.tensor(dy))
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy())


def test_gather_refuses_bad_indices():
    x = tc.ones(3, 4)
    with pytest.raises(ValueError, match=r"lie in \[0, 3\]"):
        x.gather(1, tc.tensor([[4]]))
    with pytest.raises(ValueError, match=r"lie in \[0, 3\]"):
        x.gather(1, tc.tensor([[-1]]))
    with pytest.raises(ValueError, match="dimensions"):
        x.gather(1, tc.tensor([0, 1]))
    with pytest.raises(ValueError, match="no larger"):
        x.gather(1, tc.zeros(5, 1, dtype=tc.int64))
    with pytest.raises(TypeError, match="integer"):
        x.gather(1, tc.zeros(1, 1))


INTERPOLATIONS = [dict(size=(8, 9)), dict(scale_factor=2), dict(size=(3, 4)), dict(scale_factor=1.5)]


@pytest.mark.parametrize("kwargs", INTERPOLATIONS, ids=str)
@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_interpolate_matches_pytorch_and_gradcheck(kwargs, mode, align_corners):
    z = np.random.default_rng(8).standard_normal((2, 3, 5, 7))
    x = Tensor(z, requires_grad=True)
    y = F.interpolate(x, mode=mode, align_corners=align_corners, **kwargs)
    small = Tensor(z[:1, :1], requires_grad=True)
    assert tc.gradcheck(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kwargs), [small])
    layer = nn.Upsample(mode=mode, align_corners=align_corners, **kwargs)
    np.testing.assert_array_equal(layer(Tensor(z)).data, y.data)
    if torch is not None:
        dy = np.random.default_rng(9).standard_normal(y.shape)
        y.backward(dy)
        xt = torch.tensor(z, requires_grad=True)
        yt = torch.nn.functional.interpolate(xt, mode=mode, align_corners=align_corners, **kwargs)
        yt.backward(torch.tensor(dy))
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_interpolate_bad_arguments():
    x = tc.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="mode"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="bilinear only"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="gives an output"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.interpolate(tc.ones(4, 4), scale_factor=2)


@pytest.mark.parametrize("args", [(1, 1), (-2, 0), ((1, 2), (0, 1)), (5, None)], ids=str)
def test_roll_matches_pytorch(args):
    z = np.random.default_rng(10).standard_normal((3, 4))
    x = Tensor(z, requires_grad=True)
    y = x.roll(*args)
    shifts, dims = args
    np.testing.assert_array_equal(y.data, np.roll(z, shifts, dims))
    dy = np.random.default_rng(11).standard_normal((3, 4))
    y.backward(dy)
    back = np.roll(dy, tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts, dims)
    np.testing.assert_array_equal(x.grad.data, back)


def test_index_select_adds_the_gradients_of_repeats():
    z = np.random.default_rng(12).standard_normal((3, 4))
    x = Tensor(z, requires_grad=True)
    y = x.index_select(1, tc.tensor([0, 2, 2]))
    np.testing.assert_array_equal(y.data, z[:, [0, 2, 2]])
    y.backward(np.ones((3, 3)))
    np.testing.assert_array_equal(x.grad.data, np.tile([1.0, 0.0, 2.0, 0.0], (3, 1)))
    with pytest.raises(ValueError, match="index_select: index values"):
        x.index_select(1, tc.tensor([4]))
    with pytest.raises(TypeError, match="1-D integer"):
        x.index_select(1, tc.tensor([[0]]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_against_the_reference_gradcheck_and_pytorch(dim):
    from tinygrad_cnn.ops.reduce_extra import cumsum_reference

    z = np.random.default_rng(13).standard_normal((3, 4))
    x = Tensor(z, requires_grad=True)
    y = tc.cumsum(x, dim)
    np.testing.assert_allclose(y.data, cumsum_reference(z, dim), rtol=1e-12)
    assert tc.gradcheck(lambda t: t.cumsum(dim), [x])
    if torch is not None:
        dy = np.random.default_rng(14).standard_normal((3, 4))
        y.backward(dy)
        xt = torch.tensor(z, requires_grad=True)
        torch.cumsum(xt, dim).backward(torch.tensor(dy))
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)
    assert tc.tensor([1, 2, 3]).cumsum(0).tolist() == [1, 3, 6]


NORMS = {
    "layer norm (C, H, W)": (lambda: nn.LayerNorm((4, 3, 3)), lambda: torch.nn.LayerNorm((4, 3, 3))),
    "layer norm (W,)": (lambda: nn.LayerNorm(3), lambda: torch.nn.LayerNorm(3)),
    "group norm 2 of 4": (lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4)),
    "group norm per channel, no affine": (lambda: nn.GroupNorm(4, 4, affine=False),
                                          lambda: torch.nn.GroupNorm(4, 4, affine=False)),
}


@pytest.mark.parametrize("case", sorted(NORMS))
def test_layer_and_group_norm_match_pytorch_and_gradcheck(case):
    make, make_theirs = NORMS[case]
    ours = make().double()
    rng = np.random.default_rng(15)
    if ours.weight is not None:
        ours.weight.data[...] = rng.standard_normal(ours.weight.shape)
        ours.bias.data[...] = rng.standard_normal(ours.bias.shape)
    z = rng.standard_normal((2, 4, 3, 3))
    x = Tensor(z, requires_grad=True)
    assert tc.gradcheck(lambda t: ours(t), [Tensor(z[:1], requires_grad=True)])
    ours.zero_grad()  # the check's backward passes reached the layer's parameters too
    y = ours(x)
    if torch is not None:
        theirs = make_theirs().double()
        if ours.weight is not None:
            theirs.weight.data = torch.tensor(ours.weight.data.copy())
            theirs.bias.data = torch.tensor(ours.bias.data.copy())
        dy = rng.standard_normal(z.shape)
        y.backward(dy)
        xt = torch.tensor(z, requires_grad=True)
        theirs(xt).backward(torch.tensor(dy))
        np.testing.assert_allclose(y.data, theirs(torch.tensor(z)).detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-12)
        if ours.weight is not None:
            np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), atol=1e-12)


def test_norm_bad_arguments():
    with pytest.raises(ValueError, match="must divide"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="last dimensions"):
        F.layer_norm(tc.ones(2, 3), (4,))
    with pytest.raises(ValueError, match="must divide"):
        F.group_norm(tc.ones(2, 4, 3), 3)
