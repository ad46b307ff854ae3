"""PyTorch-shaped layers and Module methods against torch: Dropout, BatchNorm, Flatten, the
activation modules, containers, buffers in state_dict, train/eval, to/apply/requires_grad_,
printing, nn.init, and one_hot."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn
from helpers import random_grad

torch = pytest.importorskip("torch")


def _copy_weights(ours, theirs):
    """Copy our state into a torch module of the same structure (parameters and buffers)."""
    sd = {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(sd)


def _compare(ours, theirs, x, rtol=1e-10, atol=1e-12, seed=0):
    """Outputs, input gradient and every parameter gradient (random upstream gradient)."""
    xo = Tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=rtol, atol=atol)
    g = random_grad(yo.shape, seed=seed)
    yo.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(np.asarray(xo.grad), xt.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(np.asarray(p.grad), tparams[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def _cnn(tnn):
    """The same small CNN in either package (tnn is nn or torch.nn)."""
    return tnn.Sequential(
        tnn.Conv2d(2, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.LeakyReLU(0.1), tnn.Dropout(0.3),
        tnn.Conv2d(4, 3, 3), tnn.ELU(), tnn.Flatten(), tnn.Linear(3 * 3 * 3, 6), tnn.BatchNorm1d(6),
        tnn.GELU(approximate="tanh"), tnn.Identity(), tnn.Linear(6, 4), tnn.LogSoftmax(dim=1),
    )


# --------------------------------------------------------------- a whole model against torch
def test_model_state_dict_names_outputs_and_grads_match_torch():
    nn.manual_seed(0)
    ours, theirs = _cnn(nn).double(), _cnn(torch.nn).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_weights(ours, theirs)
    x = np.random.default_rng(1).standard_normal((5, 2, 5, 5))
    ours.eval(), theirs.eval()
    _compare(ours, theirs, x)
    # training mode with the dropout layer switched off: batch statistics, running stats updated
    ours.train(), theirs.train()
    ours[3].p = theirs[3].p = 0.0
    _compare(ours, theirs, x, seed=1)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_print_matches_torch():
    ours, theirs = _cnn(nn), _cnn(torch.nn)
    text = repr(ours)
    assert text.splitlines()[:-1] == repr(theirs).splitlines()  # then our trainable-parameter note
    ml_ours = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    ml_theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU()])
    assert repr(ml_ours).splitlines()[:-1] == repr(ml_theirs).splitlines()
    for layer in ("Dropout2d(0.2)", "Softmax(dim=0)", "ReLU(inplace=True)", "Unflatten(1, (2, 3))",
                  "BatchNorm1d(3, momentum=None, affine=False)"):
        assert repr(eval("nn." + layer)) == repr(eval("torch.nn." + layer))


# --------------------------------------------------------------- batch norm
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_running_statistics_after_three_steps(momentum):
    ours = nn.BatchNorm2d(3, momentum=momentum).double()
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    rng = np.random.default_rng(2)
    for step in range(3):
        x = rng.standard_normal((4, 3, 5, 2)) * (step + 1) + step
        _compare(ours, theirs, x, seed=step)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(ours.state_dict()[name], theirs.state_dict()[name].numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval(), theirs.eval()
    _compare(ours, theirs, rng.standard_normal((2, 3, 5, 2)))


def test_batchnorm_options_and_state_round_trip():
    for kwargs in (dict(affine=False), dict(track_running_stats=False)):
        ours, theirs = nn.BatchNorm1d(4, **kwargs).double(), torch.nn.BatchNorm1d(4, **kwargs).double()
        assert list(ours.state_dict()) == list(theirs.state_dict())
        x = np.random.default_rng(3).standard_normal((6, 4, 3))
        _compare(ours, theirs, x)
        ours.eval(), theirs.eval()
        _compare(ours, theirs, x)
    # load_state_dict restores the buffers, also from torch's own state dict
    trained = torch.nn.BatchNorm2d(2)
    trained(torch.randn(4, 2, 3, 3) * 3 + 1)
    bn = nn.BatchNorm2d(2)
    bn.load_state_dict(trained.state_dict())
    np.testing.assert_allclose(bn.running_var.numpy(), trained.running_var.numpy(), rtol=1e-7)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == np.int64
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"2 channels.*\(4, 3, 3, 3\)"):
        bn(Tensor(np.zeros((4, 3, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        bn(Tensor(np.zeros((4, 2), np.float32)))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(2, momentum=2.0)


# --------------------------------------------------------------- dropout
def test_dropout_train_eval_and_seed():
    x = Tensor(np.ones((200, 50), np.float32))
    drop = nn.Dropout(0.3)
    tg.manual_seed(7)
    a = drop(x).data
    tg.manual_seed(7)
    b = drop(x).data
    np.testing.assert_array_equal(a, b)  # the package generator: same seed, same mask
    assert abs((a == 0).mean() - 0.3) < 0.02
    t = torch.nn.functional.dropout(torch.ones(200, 50), 0.3)
    assert set(np.unique(a)) == set(np.unique(t.numpy())) == {0.0, np.float32(1 / 0.7)}  # PyTorch's scaling
    drop.eval()
    assert drop(x) is x
    model = nn.Sequential(nn.Linear(50, 50), nn.Dropout(0.9))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    assert not np.array_equal(model.train()(x).data, model[0](x).data)
    assert np.all(F.dropout(x, p=1.0).data == 0) and F.dropout(x, p=0.0).data is not x.data


def test_dropout2d_drops_whole_channels():
    tg.manual_seed(3)
    y = nn.Dropout2d(0.5)(Tensor(np.ones((20, 8, 3, 3), np.float32))).data
    per_channel = y.reshape(20, 8, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))
    assert set(np.unique(y)) == {0.0, 2.0} and y.dtype == np.float32


# --------------------------------------------------------------- Flatten, Vec, activation modules
def test_flatten_is_row_major_and_vec_is_not():
    x = np.arange(2 * 3 * 2 * 4, dtype=np.float64).reshape(2, 3, 2, 4)
    np.testing.assert_array_equal(nn.Flatten()(Tensor(x)).data, torch.nn.Flatten()(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(nn.Flatten(0, 2)(Tensor(x)).data, x.reshape(12, 4))
    assert not np.array_equal(nn.Vec()(Tensor(x)).data, nn.Flatten()(Tensor(x)).data)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 8))(nn.Flatten()(Tensor(x))).data, x.reshape(2, 3, 8))


@pytest.mark.parametrize("name, args", [("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("GELU", ()), ("Softmax", (1,)),
                                        ("LogSoftmax", (0,)), ("ReLU", ()), ("Identity", (3,))])
def test_activation_modules_match_torch(name, args):
    x = np.random.default_rng(4).standard_normal((3, 4))
    _compare(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), x)
    if name in ("LeakyReLU", "ELU", "ReLU"):
        assert getattr(nn, name)(inplace=True)(Tensor(x)).shape == (3, 4)  # accepted, ignored


def test_one_hot_matches_torch():
    labels = np.array([[0, 3], [2, 1]])
    ours = F.one_hot(Tensor(labels))
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.data, torch.nn.functional.one_hot(torch.from_numpy(labels)).numpy())
    assert F.one_hot(Tensor(labels), num_classes=6).shape == (2, 2, 6)
    with pytest.raises(ValueError, match="out of range for num_classes=3"):
        F.one_hot(Tensor(labels), 3)
    with pytest.raises(ValueError, match=">= 0"):
        F.one_hot(Tensor(np.array([-1])))
    with pytest.raises(TypeError, match="integer class indices"):
        F.one_hot(Tensor(np.zeros(2)))


# --------------------------------------------------------------- Module methods
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.ModuleList([nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3, bias=False)})
        self.register_buffer("steps", Tensor(np.zeros((), np.int64)))
        self.register_buffer("scratch", Tensor(np.zeros(2)), persistent=False)
        self.register_parameter("scale", nn.Parameter([1.0, 2.0]))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.ModuleList([torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2)])
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 1), "b": torch.nn.Linear(2, 3, bias=False)})
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.register_parameter("scale", torch.nn.Parameter(torch.tensor([1.0, 2.0])))


def test_module_discovery_matches_torch():
    ours, theirs = Net(), TorchNet()
    # PyTorch's order: a module's own parameters (then, in a state dict, its own buffers) before
    # its children's
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.children())) == 2 and len(list(ours.modules())) == 7
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in ours.features.named_parameters(prefix="f")] == ["f.0.weight", "f.0.bias", "f.1.weight",
                                                                          "f.1.bias"]
    assert ours.get_submodule("heads.b") is ours.heads["b"]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.features[0].weight.numpy(), theirs.features[0].weight.detach().numpy())
    # a Module assigned later is registered; a plain Tensor where a Parameter was is refused
    ours.extra = nn.Linear(1, 1)
    assert "extra.weight" in ours.state_dict()
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'scale'"):
        ours.scale = Tensor([1.0])
    ours.steps = np.ones((), np.int64)  # a buffer takes arrays and Tensors
    assert isinstance(ours.steps, Tensor)
    with pytest.raises(TypeError, match="buffer 'steps'"):
        ours.steps = "one"
    with pytest.raises(KeyError, match="already exists"):
        ours.register_buffer("scale", Tensor([0.0]))


def test_train_eval_to_apply_requires_grad():
    net = Net()
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules()) and not net.heads["a"].training
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen[-1] == "Net" and seen.count("Linear") == 2
    assert net.to("cpu") is net and net.to(tg.device("cpu")) is net
    net.to(tg.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.features[1].running_mean.dtype == np.float64 and net.steps.dtype == np.int64
    net.float()
    assert net.scratch.dtype == np.float32
    with pytest.raises(ValueError, match="only 'cpu'"):
        net.to("cuda")
    with pytest.raises(TypeError, match="float dtypes"):
        net.to(tg.int64)
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    lin = nn.Linear(3, 2)
    lin(Tensor(np.ones((2, 3), np.float32))).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert not np.asarray(lin.weight.grad).any()


def test_default_dtype_for_parameters_and_layers():
    assert nn.Parameter([1.0, 2.0]).dtype == Tensor([1.0, 2.0]).dtype == np.float32
    tg.set_default_dtype(tg.float64)
    try:
        assert nn.Parameter([1.0, 2.0]).dtype == np.float64
        for layer in (nn.Linear(2, 3), nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Subsampling(2)):
            assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float64)}
    finally:
        tg.set_default_dtype(tg.float32)
    assert nn.Linear(2, 3).weight.dtype == np.float32


def test_containers():
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.append(nn.ReLU())
    ml += [nn.Linear(2, 1)]
    ml.insert(0, nn.Identity())
    assert len(ml) == 4 and isinstance(ml[-1], nn.Linear) and len(ml[1:]) == 3
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias", "3.weight", "3.bias"]
    with pytest.raises(TypeError):
        ml.append("relu")
    md = nn.ModuleDict()
    md["x"] = nn.Linear(1, 1)
    assert "x" in md and list(md.keys()) == ["x"] and len(md.parameters()) == 2
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 1, 1), act=nn.ReLU()))
    assert list(seq.state_dict()) == ["conv.weight", "conv.bias"] and len(seq) == 2


# --------------------------------------------------------------- nn.init
def test_init_formulas_and_seed():
    w = nn.Parameter(np.zeros((400, 300, 3, 3)))
    fan_in, fan_out = 300 * 9, 400 * 9
    assert nn.init._calculate_fan_in_and_fan_out(w) == (fan_in, fan_out)
    cases = [
        (lambda: nn.init.xavier_uniform_(w, gain=2.0), 2.0 * math.sqrt(6 / (fan_in + fan_out)), "uniform"),
        (lambda: nn.init.xavier_normal_(w), math.sqrt(2 / (fan_in + fan_out)), "normal"),
        (lambda: nn.init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(fan_in), "uniform"),
        (lambda: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / fan_out), "normal"),
        (lambda: nn.init.uniform_(w, -0.5, 0.5), 0.5, "uniform"),
        (lambda: nn.init.normal_(w, std=0.02), 0.02, "normal"),
    ]
    for fill, scale, kind in cases:
        before = w.data
        assert fill() is w and w.data is before  # in place, returns the tensor
        if kind == "uniform":  # U(-b, b): max |w| just under b, std b/√3
            assert np.abs(w.data).max() <= scale and np.abs(w.data).max() > 0.999 * scale
            assert abs(w.data.std() - scale / math.sqrt(3)) < 0.01 * scale
        else:
            assert abs(w.data.std() - scale) < 0.01 * scale and abs(w.data.mean()) < 0.01 * scale
    for name, param, gain in [("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("leaky_relu", 0.2, None),
                              ("selu", None, 0.75), ("conv2d", None, 1.0)]:
        expected = torch.nn.init.calculate_gain(name, param)
        assert nn.init.calculate_gain(name, param) == pytest.approx(expected)
    tg.manual_seed(5)
    a = nn.init.xavier_uniform_(nn.Parameter(np.zeros((3, 4)))).data.copy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(a, nn.init.xavier_uniform_(nn.Parameter(np.zeros((3, 4)))).data)
    assert np.all(nn.init.constant_(w, 0.5).data == 0.5) and np.all(nn.init.zeros_(w).data == 0)
    assert np.all(nn.init.ones_(nn.Parameter(np.zeros(3, np.float32))).data == 1)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_uniform_(w, mode="fan_avg")
