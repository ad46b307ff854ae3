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


# ------------------------------------------------------- every optimiser, groups, bad states

def _model(lib):
    """A 3-2-2 tanh network's weights (float64), as our Parameters or torch leaves."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((2, 2))]
    if lib is None:
        return [nn.Parameter(a) for a in arrays]
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _loss(ps, x, y, tanh):
    h = tanh(x @ ps[0] + ps[1])
    r = h @ ps[2] - y
    return (r * r).sum()


def _steps(lib, make, steps=20, start=None, resume_at=None):
    """Train a small model for ``steps`` steps; with ``resume_at`` the optimiser is rebuilt
    from its state dict (and given fresh hyperparameters) after that many steps."""
    ps = _model(lib)
    opt = make(ps)
    if lib is None:
        x, y, tanh = Tensor(X), Tensor(Y), lambda t: t.tanh()
    else:
        x, y, tanh = lib.tensor(X), lib.tensor(Y), lib.tanh
    traj = []
    for t in range(steps):
        if t == resume_at:
            saved = opt.state_dict()
            opt = make(ps)
            opt.load_state_dict(saved)
        opt.zero_grad()
        _loss(ps, x, y, tanh).backward()
        opt.step()
        traj.append(np.concatenate([np.asarray(p.data if lib is None else p.detach()).ravel()
                                    for p in ps]))
    return np.array(traj)


def _groups(ps, **second):
    return [{"params": ps[:2]}, {"params": ps[2:], **second}]


ALL = [
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True), dict(lr=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.2, maximize=False), dict(momentum=0.0)),
    ("SGD", dict(lr=0.01), dict(weight_decay=0.5)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True), dict(betas=(0.5, 0.9))),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.7)), dict(amsgrad=True, lr=0.1)),
    ("AdamW", dict(lr=0.05), dict(weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, amsgrad=True, eps=1e-4), dict(lr=0.02, weight_decay=0.0)),
    ("RMSprop", dict(lr=0.01), dict(alpha=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1), dict(centered=False)),
    ("RMSprop", dict(lr=0.01, centered=True), dict(momentum=0.5, eps=1e-3)),
    # torch fills Adagrad's accumulators from the constructor's value, never a group's: not here
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5), dict(lr=0.05)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, eps=1e-6), dict(lr=0.3)),
    ("Adadelta", dict(), dict(rho=0.5)),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.1), dict(lr=2.0)),
]


@pytest.mark.parametrize("name, kwargs, second", ALL)
def test_every_optimizer_with_two_groups_matches_torch(name, kwargs, second):
    torch = pytest.importorskip("torch")
    ours = _steps(None, lambda ps: getattr(optim, name)(_groups(ps, **second), **kwargs))
    ref = _steps(torch, lambda ps: getattr(torch.optim, name)(_groups(ps, **second), **kwargs))
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-12)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-3  # it did train


def test_maximize_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"):
        ours = _steps(None, lambda ps: getattr(optim, name)(ps, lr=1e-3, maximize=True), steps=5)
        ref = _steps(torch, lambda ps: getattr(torch.optim, name)(ps, lr=1e-3, maximize=True),
                     steps=5)
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name, kwargs, second", ALL[::2])
def test_state_dict_mid_run_equals_an_uninterrupted_run(name, kwargs, second):
    make = lambda ps: getattr(optim, name)(_groups(ps, **second), **kwargs)  # noqa: E731
    whole = _steps(None, make, steps=12)
    resumed = _steps(None, make, steps=12, resume_at=7)
    np.testing.assert_array_equal(resumed, whole)


def test_nested_state_dict_structure_and_flat_round_trip(tmp_path):
    ps = _model(None)
    opt = optim.Adam(_groups(ps, lr=0.5), lr=0.1)
    opt.zero_grad()
    _loss(ps, Tensor(X), Tensor(Y), lambda t: t.tanh()).backward()
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sd["state"][2]["step"] == 1 and sd["state"][2]["exp_avg"].shape == (2, 2)
    assert opt.state[ps[2]] is opt.state[2]
    save(opt, tmp_path / "adam.npz")
    other = optim.Adam(_groups(_model(None), lr=9.0), lr=9.0)
    other.load_state_dict(load(tmp_path / "adam.npz"))
    assert [g["lr"] for g in other.param_groups] == [0.1, 0.5]
    np.testing.assert_array_equal(other.state[1]["exp_avg_sq"], opt.state[1]["exp_avg_sq"])


def test_param_groups_add_and_proxies():
    ps = _model(None)
    opt = optim.SGD(ps[:2], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": ps[2], "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.defaults["lr"] == 0.1
    opt.lr = 0.2  # sets every group, through the constructor's checks
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2]
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [ps[0]]})
    with pytest.raises(ValueError, match=r"param_groups\[1\].momentum"):
        optim.SGD(_groups(ps, momentum=-0.5), lr=0.1)
    ps[0].grad = np.ones((3, 2))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(ps[0].grad, 0)
    assert ps[1].grad is None


def test_grad_may_be_a_tensor():
    p = nn.Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.5)
    before = p.data
    p.grad = Tensor(np.array([1.0, -1.0]))
    opt.step()
    assert p.data is before
    np.testing.assert_array_equal(p.data, [0.5, 2.5])


def _stepped(make):
    ps = _model(None)
    opt = make(ps)
    opt.zero_grad()
    _loss(ps, Tensor(X), Tensor(Y), lambda t: t.tanh()).backward()
    opt.step()
    return opt


def _nested(opt, group=None, state=None):
    sd = opt.state_dict()
    sd["param_groups"][0].update(group or {})
    for key, value in (state or {}).items():
        sd["state"][0][key] = value
    return sd


@pytest.mark.parametrize("make, group, state, word", [
    (lambda ps: optim.Adam(ps), dict(betas=[2, 5]), None, "betas"),
    (lambda ps: optim.Adam(ps), dict(betas=(0.9,)), None, "betas"),
    (lambda ps: optim.Adam(ps), dict(lr=-1), None, "lr"),
    (lambda ps: optim.Adam(ps), dict(eps=float("nan")), None, "eps"),
    (lambda ps: optim.Adam(ps), None, dict(step=-1), "step"),
    (lambda ps: optim.Adam(ps), None, dict(step=1.5), "step"),
    (lambda ps: optim.Adam(ps), None, dict(exp_avg_sq=-np.ones((3, 2))), "exp_avg_sq"),
    (lambda ps: optim.Adam(ps), None, dict(exp_avg=np.full((3, 2), np.nan)), "exp_avg"),
    (lambda ps: optim.Adam(ps), None, dict(exp_avg=np.zeros(3)), "exp_avg"),
    (lambda ps: optim.Adam(ps), dict(amsgrad=True), None, "max_exp_avg_sq"),
    (lambda ps: optim.SGD(ps, momentum=0.9), dict(momentum=float("nan")), None, "momentum"),
    (lambda ps: optim.SGD(ps, momentum=0.9), dict(nesterov=True, dampening=0.5), None, "nesterov"),
    (lambda ps: optim.SGD(ps, momentum=0.9), dict(lr="big"), None, "lr"),
    (lambda ps: optim.SGD(ps, momentum=0.9), None, dict(bogus=np.zeros((3, 2))), "bogus"),
    (lambda ps: optim.RMSprop(ps), dict(alpha=-0.1), None, "alpha"),
    (lambda ps: optim.Adagrad(ps), dict(lr_decay=-1), None, "lr_decay"),
    (lambda ps: optim.Adagrad(ps), None, dict(sum=-np.ones((3, 2))), "sum"),
    (lambda ps: optim.Adadelta(ps), dict(rho=1.5), None, "rho"),
])
def test_bad_states_raise_naming_the_key_and_change_nothing(make, group, state, word):
    opt = _stepped(make)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=word):
        opt.load_state_dict(_nested(opt, group, state))
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, st in before["state"].items():
        for k, v in st.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def test_bad_flat_states_and_group_layout():
    opt = _stepped(lambda ps: optim.Adam(ps))
    flat = opt.flat_state_dict()
    for key, value, word in (("step", np.array(-1), "step"), ("betas", np.array([2.0, 5.0]), "betas"),
                             ("lr", np.array(-1.0), "lr"), ("state.0.step", np.array(-1), "state.0.step")):
        with pytest.raises(ValueError, match=word):
            opt.load_state_dict(dict(flat, **{key: value}))
    two = optim.Adam(_groups(_model(None), lr=0.5))
    with pytest.raises(ValueError, match="groups"):
        two.load_state_dict(opt.state_dict())
    two.load_state_dict(two.flat_state_dict())  # param_groups.<g>.* keys round trip


@pytest.mark.parametrize("make, word", [
    (lambda ps: optim.AdamW(ps, weight_decay=-1), "weight_decay"),
    (lambda ps: optim.RMSprop(ps, momentum=-1), "momentum"),
    (lambda ps: optim.RMSprop(ps, centered=1), "centered"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda ps: optim.Adadelta(ps, rho=1.1), "rho"),
    (lambda ps: optim.Adam(ps, betas=[2, 5]), "betas"),
    (lambda ps: optim.SGD(ps, momentum=float("nan")), "momentum"),
    (lambda ps: optim.SGD({"params": ps}), "set or dict"),
])
def test_more_bad_arguments(make, word):
    with pytest.raises((TypeError, ValueError), match=word):
        make([nn.Parameter(np.zeros(2))])


def test_defaults_are_pytorch_defaults():
    p = [nn.Parameter(np.zeros(2))]
    assert optim.SGD(p).defaults["lr"] == 1e-3
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.RMSprop(p).defaults["alpha"] == 0.99 and optim.RMSprop(p).lr == 1e-2
    assert optim.Adagrad(p).defaults["eps"] == 1e-10
    assert optim.Adadelta(p).defaults["lr"] == 1.0 and optim.Adadelta(p).rho == 0.9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_momentum_compiled_step_has_the_numpy_rules_bits(dtype):
    """The common SGD step (momentum, weight decay, no dampening) runs in one compiled pass; it must
    give exactly the bits of the rule written in numpy, b ← μ·b + (g + λ·p), p ← p − lr·b."""
    from tinygrad_cnn import Tensor
    from tinygrad_cnn.optim import SGD

    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((7, 5)).astype(dtype)
    grads = [rng.standard_normal((7, 5)).astype(dtype) for _ in range(4)]
    p = Tensor(p0.copy(), requires_grad=True)
    opt = SGD([p], lr=0.05, momentum=0.9, weight_decay=5e-4)
    ref, buf = p0.copy(), None
    for g in grads:
        p.grad = g.copy()
        opt.step()
        d = g + 5e-4 * ref
        if buf is None:
            buf = d.copy()
        else:
            buf *= 0.9
            buf += d
        ref -= 0.05 * buf
        np.testing.assert_array_equal(p.data, ref)
        assert p.data.dtype == dtype


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad,
                                  optim.Adadelta])
def test_frozen_parameters_are_accepted_and_left_alone(make):
    # PyTorch's fine-tuning habit: freeze a layer, hand all parameters to the optimiser
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[0].requires_grad_(False)
    opt = make(model.parameters(), lr=0.1)
    frozen, trained = model[0].weight.data.copy(), model[1].weight.data.copy()
    opt.zero_grad()
    model(Tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.step()
    assert np.array_equal(model[0].weight.data, frozen)
    assert not np.array_equal(model[1].weight.data, trained)
