"""LeNet-5: shapes, parameter counts (computed by hand), the C3 connection table and its
gradients, state-dict names, and the whole network against an equivalent PyTorch model."""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, gradcheck, nn
from tinygrad_cnn.models import C3_TABLE, LeNet5
from helpers import assert_close

# Table I of LeCun et al. 1998 (rows: C3 maps, columns: S2 maps).
TABLE_I = np.array([
    [1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1], [1, 0, 0, 0, 1, 1],
    [1, 1, 0, 0, 0, 1], [1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1], [1, 0, 0, 1, 1, 1],
    [1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 1], [1, 1, 0, 1, 1, 0], [0, 1, 1, 0, 1, 1], [1, 0, 1, 1, 0, 1],
    [1, 1, 1, 1, 1, 1],
])

# Trainable parameters per layer, by hand:
#   C1 6 kernels 1x5x5 + 6 biases              = 150 + 6       = 156
#   S2 6 coefficients + 6 biases               =                  12
#   C3 60 connected 5x5 kernels + 16 biases    = 1500 + 16     = 1,516
#   S4 16 coefficients + 16 biases             =                  32
#   C5 120 kernels 16x5x5 + 120 biases         = 48000 + 120   = 48,120
#   F6 84x120 weights + 84 biases              = 10080 + 84    = 10,164
#   output 10x84 weights + 10 biases           = 840 + 10      = 850
#   total                                                      = 60,850
# C3 is stored dense (16x6x5x5): 36 unconnected kernels x 25 = 900 more stored numbers.
PER_LAYER = {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164, "output": 850}
TOTAL = 60850


@pytest.fixture(scope="module")
def model():
    nn.manual_seed(0)
    return LeNet5()


def images(n, seed=0, dtype=np.float32):
    return Tensor(np.random.default_rng(seed).standard_normal((n, 1, 32, 32)).astype(dtype))


def test_c3_table_is_table_one():
    assert C3_TABLE.shape == (16, 6) and C3_TABLE.sum() == 60
    np.testing.assert_array_equal(C3_TABLE, TABLE_I)
    try:
        from tinygrad_cnn.figures import LENET_C3_TABLE
    except ImportError:
        return
    np.testing.assert_array_equal(C3_TABLE, LENET_C3_TABLE)


def test_output_shape(model):
    y = model(images(3))
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert np.all(np.isfinite(y.data))
    single = model(images(3).data[0])  # one unbatched (1, 32, 32) image
    assert single.shape == (10,)
    assert_close(single.data, y.data[0], rtol=1e-5, atol=1e-6)
    assert LeNet5(num_classes=4)(images(2)).shape == (2, 4)


def test_intermediate_shapes(model):
    x = images(2)
    x = model.c1(x)
    assert x.shape == (2, 6, 28, 28)
    x = model.s2(x)
    assert x.shape == (2, 6, 14, 14)
    x = model.c3(x)
    assert x.shape == (2, 16, 10, 10)
    x = model.s4(x)
    assert x.shape == (2, 16, 5, 5)
    x = model.c5(x)
    assert x.shape == (2, 120, 1, 1)


def test_bad_input(model):
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\).*\(2, 1, 28, 28\)"):
        model(Tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)))
    with pytest.raises(ValueError, match="num_classes"):
        LeNet5(num_classes=0)


def test_parameter_counts(model):
    for name, count in PER_LAYER.items():
        assert getattr(model, name).trainable_parameter_count() == count, name
    assert sum(PER_LAYER.values()) == TOTAL
    assert model.trainable_parameter_count() == TOTAL
    assert model.num_parameters() == TOTAL + 36 * 25
    assert "trainable parameters: 60,850" in repr(model)


def test_state_dict_names(model):
    sd = model.state_dict()
    assert list(sd) == [
        "c1.weight", "c1.bias", "s2.weight", "s2.bias", "c3.weight", "c3.bias", "s4.weight", "s4.bias",
        "c5.weight", "c5.bias", "f6.weight", "f6.bias", "output.weight", "output.bias",
    ]
    shapes = {k: v.shape for k, v in sd.items()}
    assert shapes["c3.weight"] == (16, 6, 5, 5) and shapes["s2.weight"] == (6,) and shapes["s4.bias"] == (16,)
    assert shapes["c5.weight"] == (120, 16, 5, 5) and shapes["f6.weight"] == (84, 120)
    assert shapes["output.weight"] == (10, 84)
    assert all(v.dtype == np.float32 for v in sd.values())
    other = LeNet5()
    other.load_state_dict(sd)
    assert_close(other(images(2)).data, model(images(2)).data, rtol=0, atol=0)


def test_c3_gradient_follows_table_one(model):
    model.zero_grad()
    mask = C3_TABLE.astype(bool)
    assert np.all(model.c3.weight.data[~mask] == 0)  # unconnected kernels start at 0
    loss = F.cross_entropy(model(images(4, seed=1)), np.array([0, 3, 7, 9]))
    loss.backward()
    g = model.c3.weight.grad.data
    assert g.shape == (16, 6, 5, 5)
    assert np.all(g[~mask] == 0.0)  # exactly zero off the table
    per_kernel = np.abs(g[mask]).reshape(60, 25).max(axis=1)
    assert np.all(per_kernel > 0)  # every connected kernel learns
    for p in model.parameters():
        assert p.grad is not None and p.grad.shape == p.shape
    model.zero_grad()


def test_gradcheck_small_parameters():
    nn.manual_seed(1)
    net = LeNet5().double()
    x = images(1, seed=2, dtype=np.float64)
    # S2's coefficients and biases: their gradient crosses every later layer (C3's table included)
    params = [net.s2.weight, net.s2.bias]
    assert gradcheck(lambda *ps: net(x), params)


def test_matches_torch_lenet():
    """The whole network (forward and every gradient) against the same computation in PyTorch."""
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    nn.manual_seed(2)
    net = LeNet5().double()
    for p in net.parameters():  # make the trainable coefficients and biases non-trivial
        p.data[...] += np.random.default_rng(3).uniform(-0.1, 0.1, p.shape) * (p.data != 0)
    x = np.random.default_rng(4).standard_normal((3, 1, 32, 32))
    labels = np.array([1, 5, 9])

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in net.state_dict().items()}
    mask = torch.tensor(C3_TABLE[:, :, None, None].astype(np.float64))

    def squash(t):
        return 1.7159 * torch.tanh(t * (2.0 / 3.0))

    def subsample(t, w, b):
        return tF.avg_pool2d(t, 2) * 4 * w[None, :, None, None] + b[None, :, None, None]

    h = tF.conv2d(torch.tensor(x), tp["c1.weight"], tp["c1.bias"])
    h = squash(subsample(h, tp["s2.weight"], tp["s2.bias"]))
    h = tF.conv2d(h, tp["c3.weight"] * mask, tp["c3.bias"])
    h = squash(subsample(h, tp["s4.weight"], tp["s4.bias"]))
    h = squash(tF.conv2d(h, tp["c5.weight"], tp["c5.bias"])).reshape(3, 120)
    h = squash(tF.linear(h, tp["f6.weight"], tp["f6.bias"]))
    logits_ref = tF.linear(h, tp["output.weight"], tp["output.bias"])
    loss_ref = tF.cross_entropy(logits_ref, torch.tensor(labels))
    loss_ref.backward()

    logits = net(Tensor(x))
    assert_close(logits.data, logits_ref.detach().numpy(), rtol=1e-9, atol=1e-12)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    assert_close(loss.data, loss_ref.item(), rtol=1e-10)
    for name, p in net.named_parameters():
        assert_close(p.grad, tp[name].grad.numpy(), rtol=1e-7, atol=1e-12)
