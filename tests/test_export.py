"""tinygrad_cnn.export: to/from PyTorch and to ONNX give the same outputs (skipped without them)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, export, nn
from tinygrad_cnn.models import C3_TABLE, LeNet5


def close(actual, expected, rel=1e-5):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    err = np.abs(actual - expected).max()
    assert err <= rel * np.abs(expected).max(), f"max error {err} against scale {np.abs(expected).max()}"


def batch(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def lenet(seed=0):
    nn.manual_seed(seed)
    return LeNet5()


def mixed_sequential(seed=0):
    """Every supported layer, non-square maps (vec ≠ row-major flatten there), a connection table."""
    nn.manual_seed(seed)
    table = np.array([[1, 0], [1, 1], [0, 1], [1, 1]])
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, connection=table),  # (N, 4, 12, 10)
        nn.Tanh(),
        nn.MaxPool2d(2),                                    # (N, 4, 6, 5)
        nn.Conv2d(4, 6, (3, 2), stride=(1, 1), padding="same"),
        nn.ReLU(),
        nn.AvgPool2d(2, stride=1, channels=6),              # trainable w·Σ form, (N, 6, 5, 4)
        nn.Sequential(nn.AvgPool2d((2, 1)), nn.ScaledTanh()),  # mean form, (N, 6, 2, 4)
        nn.Vec(),
        nn.Linear(48, 7),
        nn.Sigmoid(),
    )


# --------------------------------------------------------------- to_torch
def test_to_torch_lenet5_same_weights_names_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    model = lenet()
    tm = export.to_torch(model)
    ours = dict(model.named_parameters())
    theirs = dict(tm.named_parameters())
    assert list(ours) == list(theirs)  # c1.weight, c1.bias, s2.weight, ...
    x, labels = batch((6, 1, 32, 32)), np.array([0, 1, 2, 3, 4, 5])

    loss = F.cross_entropy(model(Tensor(x)), labels)
    loss.backward()
    tloss = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(labels))
    tloss.backward()
    close(tloss.item(), loss.item())
    for name, p in ours.items():
        close(theirs[name].grad.numpy(), p.grad, rel=1e-4)


def test_to_torch_sequential_with_connection_and_vec_same_outputs():
    torch = pytest.importorskip("torch")
    model = mixed_sequential()
    tm = export.to_torch(model)
    x = batch((3, 2, 12, 10), seed=1)
    close(tm(torch.from_numpy(x)).detach().numpy(), model(Tensor(x)).data)


def test_torch_copy_trains_and_masked_weights_get_zero_gradient():
    torch = pytest.importorskip("torch")
    model = lenet()
    tm = export.to_torch(model)
    before = {k: v.detach().clone() for k, v in tm.named_parameters()}
    opt = torch.optim.SGD(tm.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(tm(torch.from_numpy(batch((4, 1, 32, 32)))), torch.tensor([1, 2, 3, 4]))
    loss.backward()
    off_table = torch.from_numpy(1.0 - C3_TABLE.astype(np.float32))[:, :, None, None]
    assert torch.count_nonzero(tm.c3.weight.grad * off_table) == 0
    assert torch.count_nonzero(tm.c3.weight.grad) > 0
    opt.step()
    for name, p in tm.named_parameters():
        assert not torch.equal(p.detach(), before[name]), name
    assert torch.count_nonzero(tm.c3.weight.detach() * off_table) == 0
    # the original is untouched: weights were copied
    assert np.array_equal(model.c1.weight.data, before["c1.weight"].numpy())


def test_to_torch_rejects_unsupported_layer_by_name():
    pytest.importorskip("torch")

    class Square(nn.Module):
        def forward(self, x):
            return x * x

    with pytest.raises(TypeError, match=r"'Sequential\.1' of type Square"):
        export.to_torch(nn.Sequential(nn.ReLU(), Square()))
    with pytest.raises(TypeError, match="tinygrad_cnn Module"):
        export.to_torch("not a module")


# --------------------------------------------------------------- from_torch
def test_from_torch_sequential_same_outputs_and_names():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(1, 0)),
        torch.nn.Tanh(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),           # row-major: must not become vec
        torch.nn.Linear(6 * 3 * 1, 5),
        torch.nn.Sigmoid(),
        torch.nn.Sequential(torch.nn.Linear(5, 3, bias=False)),
    )
    state = nn.get_rng().bit_generator.state
    model = export.from_torch(tm)
    assert nn.get_rng().bit_generator.state == state  # the seeded stream is not advanced
    assert [k for k, _ in model.named_parameters()] == [k for k, _ in tm.named_parameters()]
    x = batch((4, 1, 12, 8), seed=2)
    close(model(Tensor(x)).data, tm(torch.from_numpy(x)).detach().numpy())


def test_from_torch_round_trips_lenet5():
    torch = pytest.importorskip("torch")
    model = lenet(seed=3)
    back = export.from_torch(export.to_torch(model))
    assert back.trainable_parameter_count() == model.trainable_parameter_count()
    x = batch((2, 1, 32, 32), seed=3)
    close(back(Tensor(x)).data, model(Tensor(x)).data)


def test_from_torch_rejects_what_it_cannot_express():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="groups=1"):
        export.from_torch(torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3, groups=2)))
    # pooling options pass through now; what our layers refuse is refused with the layer's name
    with pytest.raises(ValueError, match=r"'model\.0' \(MaxPool2d\).*padding"):
        export.from_torch(torch.nn.Sequential(torch.nn.MaxPool2d(2, padding=2)))
    with pytest.raises(TypeError, match="'model.0' of type RNN"):
        export.from_torch(torch.nn.Sequential(torch.nn.RNN(2, 2)))
    with pytest.raises(TypeError, match="torch.nn.Sequential"):
        export.from_torch(torch.nn.Linear(2, 2))


# --------------------------------------------------------------- to_onnx
@pytest.mark.parametrize("make, shape", [(lenet, (1, 32, 32)), (mixed_sequential, (2, 12, 10))])
def test_to_onnx_reproduced_by_onnxruntime_with_a_dynamic_batch(tmp_path, make, shape):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = make()
    path = tmp_path / "model.onnx"
    export.to_onnx(model, Tensor(batch((2,) + shape)), str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 5):  # other batch sizes than the example's
        x = batch((n,) + shape, seed=n)
        (y,) = session.run(None, {"input": x})
        close(y, model(Tensor(x)).data)


def test_to_onnx_of_a_model_from_torch_keeps_row_major_flatten(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(1)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 3, 2))
    path = tmp_path / "m.onnx"
    export.to_onnx(export.from_torch(tm), batch((2, 1, 6, 5)), path)
    x = batch((3, 1, 6, 5), seed=4)
    (y,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    close(y, tm(torch.from_numpy(x)).detach().numpy())


def test_to_onnx_bad_arguments(tmp_path):
    pytest.importorskip("onnx")
    model = lenet()
    with pytest.raises(ValueError, match="float32/float64 batch"):
        export.to_onnx(model, np.zeros((2, 1, 32, 32), np.int64), tmp_path / "a.onnx")
    with pytest.raises(ValueError, match="first axis is the batch"):
        export.to_onnx(model, batch((1, 32, 32)), tmp_path / "a.onnx")
    with pytest.raises(TypeError, match="Tensor or a numpy array"):
        export.to_onnx(model, [[1.0]], tmp_path / "a.onnx")

    class Square(nn.Module):
        def forward(self, x):
            return x * x

    with pytest.raises(TypeError, match=r"'1' of type Square"):
        export.to_onnx(nn.Sequential(nn.ReLU(), Square()), batch((2, 3)), tmp_path / "a.onnx")


# --------------------------------------------------------------- the PyTorch-shaped layers
def pytorch_shaped_sequential(seed=0, dtype=np.float32):
    """Batch norm (1d and 2d), dropout, every pooling option, the newer activations, flatten."""
    nn.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),                    # (N, 4, 11, 9)
        nn.BatchNorm2d(4, momentum=0.2),
        nn.LeakyReLU(0.1),
        nn.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True),  # (N, 4, 6, 5)
        nn.Dropout2d(0.3),
        nn.AvgPool2d(3, stride=1, padding=1, ceil_mode=False, count_include_pad=False),
        nn.ELU(0.7),
        nn.AvgPool2d(2, stride=1, divisor_override=3),     # (N, 4, 5, 4)
        nn.MaxPool2d(2, stride=1, dilation=2),             # (N, 4, 3, 2)
        nn.GELU(approximate="tanh"),
        nn.AdaptiveMaxPool2d((3, 2)),
        nn.Sequential(nn.AdaptiveAvgPool2d((2, None)), nn.Identity()),  # (N, 4, 2, 2)
        nn.Flatten(),
        nn.BatchNorm1d(16, momentum=None),
        nn.Dropout(0.4),
        nn.Linear(16, 6),
        nn.Softmax(dim=1),
        nn.LogSoftmax(dim=-1),
    )
    return model.to(dtype)


def test_to_torch_pytorch_shaped_layers_same_outputs_gradients_and_running_stats():
    torch = pytest.importorskip("torch")
    model = pytorch_shaped_sequential(seed=4, dtype=np.float64)
    x = batch((5, 2, 11, 9), seed=4).astype(np.float64)
    model(Tensor(x))  # one training pass: running statistics away from their initial values
    tm = export.to_torch(model)
    assert type(tm[1]) is torch.nn.BatchNorm2d and type(tm[4]) is torch.nn.Dropout2d
    ours_state, theirs_state = model.state_dict(), tm.state_dict()
    assert list(ours_state) == list(theirs_state)
    for k in ours_state:
        np.testing.assert_array_equal(ours_state[k], theirs_state[k].numpy())
    # training mode for batch norm, dropout off (random masks cannot match)
    for ours_layer, theirs_layer in zip(model.modules(), tm.modules()):
        if isinstance(ours_layer, (nn.Dropout, nn.Dropout2d)):
            ours_layer.eval()
            theirs_layer.eval()
    g = np.random.default_rng(5).standard_normal((5, 6))
    xt = Tensor(x, requires_grad=True)
    y = model(xt)
    y.backward(g)
    xs = torch.from_numpy(x).requires_grad_()
    ys = tm(xs)
    ys.backward(torch.from_numpy(g))
    close(y.data, ys.detach().numpy(), rel=1e-10)
    close(xt.grad.numpy(), xs.grad.numpy(), rel=1e-10)
    for (name, p), (tname, tp) in zip(model.named_parameters(), tm.named_parameters()):
        assert name == tname  # atol: the conv bias before batch norm has a gradient of exactly 0 (± rounding)
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)
    ours_state, theirs_state = model.state_dict(), tm.state_dict()
    for k in ours_state:  # running_mean, running_var (cumulative for momentum=None), num_batches_tracked
        close(ours_state[k], theirs_state[k].numpy(), rel=1e-12)
    model.eval()
    tm.eval()
    close(model(Tensor(x)).data, tm(torch.from_numpy(x)).detach().numpy(), rel=1e-10)


def test_from_torch_pytorch_shaped_layers_round_trip():
    torch = pytest.importorskip("torch")
    model = pytorch_shaped_sequential(seed=6)
    model(Tensor(batch((5, 2, 11, 9), seed=6)))
    tm = export.to_torch(model).eval()
    back = export.from_torch(tm)
    assert not back.training
    assert [type(m) for m in back.modules()] == [type(m) for m in model.modules()]
    for a, b in zip(back.modules(), model.modules()):
        assert repr(a) == repr(b)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v)
    x = batch((3, 2, 11, 9), seed=7)
    model.eval()
    close(back(Tensor(x)).data, model(Tensor(x)).data, rel=1e-6)


def test_export_refuses_what_the_other_side_cannot_express():
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"'Sequential\.0' \(trainable AvgPool2d\).*padding=0"):
        export.to_torch(nn.Sequential(nn.AvgPool2d(2, padding=1, channels=3)))
    with pytest.raises(TypeError, match="bias=False"):
        export.to_torch(nn.Sequential(nn.BatchNorm2d(3, bias=False)))


# --------------------------------------------------------------- every option reaches the export
OPTION_LAYERS = {
    "conv same, dilation 2": lambda: nn.Conv2d(2, 3, 3, padding="same", dilation=2),
    "conv full, dilation 2, groups 2": lambda: nn.Conv2d(2, 4, 3, padding="full", dilation=2, groups=2),
    "conv with a replaced 5x5 weight": lambda: _replaced_weight(),
    "max pool padded, ceil_mode": lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
    "max pool dilated": lambda: nn.MaxPool2d(2, 1, 0, dilation=2),
    "avg pool padded, ceil_mode, count_include_pad=False":
        lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
}


def _replaced_weight():
    conv = nn.Conv2d(2, 3, 3, padding="full")
    conv.weight = nn.Parameter(batch((3, 2, 5, 5), seed=4))
    return conv


@pytest.mark.parametrize("case", sorted(OPTION_LAYERS))
def test_export_keeps_every_option_of_a_layer(case, tmp_path):
    nn.manual_seed(1)
    model = nn.Sequential(OPTION_LAYERS[case]())
    x = batch((2, 2, 9, 9), seed=3)
    y = model(Tensor(x)).data
    torch = pytest.importorskip("torch")
    close(export.to_torch(model)(torch.from_numpy(x)).detach().numpy(), y)
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = str(tmp_path / "m.onnx")
    export.to_onnx(model, x, path)
    close(ort.InferenceSession(path).run(None, {"input": x})[0], y)


def test_export_keeps_each_layers_own_mode():
    torch = pytest.importorskip("torch")
    norm = nn.BatchNorm2d(2)
    model = nn.Sequential(norm, nn.Dropout(0.5))
    norm.eval()  # the container and the dropout stay in training mode
    t = export.to_torch(model)
    assert (t.training, t[0].training, t[1].training) == (True, False, True)
    back = export.from_torch(t)
    assert (back.training, back[0].training, back[1].training) == (True, False, True)


def test_to_onnx_refuses_a_divisor_override(tmp_path):
    pytest.importorskip("onnx")
    with pytest.raises(TypeError, match="divisor_override"):
        export.to_onnx(nn.Sequential(nn.AvgPool2d(2, divisor_override=3)), batch((1, 1, 4, 4)),
                       str(tmp_path / "m.onnx"))


def test_more_activations_and_prelu_round_trip():
    """The weightless activations and PReLU (its weight) go to PyTorch and back unchanged."""
    torch = pytest.importorskip("torch")
    nn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.SiLU(), nn.ReLU6(), nn.Hardtanh(-0.5, 0.7), nn.Hardsigmoid(),
                          nn.Hardswish(), nn.Softplus(2, 10), nn.Mish(), nn.SELU(), nn.CELU(0.7), nn.LogSigmoid(),
                          nn.Softsign(), nn.Threshold(0.1, -1.0), nn.Tanhshrink(), nn.Softshrink(0.3),
                          nn.Hardshrink(0.2), nn.PReLU(3))
    model[-1].weight.data[...] = np.array([0.1, -0.2, 0.3], np.float32)
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    y = model(Tensor(x)).data
    theirs = export.to_torch(model)
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), y, rtol=1e-6, atol=1e-6)
    back = export.from_torch(theirs)
    assert repr(back) == repr(model)
    np.testing.assert_array_equal(back(Tensor(x)).data, y)


@pytest.mark.parametrize("which", ["one-dimensional", "two-dimensional", "embedding"])
def test_the_newer_layers_go_to_pytorch_and_back(which):
    """1-d convolutions and pools, instance and local response norms, the upsampling and shuffling
    layers, unfold/fold, softmin/Softmax2d/GLU, channel dropout and Embedding: same outputs in
    PyTorch, and back unchanged (weights and running statistics included)."""
    torch = pytest.importorskip("torch")
    nn.manual_seed(0)
    if which == "one-dimensional":
        model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1, padding_mode="reflect"),
                              nn.InstanceNorm1d(4, affine=True, track_running_stats=True), nn.SiLU(), nn.MaxPool1d(2),
                              nn.ConvTranspose1d(4, 4, 2, stride=2), nn.AvgPool1d(2), nn.AdaptiveAvgPool1d(3),
                              nn.AdaptiveMaxPool1d(2), nn.Flatten(), nn.Dropout1d(0.1), nn.Softmin(1))
        x = np.random.default_rng(0).standard_normal((2, 2, 8)).astype(np.float32)
        model.train()
        model(Tensor(x))  # moves the running statistics, which must travel too
    elif which == "two-dimensional":
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.InstanceNorm2d(8), nn.LocalResponseNorm(3),
                              nn.ChannelShuffle(2), nn.PixelShuffle(2), nn.PixelUnshuffle(2), nn.Upsample(scale_factor=2),
                              nn.UpsamplingNearest2d(scale_factor=0.5), nn.UpsamplingBilinear2d(size=8), nn.Softmax2d(),
                              nn.GLU(1), nn.Dropout3d(0.0), nn.Unfold(2), nn.Fold((8, 8), 2))
        x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    else:
        model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0))
        x = np.array([[1, 0, 3]])
    model.eval()
    wrap = (lambda a: Tensor(a)) if x.dtype.kind == "f" else (lambda a: tinygrad_cnn.tensor(a))
    y = model(wrap(x)).data
    theirs = export.to_torch(model).eval()
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), y, rtol=1e-5, atol=1e-6)
    back = export.from_torch(theirs).eval()
    assert repr(back) == repr(model)
    np.testing.assert_array_equal(back(wrap(x)).data, y)
