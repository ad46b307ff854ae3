"""tinygrad_cnn.nn: parameter discovery and names, state dicts, modes, printing,
initialisation, and every layer's forward against numpy/PyTorch and backward by gradcheck."""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, figures, gradcheck, load, nn, save
from helpers import assert_close


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.layers = [nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2, bias=False)]
        self.not_a_param = Tensor(np.ones(2), requires_grad=True)  # plain Tensor: ignored
        self.inner = nn.Sequential(nn.Linear(2, 2), nn.Tanh())


def conv_ref(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    """Naive cross-correlation (N, C, H, W) * (O, C, kh, kw), the lecture's formula."""
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    sh, sw = stride
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.zeros((N, O, Ho, Wo), dtype=np.float64)
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", win, w)
    if b is not None:
        out += b[None, :, None, None]
    return out


# --------------------------------------------------------------- discovery and names
def test_named_parameters_order_and_names():
    m = Block()
    names = [n for n, _ in m.named_parameters()]
    assert names == [  # PyTorch's order: the module's own parameters, then each sub-module's
        "scale", "conv.weight", "conv.bias", "layers.0.weight", "layers.0.bias", "layers.2.weight",
        "inner.0.weight", "inner.0.bias",
    ]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert len(m.parameters()) == len(names)
    assert m.num_parameters() == 3 * 2 * 9 + 3 + 3 + 20 + 5 + 10 + 4 + 2
    assert m.trainable_parameter_count() == m.num_parameters()
    assert list(m.state_dict()) == names


def test_children_and_modules():
    m = Block()
    kids = [n for n, _ in m.named_children()]
    assert kids == ["conv", "layers.0", "layers.1", "layers.2", "inner"]
    mods = [n for n, _ in m.named_modules()]
    assert mods == ["", "conv", "layers.0", "layers.1", "layers.2", "inner", "inner.0", "inner.1"]
    assert len(list(m.modules())) == 8


def test_shared_parameter_listed_once_and_cycles_terminate():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    a = nn.Sequential(nn.Linear(1, 1))
    a.me = a  # a reference cycle
    assert len(a.parameters()) == 2


def test_dict_attribute_and_forgotten_super_init():
    class Heads(nn.Module):
        def __init__(self):  # no super().__init__(): still works
            self.heads = {"a": nn.Linear(2, 1), "b": nn.Linear(2, 1, bias=False)}

    m = Heads()
    assert [n for n, _ in m.named_parameters()] == ["heads.a.weight", "heads.a.bias", "heads.b.weight"]
    assert m.training and not m.eval().training


def test_parameter_type():
    p = nn.Parameter([1, 2, 3])
    assert p.requires_grad and p.dtype == np.float32 and isinstance(p, Tensor)
    assert nn.Parameter(np.arange(3)).dtype == np.float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    t = Tensor(np.zeros(2, dtype=np.float32))
    assert nn.Parameter(t).data is t.data  # shares the array
    assert "Parameter containing" in repr(p)
    with pytest.raises(TypeError):
        nn.Parameter(np.array(["a"]))


def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    assert [type(layer).__name__ for layer in seq] == ["Linear", "ReLU", "Linear"]
    assert len(seq[1:]) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError):
        seq[3]
    with pytest.raises(TypeError):
        nn.Sequential(nn.ReLU(), "relu")
    x = Tensor(np.ones((5, 3), dtype=np.float32))
    assert seq(x).shape == (5, 2)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and np.all((seq(x).data > 0) & (seq(x).data < 1))


# --------------------------------------------------------------- modes, grads, printing
def test_train_eval_propagate():
    m = Block()
    assert m.training and m.inner[0].training
    assert m.eval() is m
    assert all(not mod.training for mod in m.modules())
    assert m.train() is m
    assert all(mod.training for mod in m.modules())
    m.inner.eval()
    assert m.training and not m.inner.training and not m.inner[1].training


def test_zero_grad_sets_none():
    lin = nn.Linear(3, 2)
    lin(Tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()
    assert lin.weight.grad is not None and lin.bias.grad is not None
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_repr_shows_structure_and_count():
    m = Block()
    text = repr(m)
    assert text.startswith("Block(")
    assert "(conv): Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1))" in text
    assert "(layers.0): Linear(in_features=4, out_features=5, bias=True)" in text
    assert "(inner): Sequential(\n    (0): Linear" in text
    assert f"trainable parameters: {m.num_parameters():,}" in text
    # the count appears once, at the top level only
    assert text.count("trainable parameters") == 1


# --------------------------------------------------------------- state dicts
def test_state_dict_is_a_copy_and_round_trips(tmp_path):
    nn.manual_seed(1)
    a = Block()
    nn.manual_seed(2)
    b = Block()
    sd = a.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["conv.weight"][...] = 7  # a copy: the module is unchanged
    assert not np.any(a.conv.weight.data == 7)
    before = b.conv.weight.data  # loading writes in place: the same array object
    b.load_state_dict(a.state_dict())
    assert b.conv.weight.data is before
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    # through an npz checkpoint
    nn.manual_seed(3)
    c = Block()
    save(a, tmp_path / "block.npz")
    c.load_state_dict(load(tmp_path / "block.npz"))
    for pa, pc in zip(a.parameters(), c.parameters()):
        np.testing.assert_array_equal(pa.data, pc.data)


def test_load_state_dict_casts_to_parameter_dtype():
    lin = nn.Linear(2, 3)
    sd = {k: v.astype(np.float64) + 0.5 for k, v in lin.state_dict().items()}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == np.float32
    np.testing.assert_allclose(lin.weight.data, sd["weight"], rtol=1e-6)
    lin.load_state_dict({"weight": Tensor(np.zeros((3, 2))), "bias": np.zeros(3, dtype=np.int64)})
    assert not lin.weight.data.any() and lin.bias.dtype == np.float32


def _snapshot(m):
    return {k: v.copy() for k, v in m.state_dict().items()}


def test_load_state_dict_refusals_change_nothing():
    m = Block()
    good = _snapshot(m)
    new = {k: v + 1 for k, v in good.items()}

    missing = dict(new)
    del missing["layers.0.bias"]
    with pytest.raises(ValueError, match=r"missing keys: layers\.0\.bias"):
        m.load_state_dict(missing)

    extra = dict(new, **{"layers.9.weight": np.zeros(1)})
    with pytest.raises(ValueError, match=r"unexpected keys: layers\.9\.weight"):
        m.load_state_dict(extra)

    wrong = dict(new, **{"conv.weight": np.zeros((3, 2, 5, 5))})
    with pytest.raises(ValueError) as info:
        m.load_state_dict(wrong)
    msg = str(info.value)
    assert "conv.weight" in msg and "(3, 2, 3, 3)" in msg and "(3, 2, 5, 5)" in msg

    everything = dict(wrong, **{"bogus": np.zeros(2)})
    del everything["scale"]
    with pytest.raises(ValueError) as info:
        m.load_state_dict(everything)
    msg = str(info.value)
    assert "missing keys: scale" in msg and "unexpected keys: bogus" in msg and "conv.weight" in msg

    with pytest.raises(ValueError, match="not numeric"):
        m.load_state_dict(dict(new, scale=np.array(["a", "b", "c"])))
    with pytest.raises(TypeError):
        m.load_state_dict([("scale", np.ones(3))])

    # none of the refused loads touched any parameter (checks happen before writes)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, good[k])


def test_load_state_dict_non_strict():
    m = Block()
    sd = _snapshot(m)
    res = m.load_state_dict({"scale": np.full(3, 2.0), "extra": np.zeros(1)}, strict=False)
    assert "conv.weight" in res.missing_keys and res.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(m.scale.data, 2.0)
    np.testing.assert_array_equal(m.conv.weight.data, sd["conv.weight"])
    with pytest.raises(ValueError, match="shape mismatch"):  # shapes are checked even when not strict
        m.load_state_dict({"scale": np.ones(4)}, strict=False)


# --------------------------------------------------------------- initialisation
def test_seeded_init_is_reproducible():
    nn.manual_seed(123)
    a = Block()
    nn.manual_seed(123)
    b = Block()
    nn.manual_seed(124)
    c = Block()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a.conv.weight.data, c.conv.weight.data)
    with pytest.raises(ValueError):
        nn.manual_seed(-1)


def test_init_bounds_and_dtype():
    nn.manual_seed(0)
    conv = nn.Conv2d(4, 8, (3, 2))
    lin = nn.Linear(50, 30)
    for p, fan_in in [(conv.weight, 4 * 3 * 2), (conv.bias, 4 * 3 * 2), (lin.weight, 50), (lin.bias, 50)]:
        bound = 1 / np.sqrt(fan_in)
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.8 * bound  # really uses the range (many samples)
    assert conv.weight.shape == (8, 4, 3, 2) and conv.bias.shape == (8,)
    assert lin.weight.shape == (30, 50) and lin.bias.shape == (30,)


def test_conv_connection_init_and_counts():
    nn.manual_seed(0)
    table = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 0, 0]])
    conv = nn.Conv2d(3, 4, 3, connection=table)
    assert conv.connection.dtype == np.uint8 and conv.connection.shape == (4, 3)
    w, b = conv.weight.data, conv.bias.data
    assert np.all(w[table == 0] == 0)  # unconnected kernels start at exactly 0
    for o in range(3):  # fan_in counts only the connected input maps
        bound = 1 / np.sqrt(table[o].sum() * 9)
        assert np.abs(w[o]).max() <= bound and abs(b[o]) <= bound
    assert b[3] == 0  # a map with no inputs: fan_in 0, bias bound 0
    assert conv.num_parameters() == 4 * 3 * 9 + 4
    assert conv.trainable_parameter_count() == 6 * 9 + 4
    assert "connection" not in " ".join(conv.state_dict())
    assert "connection=6/12 kernels" in repr(conv)


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(in_channels=0, out_channels=2, kernel_size=3), ValueError, "in_channels"),
        (dict(in_channels=1, out_channels=2.0, kernel_size=3), TypeError, "out_channels"),  # a type: TypeError
        (dict(in_channels=1, out_channels=2, kernel_size=(3, 0)), ValueError, "kernel_size"),
        (dict(in_channels=1, out_channels=2, kernel_size=3, stride=0), ValueError, "stride"),
        (dict(in_channels=1, out_channels=2, kernel_size=3, padding=-1), ValueError, "padding"),
        (dict(in_channels=1, out_channels=2, kernel_size=3, padding="bad"), ValueError, "padding"),
        (dict(in_channels=1, out_channels=2, kernel_size=3, stride=2, padding="same"), ValueError, "same"),
        (dict(in_channels=2, out_channels=2, kernel_size=3, connection=np.ones((2, 3))), ValueError, "connection"),
        (dict(in_channels=2, out_channels=2, kernel_size=3, connection=np.full((2, 2), 2)), ValueError, "connection"),
        (dict(in_channels=True, out_channels=2, kernel_size=3), TypeError, "in_channels"),  # bool is no int
        (dict(in_channels=1, out_channels=2, kernel_size=3.0), TypeError, "kernel_size"),
        (dict(in_channels=1, out_channels=2, kernel_size=3, bias=1), TypeError, "bias"),
    ],
)
def test_conv_bad_arguments(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        nn.Conv2d(**kwargs)


def test_layer_and_function_agree_on_the_error_type():
    """One policy: a float where an int belongs is a TypeError in the layer and in the function."""
    x = Tensor(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(TypeError, match="out_channels"):
        nn.Conv2d(1, 2.0, 3)
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(x, 2.0)
    with pytest.raises(TypeError, match="kernel_size"):
        nn.MaxPool2d(2.0)
    with pytest.raises(TypeError, match="seed"):
        nn.manual_seed(1.5)


def test_conv_layer_normalises_its_arguments_once():
    conv = nn.Conv2d(6, 16, 5, padding=[1, 2], connection=np.array(figures.LENET_C3_TABLE, dtype=np.int64))
    assert conv.kernel_size == (5, 5) and conv.stride == (1, 1) and conv.padding == (1, 2)
    assert conv.connection.dtype == np.uint8 and conv.connection.flags.c_contiguous
    assert not conv.connection.flags.writeable
    table = conv.connection
    conv(Tensor(np.zeros((1, 6, 8, 8), np.float32)))
    assert conv.connection is table  # forward does not rebuild it


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.MaxPool2d(0)
    with pytest.raises(ValueError, match="stride"):
        nn.AvgPool2d(2, stride=-1)
    with pytest.raises(ValueError, match="channels"):
        nn.AvgPool2d(2, channels=0)
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"3 features.*\(4, 5\)"):
        lin(Tensor(np.ones((4, 5), dtype=np.float32)))
    with pytest.raises(TypeError):
        lin(Tensor(np.ones((4, 3), dtype=np.int64)))


# --------------------------------------------------------------- forward values
def test_linear_forward_matches_numpy():
    lin = nn.Linear(4, 3)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    y = lin(Tensor(x))
    assert y.shape == (5, 3) and y.dtype == np.float32
    assert_close(y.data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-5, atol=1e-6)
    assert lin(Tensor(x[0])).shape == (3,)
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and len(no_bias.parameters()) == 1
    assert_close(no_bias(Tensor(x)).data, x @ no_bias.weight.data.T, rtol=1e-5, atol=1e-6)


def test_conv_forward_matches_naive_loops():
    rng = np.random.default_rng(1)
    conv = nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1).double()
    x = rng.standard_normal((2, 2, 6, 5))
    out = conv(Tensor(x))
    ref = conv_ref(x, conv.weight.data, conv.bias.data, stride=(2, 1), padding=(1, 1))
    assert out.shape == ref.shape
    assert_close(out.data, ref, rtol=1e-10, atol=1e-12)


def test_conv_with_connection_equals_masked_dense():
    rng = np.random.default_rng(2)
    table = np.array([[1, 0], [0, 1], [1, 1]])
    conv = nn.Conv2d(2, 3, 3, connection=table).double()
    conv.weight.data[...] = rng.standard_normal(conv.weight.shape)  # nonzero everywhere
    x = rng.standard_normal((2, 2, 5, 5))
    ref = conv_ref(x, conv.weight.data * table[:, :, None, None], conv.bias.data)
    assert_close(conv(Tensor(x)).data, ref, rtol=1e-10, atol=1e-12)


def test_pool_vec_activation_layers():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 4))
    t = Tensor(x)
    blocks = x.reshape(2, 3, 2, 2, 2, 2)
    assert_close(nn.MaxPool2d(2)(t).data, blocks.max(axis=(3, 5)))
    assert_close(nn.AvgPool2d(2)(t).data, blocks.mean(axis=(3, 5)), rtol=1e-12)
    pool = nn.AvgPool2d(2, channels=3).double()
    assert [n for n, _ in pool.named_parameters()] == ["weight"]
    assert_close(pool.weight.data, np.full(3, 0.25))
    assert_close(pool(t).data, blocks.mean(axis=(3, 5)), rtol=1e-12)  # starts as the mean
    pool.weight.data[...] = [1.0, 2.0, -1.0]
    assert_close(pool(t).data, blocks.sum(axis=(3, 5)) * np.array([1.0, 2.0, -1.0])[None, :, None, None],
                 rtol=1e-12)
    # stride other than the window
    assert nn.MaxPool2d(3, stride=1)(t).shape == (2, 3, 2, 2)
    # vec: column stacking, map by map
    v = nn.Vec()(t).data
    assert v.shape == (2, 48)
    assert_close(v, x.transpose(0, 1, 3, 2).reshape(2, -1))
    assert_close(nn.ReLU()(t).data, np.maximum(x, 0))
    assert_close(nn.Tanh()(t).data, np.tanh(x))
    assert_close(nn.Sigmoid()(t).data, 1 / (1 + np.exp(-x)))
    assert_close(nn.ScaledTanh()(t).data, 1.7159 * np.tanh(2 * x / 3))


def test_subsampling_lecture_form():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4, 6))
    s = nn.Subsampling(3).double()
    assert [n for n, _ in s.named_parameters()] == ["weight", "bias"]
    s.weight.data[...] = [0.5, -1.0, 2.0]
    s.bias.data[...] = [0.1, 0.2, 0.3]
    sums = x.reshape(2, 3, 2, 2, 3, 2).sum(axis=(3, 5))
    ref = sums * s.weight.data[None, :, None, None] + s.bias.data[None, :, None, None]
    assert_close(s(Tensor(x)).data, ref, rtol=1e-12)
    assert s.trainable_parameter_count() == 6


def test_layers_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    lin = nn.Linear(6, 5).double()
    x = rng.standard_normal((2, 3, 7, 7))
    tc = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    tl = torch.nn.Linear(6, 5).double()
    with torch.no_grad():
        tc.weight.copy_(torch.from_numpy(conv.weight.data))
        tc.bias.copy_(torch.from_numpy(conv.bias.data))
        tl.weight.copy_(torch.from_numpy(lin.weight.data))
        tl.bias.copy_(torch.from_numpy(lin.bias.data))
    tx = torch.tensor(x, requires_grad=True)
    ours_x = Tensor(x.copy(), requires_grad=True)
    out = conv(ours_x)
    ref = tc(tx)
    assert_close(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    assert_close(ours_x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_close(conv.weight.grad, tc.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_close(conv.bias.grad, tc.bias.grad.numpy(), rtol=1e-10, atol=1e-12)

    xl = rng.standard_normal((4, 6))
    out = lin(Tensor(xl))
    ref = tl(torch.from_numpy(xl))
    assert_close(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    assert_close(lin.weight.grad, tl.weight.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert_close(lin.bias.grad, tl.bias.grad.numpy(), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------- gradients
def _check_layer(layer, x_shape, seed=0):
    layer.double()
    x = Tensor(np.random.default_rng(seed).standard_normal(x_shape), requires_grad=True)
    params = layer.parameters()
    assert gradcheck(lambda x, *ps: layer(x), [x, *params])


def test_gradcheck_linear():
    _check_layer(nn.Linear(3, 2), (4, 3))


def test_gradcheck_conv():
    _check_layer(nn.Conv2d(2, 2, 2, stride=(1, 2), padding=1), (2, 2, 3, 4))


def test_gradcheck_conv_with_connection():
    _check_layer(nn.Conv2d(2, 3, 2, connection=[[1, 0], [1, 1], [0, 1]]), (1, 2, 3, 3))


def test_gradcheck_pooling_layers():
    _check_layer(nn.Subsampling(2), (2, 2, 4, 4))
    _check_layer(nn.AvgPool2d(2, stride=1, channels=2), (1, 2, 3, 3))
    _check_layer(nn.ScaledTanh(), (2, 3))


def test_gradcheck_small_sequential():
    net = nn.Sequential(nn.Conv2d(1, 2, 2), nn.Tanh(), nn.AvgPool2d(2, channels=2), nn.Vec(), nn.Linear(2, 3))
    _check_layer(net, (2, 1, 3, 3))


def test_double_float_conversion():
    lin = nn.Linear(2, 2)
    w = lin.weight.data.copy()
    lin.double()
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64
    lin.float()
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, w)
