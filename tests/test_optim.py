"""tinygrad_cnn.optim: SGD and Adam trajectories against torch.optim, in-place updates,
state dicts that resume training exactly, argument validation, and a short LeNet-5 training."""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, load, nn, optim, save
from tinygrad_cnn.models import LeNet5
from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR, cosine_schedule

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 2))
W0 = RNG.standard_normal((3, 2))
B0 = RNG.standard_normal(2)


def ours_loss(w, b):
    """0.5·‖X W + b − Y‖², a quadratic in (W, b)."""
    r = Tensor(X) @ w + b - Tensor(Y)
    return (r * r).sum() * 0.5


def run_ours(make, steps=5):
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    opt = make([w, b])
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        ours_loss(w, b).backward()
        opt.step()
        traj.append((w.data.copy(), b.data.copy()))
    return traj


def run_torch(torch, make, steps=5):
    w = torch.tensor(W0.copy(), requires_grad=True)
    b = torch.tensor(B0.copy(), requires_grad=True)
    opt = make([w, b])
    x, y = torch.tensor(X), torch.tensor(Y)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        r = x @ w + b - y
        ((r * r).sum() * 0.5).backward()
        opt.step()
        traj.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return traj


CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_trajectory_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: getattr(optim, name)(ps, **kwargs))
    ref = run_torch(torch, lambda ps: getattr(torch.optim, name)(ps, **kwargs))
    for step, ((w, b), (tw, tb)) in enumerate(zip(ours, ref)):
        np.testing.assert_allclose(w, tw, rtol=1e-10, atol=1e-13, err_msg=f"{name} step {step}")
        np.testing.assert_allclose(b, tb, rtol=1e-10, atol=1e-13, err_msg=f"{name} step {step}")


def test_sgd_by_hand():
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.5)
    p.grad = np.array([1.0, 1.0])
    opt.step()  # buf = g
    np.testing.assert_allclose(p.data, [0.9, -2.1])
    p.grad = np.array([1.0, 1.0])
    opt.step()  # buf = 0.5·1 + 1 = 1.5
    np.testing.assert_allclose(p.data, [0.75, -2.25])


def test_adam_first_step_is_lr_times_sign():
    p = nn.Parameter(np.array([1.0, -2.0, 3.0]))
    opt = optim.Adam([p], lr=0.01)
    p.grad = np.array([0.3, -5.0, 1e-3])
    opt.step()  # bias correction: m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps)
    np.testing.assert_allclose(p.data, [0.99, -1.99, 2.99], rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.01),
])
def test_in_place_keeps_dtype_and_skips_missing_grads(make):
    a = nn.Parameter(np.ones((2, 2), dtype=np.float32))
    b = nn.Parameter(np.ones(3, dtype=np.float32))
    view = a.data[0]  # a view of the parameter's storage
    array_before = a.data
    opt = make([a, b])
    a.grad = np.full((2, 2), 0.5, dtype=np.float32)  # b.grad stays None
    opt.step()
    np.testing.assert_array_equal(a.grad, 0.5)  # the gradient itself is not modified
    assert a.data is array_before and a.dtype == np.float32
    assert np.all(view == a.data[0]) and np.all(a.data < 1)
    np.testing.assert_array_equal(b.data, 1.0)  # skipped, weight decay included
    assert opt.state[1] == {}
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def _train(opt, w, b, steps):
    for _ in range(steps):
        opt.zero_grad()
        ours_loss(w, b).backward()
        opt.step()


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9))),
])
def test_state_dict_resumes_exactly(tmp_path, name, kwargs):
    cls = getattr(optim, name)
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    full = cls([w, b], **kwargs)
    _train(full, w, b, 5)

    w2, b2 = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    first = cls([w2, b2], **kwargs)
    _train(first, w2, b2, 3)
    sd = first.flat_state_dict()
    assert all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in sd.items())
    assert int(sd["step"]) == 3
    save(first, tmp_path / "opt.npz")  # npz-compatible
    resumed = cls([w2, b2], lr=123.0)  # hyperparameters come back from the state dict
    resumed.load_state_dict(load(tmp_path / "opt.npz"))
    assert resumed.lr == kwargs["lr"] and resumed.step_count == 3
    _train(resumed, w2, b2, 2)
    np.testing.assert_array_equal(w2.data, w.data)
    np.testing.assert_array_equal(b2.data, b.data)


def test_state_dict_keys():
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    sgd = optim.SGD([w, b], lr=0.1, momentum=0.9)
    adam = optim.Adam([w, b])
    assert not any(k.startswith("state.") for k in sgd.flat_state_dict())
    _train(sgd, w, b, 1)
    _train(adam, w, b, 1)
    assert {"step", "state.0.momentum_buffer", "state.1.momentum_buffer"} <= set(sgd.flat_state_dict())
    keys = set(adam.flat_state_dict())
    assert {"step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step", "state.1.exp_avg"} <= keys
    assert adam.flat_state_dict()["state.0.exp_avg"].shape == (3, 2)


def test_load_state_dict_refusals_change_nothing():
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    adam = optim.Adam([w, b], lr=0.1)
    _train(adam, w, b, 2)
    good = adam.flat_state_dict()
    sgd_state = optim.SGD([w, b], lr=0.1, momentum=0.9)
    _train(sgd_state, w, b, 1)
    bad = {
        "wrong optimizer": sgd_state.flat_state_dict(),
        "shape": dict(good, **{"state.0.exp_avg": np.zeros((2, 3))}),
        "index": dict(good, **{"state.5.exp_avg": np.zeros((3, 2))}),
        "incomplete": {k: v for k, v in good.items() if k != "state.1.exp_avg_sq"},
        "no step": {k: v for k, v in good.items() if k != "step"},
    }
    words = {"wrong optimizer": "unexpected key: state.0.momentum_buffer", "shape": "(2, 3)",
             "index": "only 2 parameters", "incomplete": "exp_avg_sq", "no step": "step"}
    for case, sd in bad.items():
        with pytest.raises(ValueError, match=words[case].replace("(", r"\(").replace(")", r"\)")):
            adam.load_state_dict(sd)
    after = adam.flat_state_dict()
    assert set(after) == set(good)
    for k in good:
        np.testing.assert_array_equal(after[k], good[k])


@pytest.mark.parametrize("make, word", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "lr"),
    (lambda ps: optim.SGD(ps, lr=float("nan")), "lr"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-1), "momentum"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "nesterov"),
    (lambda ps: optim.Adam(ps, lr=-1), "lr"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "betas"),
    (lambda ps: optim.Adam(ps, betas=(0.9,)), "betas"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), "eps"),
    (lambda ps: optim.SGD([], lr=0.1), "empty"),
    (lambda ps: optim.SGD(ps + ps, lr=0.1), "more than once"),
    (lambda ps: optim.SGD([Tensor(np.zeros(2))], lr=0.1), "require grad"),
])
def test_bad_arguments(make, word):
    ps = [nn.Parameter(np.zeros(2))]
    with pytest.raises(ValueError, match=word):
        make(ps)


def test_bad_argument_types():
    with pytest.raises(TypeError, match="parameters()"):
        optim.SGD(nn.Linear(2, 2), lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="lr"):
        optim.SGD([nn.Parameter(np.zeros(2))], lr="0.1")


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=2e-3),
])
def test_lenet_training_lowers_loss(make):
    """A few steps on a fixed small batch (memorisation) must lower the training loss."""
    nn.manual_seed(0)
    model = LeNet5()
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((8, 1, 32, 32)).astype(np.float32))
    y = rng.integers(0, 10, 8)
    opt = make(model.parameters())
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(p.dtype == np.float32 for p in model.parameters())
    # the masked C3 kernels are still exactly zero after training
    assert np.all(model.c3.weight.data[model.c3.connection == 0] == 0)


# ------------------------------------------------------------------------------ schedulers

def test_cosine_schedule():
    f = cosine_schedule(1.0, 4, min_lr=0.2)
    assert [f(e) for e in (1, 3, 5)] == pytest.approx([1.0, 0.6, 0.2])
    with pytest.raises(ValueError, match="total_epochs"):
        cosine_schedule(1.0, 0)


def sgd(lr=0.05):
    return optim.SGD([nn.Parameter(np.zeros(2))], lr=lr, momentum=0.9)


def test_cosine_annealing_gives_the_cosine_schedule_bit_for_bit():
    opt = sgd(0.05)
    sched = CosineAnnealingLR(opt, T_max=25)
    f = cosine_schedule(0.05, 25)
    seen = []
    for epoch in range(1, 26):
        seen.append(opt.lr)
        assert sched.get_last_lr() == [opt.lr]
        sched.step()
    assert seen == [f(e) for e in range(1, 26)]  # exactly, not approximately
    assert seen[0] == 0.05 and opt.initial_lr == 0.05
    assert opt.lr == pytest.approx(0.0, abs=1e-18)  # after T_max steps: eta_min
    with_min = CosineAnnealingLR(sgd(1.0), T_max=4, eta_min=0.2)
    rates = [with_min.get_last_lr()[0]]
    for _ in range(4):
        with_min.step()
        rates.append(with_min.get_last_lr()[0])
    assert rates == pytest.approx([1.0, 0.8828427, 0.6, 0.3171573, 0.2])


def test_cosine_annealing_resumes_from_last_epoch_and_state_dict():
    full = CosineAnnealingLR(sgd(), T_max=10)
    for _ in range(4):
        full.step()
    opt = sgd()
    opt.lr = 0.001  # e.g. what a checkpoint restored: the schedule does not depend on it
    opt.initial_lr = 0.05
    resumed = CosineAnnealingLR(opt, T_max=10, last_epoch=3)
    assert resumed.last_epoch == full.last_epoch == 4
    assert opt.lr == full.optimizer.lr
    other = CosineAnnealingLR(sgd(), T_max=10)
    other.load_state_dict(full.state_dict())
    other.step()
    full.step()
    assert other.get_last_lr() == full.get_last_lr()
    assert "optimizer" not in full.state_dict()
    with pytest.raises(ValueError, match="unexpected"):
        other.load_state_dict({"bogus": 1})


def test_cosine_annealing_bad_arguments():
    with pytest.raises(ValueError, match="initial_lr"):
        CosineAnnealingLR(sgd(), T_max=10, last_epoch=3)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(sgd(), T_max=0)
    with pytest.raises(TypeError, match="T_max"):
        CosineAnnealingLR(sgd(), T_max=2.5)
    with pytest.raises(ValueError, match="eta_min"):
        CosineAnnealingLR(sgd(), T_max=3, eta_min=-1)
    with pytest.raises(TypeError, match="lr"):
        CosineAnnealingLR(object(), T_max=3)


def test_old_import_paths():
    import tinygrad_cnn.train as train
    from tinygrad_cnn.optim import lr_scheduler

    assert train.cosine_schedule is cosine_schedule is lr_scheduler.cosine_schedule
    assert optim.lr_scheduler.CosineAnnealingLR is CosineAnnealingLR
    for name in ("Optimizer", "SGD", "Adam"):
        assert isinstance(getattr(optim, name), type)
