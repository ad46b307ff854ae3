"""Real PyTorch programs run on tinygrad_cnn with only their imports changed.

The four programs in ``examples/`` (PyTorch's MNIST example network and loops, d2l's LeNet
and train_ch6 loop, a small residual CNN with BatchNorm, AdamW parameter groups, cosine decay
and label smoothing, a MobileNetV3-style CNN with a transposed-convolution decoder) are loaded twice, once per framework, from the same source.  From
identical weights (PyTorch's state dict loaded by name) the outputs, every gradient and the
losses of three optimiser steps agree within 1e-4 relative and the parameters after them
within 1e-3; then each program trains with its own loop on the bundled digits to at least
0.90 test accuracy (marked ``slow``; it runs by default, ``-m "not slow"`` leaves it out).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ATOL_FLOOR = 1e-30


def load_program(name: str, backend: str):
    """Import ``examples/<name>.py`` as a fresh module whose imports pick ``backend``."""
    saved = os.environ.get("EXAMPLES_BACKEND")
    os.environ["EXAMPLES_BACKEND"] = backend
    try:
        spec = importlib.util.spec_from_file_location(f"_program_{name}_{backend}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del os.environ["EXAMPLES_BACKEND"]
        else:
            os.environ["EXAMPLES_BACKEND"] = saved
    assert module.torch.__name__ == ("torch" if backend == "torch" else "tinygrad_cnn")
    return module


def rel_err(ours, theirs) -> float:
    """max |ours − theirs| / max |theirs|: relative to the tensor's scale, so that elements
    near zero do not dominate."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs.detach().numpy() if hasattr(theirs, "detach") else theirs, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), ATOL_FLOOR))


def digits_batches(n_batches, batch_size, dtype=np.float32):
    x, y, _, _ = tinygrad_cnn.data.load_digits(size=28)
    return [(x[i * batch_size:(i + 1) * batch_size].astype(dtype), y[i * batch_size:(i + 1) * batch_size])
            for i in range(n_batches)]


def twin_models(ours_mod, torch_mod, build, dtype):
    """The same model on both frameworks, our weights copied from PyTorch's by state-dict name."""
    torch = torch_mod.torch
    torch.manual_seed(0)
    theirs = build(torch_mod)
    ours = build(ours_mod)
    if dtype == np.float64:
        theirs, ours = theirs.double(), ours.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())  # PyTorch's names, PyTorch's order
    ours.load_state_dict(theirs.state_dict())
    # and back: our state dict, as tensors, loads into PyTorch's model unchanged
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


def compare_training(ours_mod, torch_mod, *, build, make_optimizer, make_scheduler, loss_fn, batches,
                     dtype, prepare=lambda model: None, grad_tol=1e-4, loss_sees_input=False):  # measured: ~5e-5
    """Forward (every output of a model that returns several), every gradient, three optimiser
    steps (losses and parameters), state afterwards.  ``loss_sees_input``: the loss also takes
    the batch's images (a reconstruction loss), as ``loss_fn(m, out, y, x)``."""
    torch = torch_mod.torch
    ours, theirs = twin_models(ours_mod, torch_mod, build, dtype)
    prepare(ours)
    prepare(theirs)
    opt_ours, opt_theirs = make_optimizer(ours_mod, ours), make_optimizer(torch_mod, theirs)
    sched_ours, sched_theirs = make_scheduler(ours_mod, opt_ours), make_scheduler(torch_mod, opt_theirs)
    for step, (x, y) in enumerate(batches):
        x_ours, y_ours = ours_mod.torch.from_numpy(x), ours_mod.torch.from_numpy(y)
        x_theirs, y_theirs = torch.from_numpy(x), torch.from_numpy(y)
        opt_ours.zero_grad()
        opt_theirs.zero_grad()
        out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
        pairs = zip(out_ours, out_theirs) if isinstance(out_ours, tuple) else [(out_ours, out_theirs)]
        for k, (a, b) in enumerate(pairs):
            assert rel_err(a.numpy(), b) < 1e-4, f"output {k} differs at step {step}"
        extra_ours, extra_theirs = ((x_ours,), (x_theirs,)) if loss_sees_input else ((), ())
        loss_ours = loss_fn(ours_mod, out_ours, y_ours, *extra_ours)
        loss_theirs = loss_fn(torch_mod, out_theirs, y_theirs, *extra_theirs)
        assert rel_err(loss_ours.item(), loss_theirs.item()) < 1e-4, f"losses differ at step {step}"
        loss_ours.backward()
        loss_theirs.backward()
        grads_theirs = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert p.grad is not None, name
            err = rel_err(p.grad.numpy(), grads_theirs[name].grad)
            assert err < grad_tol, f"gradient of {name} differs at step {step}: {err:.2e}"
        opt_ours.step()
        opt_theirs.step()
        if sched_ours is not None:
            sched_ours.step()
            sched_theirs.step()
            assert np.allclose(sched_ours.get_last_lr(), sched_theirs.get_last_lr(), rtol=1e-12)
    state_theirs = theirs.state_dict()
    for name, value in ours.state_dict().items():
        err = rel_err(value, state_theirs[name])
        assert err < 1e-3, f"{name} differs after the steps: {err:.2e}"
    return ours, theirs


@pytest.fixture(scope="module")
def torch_available():
    return pytest.importorskip("torch")


def programs(name):
    return load_program(name, "tinygrad_cnn"), load_program(name, "torch")


# ----------------------------------------------------------------------------- (a) MNIST Net
def test_mnist_net_matches_pytorch(torch_available):
    ours_mod, torch_mod = programs("pytorch_mnist_net")

    def eval_mode(model):
        model.eval()  # dropout off: both frameworks compute the same function

    ours, theirs = compare_training(
        ours_mod, torch_mod, build=lambda m: m.Net(),
        make_optimizer=lambda m, model: m.optim.Adadelta(model.parameters(), lr=1.0),
        make_scheduler=lambda m, opt: m.StepLR(opt, step_size=1, gamma=0.7),
        loss_fn=lambda m, out, y: m.F.nll_loss(out, y),
        batches=digits_batches(3, 16), dtype=np.float32, prepare=eval_mode)
    # in training mode dropout is active again: two passes over one batch differ
    x = digits_batches(1, 4)[0][0]
    ours.train()
    assert not np.array_equal(ours(ours_mod.torch.from_numpy(x)).numpy(), ours(ours_mod.torch.from_numpy(x)).numpy())
    ours.eval()
    with ours_mod.torch.no_grad():
        assert np.array_equal(ours(ours_mod.torch.from_numpy(x)).numpy(), ours(ours_mod.torch.from_numpy(x)).numpy())


# ----------------------------------------------------------------------------- (b) d2l LeNet
def test_d2l_lenet_matches_pytorch(torch_available):
    ours_mod, torch_mod = programs("d2l_lenet")

    def build(m):
        net = m.lenet()
        net.apply(m.init_weights)  # runs on both; the weights are then copied from PyTorch's
        return net

    compare_training(
        ours_mod, torch_mod, build=build,
        make_optimizer=lambda m, net: m.torch.optim.SGD(net.parameters(), lr=0.9),
        make_scheduler=lambda m, opt: None,
        loss_fn=lambda m, out, y: m.nn.CrossEntropyLoss()(out, y),
        batches=digits_batches(3, 32), dtype=np.float32)


def test_d2l_init_weights_draws_xavier_uniform_on_linear_and_conv_only(torch_available):
    ours_mod = load_program("d2l_lenet", "tinygrad_cnn")
    net = ours_mod.lenet()
    ours_mod.torch.manual_seed(1)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    net.apply(ours_mod.init_weights)
    after = net.state_dict()
    for name in after:
        changed = not np.array_equal(before[name], after[name])
        assert changed == name.endswith("weight"), name
        if name.endswith("weight"):
            w = after[name]
            fan_in, fan_out = w.shape[1] * w[0, 0].size, w.shape[0] * w[0, 0].size
            assert np.abs(w).max() <= np.sqrt(6.0 / (fan_in + fan_out)) + 1e-7


# ----------------------------------------------------------------------------- (c) residual CNN
def _residual_compare(ours_mod, torch_mod, dtype, grad_tol):
    def dropout_off(model):  # BatchNorm stays in training mode (batch statistics, running stats)
        for m in model.modules():
            if isinstance(m, type(model.dropout)):
                m.eval()

    def make_optimizer(m, model):
        return m.AdamW(m.param_groups(model, 0.05), lr=3e-3)

    ours, theirs = compare_training(
        ours_mod, torch_mod, build=lambda m: m.ResidualNet(), make_optimizer=make_optimizer,
        make_scheduler=lambda m, opt: m.CosineAnnealingLR(opt, T_max=3),
        loss_fn=lambda m, out, y: m.nn.CrossEntropyLoss(label_smoothing=0.1)(out, y),
        batches=digits_batches(3, 24, dtype), dtype=dtype, prepare=dropout_off, grad_tol=grad_tol)
    assert int(ours.block.bn1.num_batches_tracked.item()) == 3
    # eval(): running statistics instead of the batch's, dropout off
    ours.eval()
    theirs.eval()
    x = digits_batches(1, 10, dtype)[0][0]
    with ours_mod.torch.no_grad(), torch_mod.torch.no_grad():
        assert rel_err(ours(ours_mod.torch.from_numpy(x)).numpy(), theirs(torch_mod.torch.from_numpy(x))) < 1e-4


def test_residual_cnn_matches_pytorch_in_float64(torch_available):
    ours_mod, torch_mod = programs("residual_cnn")
    _residual_compare(ours_mod, torch_mod, np.float64, grad_tol=1e-4)


def test_residual_cnn_matches_pytorch_in_float32(torch_available):
    """The same in float32 (the gradients through batch norm lose the most digits: ~2e-5)."""
    ours_mod, torch_mod = programs("residual_cnn")
    _residual_compare(ours_mod, torch_mod, np.float32, grad_tol=1e-4)


def test_residual_param_groups_split_decay():
    ours_mod = load_program("residual_cnn", "tinygrad_cnn")
    model = ours_mod.ResidualNet()
    opt = ours_mod.AdamW(ours_mod.param_groups(model, 0.05), lr=1e-3)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 4 or p.ndim == 2 for p in decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


# ----------------------------------------------------------------------------- (d) MobileNet-style CNN with a decoder
def _mobile_compare(ours_mod, torch_mod, dtype, grad_tol=1e-4):
    def dropout_off(model):  # BatchNorm stays in training mode (batch statistics, running stats)
        for m in model.modules():
            if type(m).__name__ == "Dropout":
                m.eval()

    ours, theirs = compare_training(
        ours_mod, torch_mod, build=lambda m: m.MobileNet(),
        make_optimizer=lambda m, model: m.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01),
        make_scheduler=lambda m, opt: m.make_scheduler(opt, epochs=4),
        loss_fn=lambda m, out, y, x: m.joint_loss(out, x, y), loss_sees_input=True,
        batches=digits_batches(3, 16, dtype), dtype=dtype, prepare=dropout_off, grad_tol=grad_tol)
    ours.eval()
    theirs.eval()
    x = digits_batches(1, 6, dtype)[0][0]
    with ours_mod.torch.no_grad(), torch_mod.torch.no_grad():
        for a, b in zip(ours(ours_mod.torch.from_numpy(x)), theirs(torch_mod.torch.from_numpy(x))):
            assert rel_err(a.numpy(), b) < 1e-4


def test_mobile_cnn_matches_pytorch_in_float64(torch_available):
    """Reflect padding, depthwise convolutions, squeeze-and-excitation (SiLU, Hardsigmoid),
    Hardswish, transposed convolutions, smooth L1, SequentialLR: outputs, gradients, steps."""
    ours_mod, torch_mod = programs("mobile_cnn")
    _mobile_compare(ours_mod, torch_mod, np.float64)


def test_mobile_cnn_matches_pytorch_in_float32(torch_available):
    """In float32 the decoder's last bias, a sum of 12,544 small terms that nearly cancel, has a
    gradient that both frameworks round differently (at the first step ours is 1.5e-7 from the
    float64 value, PyTorch's 2.1e-6); AdamW's normalised steps then magnify that: 4.5e-4 at the
    second step, hence 1e-3 here."""
    ours_mod, torch_mod = programs("mobile_cnn")
    _mobile_compare(ours_mod, torch_mod, np.float32, grad_tol=1e-3)


# ----------------------------------------------------------------------------- the package surface
def test_import_tinygrad_cnn_as_torch_reaches_the_subpackages():
    import tinygrad_cnn as torch
    from tinygrad_cnn.utils import data

    assert torch.nn.functional.relu is torch.functional.relu
    assert torch.optim.SGD is tinygrad_cnn.optim.SGD
    assert torch.utils.data.DataLoader is data.DataLoader is tinygrad_cnn.data.DataLoader
    assert torch.optim.lr_scheduler.StepLR is tinygrad_cnn.optim.lr_scheduler.StepLR


# ----------------------------------------------------------------------------- training to 0.90
@pytest.mark.slow
def test_mnist_net_trains_with_its_own_loop(tmp_path, monkeypatch, capsys):
    program = load_program("pytorch_mnist_net", "tinygrad_cnn")
    monkeypatch.chdir(tmp_path)
    accuracy = program.main(["--epochs", "3", "--save-model", "--log-interval", "100"])
    assert accuracy >= 0.90
    assert "Test set: Average loss" in capsys.readouterr().out
    # torch.save(model.state_dict(), "mnist_cnn.pt") wrote exactly that file; it loads back
    model = program.Net()
    model.load_state_dict(program.torch.load("mnist_cnn.pt"))
    _, _, x_test, y_test = tinygrad_cnn.data.load_digits(size=28)
    model.eval()
    with program.torch.no_grad():
        pred = model(program.torch.from_numpy(x_test)).argmax(dim=1)
    assert np.mean(pred.numpy() == y_test) == pytest.approx(accuracy)


@pytest.mark.slow
def test_d2l_lenet_trains_with_its_own_loop():
    program = load_program("d2l_lenet", "tinygrad_cnn")
    assert program.main([]) >= 0.90  # NUM_EPOCHS, as PyTorch needs on these digits


@pytest.mark.slow
def test_residual_cnn_trains_with_its_own_loop():
    program = load_program("residual_cnn", "tinygrad_cnn")
    assert program.main(["--epochs", "3"]) >= 0.90


@pytest.mark.slow
def test_mobile_cnn_trains_with_its_own_loop():
    program = load_program("mobile_cnn", "tinygrad_cnn")
    assert program.main(["--epochs", "6"]) >= 0.90
