"""tinygrad_cnn.optim.lr_scheduler: every scheduler's rate sequence against torch's for 30
steps (two parameter groups, momentum cycling included), state dicts and argument checks."""

import math

import numpy as np
import pytest

from tinygrad_cnn import nn, optim
from tinygrad_cnn.optim import lr_scheduler as ours

STEPS = 30
# torch warns when a scheduler steps without an optimiser step; only the rates matter here
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of")
LRS = (0.1, 0.02)


def two_groups(make_opt, lib, tensor):
    a, b = tensor(), tensor()
    return make_opt(lib, [{"params": [a]}, {"params": [b], "lr": LRS[1]}])


def sgd(lib, groups):
    return lib.optim.SGD(groups, lr=LRS[0], momentum=0.9)


def adam(lib, groups):
    return lib.optim.Adam(groups, lr=LRS[0], betas=(0.9, 0.99))


def sequence(lib, tensor, make_opt, make_sched, metrics=None):
    """Rates (and momenta) of both groups before each of STEPS steps, and get_last_lr()."""
    opt = two_groups(make_opt, lib, tensor)
    sched = make_sched(lib, opt)
    seen = []
    for t in range(STEPS):
        groups = opt.param_groups
        seen.append([g["lr"] for g in groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                 for g in groups] + list(sched.get_last_lr()))
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
    return np.array(seen, dtype=float)


class _Ours:
    optim = optim


CASES = {
    "step": (sgd, lambda L, o: L.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)),
    "multistep": (sgd, lambda L, o: L.optim.lr_scheduler.MultiStepLR(o, [3, 7, 7, 20], gamma=0.3)),
    "exponential": (adam, lambda L, o: L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "cosine": (sgd, lambda L, o: L.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12, eta_min=1e-3)),
    "lambda": (sgd, lambda L, o: L.optim.lr_scheduler.LambdaLR(
        o, [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)])),
    "onecycle-cos-sgd": (sgd, lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 0.5],
                                                                           total_steps=STEPS)),
    "onecycle-linear-adam": (adam, lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.3, epochs=3, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.25)),
    "onecycle-three-phase": (sgd, lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.8, total_steps=STEPS, three_phase=True, div_factor=10.0,
        final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)),
    "onecycle-no-momentum": (sgd, lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.8, total_steps=STEPS, cycle_momentum=False)),
}

METRICS = [1.0, 0.9, 0.9, 0.9, 0.89999, 0.95, 0.95, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.69, 0.69,
           0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
PLATEAU = {
    "min-rel": dict(patience=2),
    "min-abs-cooldown": dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2,
                             factor=0.5, min_lr=[0.01, 0.005]),
    "max-rel": dict(mode="max", patience=0, factor=0.7, min_lr=0.03),
    "max-abs-eps": dict(mode="max", patience=1, threshold_mode="abs", eps=0.005, factor=0.9),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    make_opt, make_sched = CASES[case]
    got = sequence(_Ours, lambda: nn.Parameter(np.zeros(2)), make_opt, make_sched)
    ref = sequence(torch, lambda: torch.zeros(2, requires_grad=True), make_opt, make_sched)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", sorted(PLATEAU))
def test_plateau_matches_torch(case):
    torch = pytest.importorskip("torch")

    def make(L, o):
        return L.optim.lr_scheduler.ReduceLROnPlateau(o, **PLATEAU[case])

    got = sequence(_Ours, lambda: nn.Parameter(np.zeros(2)), sgd, make, METRICS)
    ref = sequence(torch, lambda: torch.zeros(2, requires_grad=True), sgd, make, METRICS)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert got[:, 0].min() < LRS[0]  # the case does reduce the rate


def _opt():
    return optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("make", [
    lambda o: ours.StepLR(o, 3, gamma=0.5),
    lambda o: ours.MultiStepLR(o, [2, 5]),
    lambda o: ours.ExponentialLR(o, 0.8),
    lambda o: ours.CosineAnnealingLR(o, 10),
    lambda o: ours.LambdaLR(o, lambda e: 1 / (e + 1)),
    lambda o: ours.OneCycleLR(o, 1.0, total_steps=20),
])
def test_state_dict_round_trip_continues_the_sequence(make):
    full_opt, part_opt = _opt(), _opt()
    full, part = make(full_opt), make(part_opt)
    for _ in range(6):
        full.step()
    for _ in range(3):
        part.step()
    saved_sched, saved_opt = part.state_dict(), part_opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 3
    opt2 = _opt()
    opt2.load_state_dict(saved_opt)
    sched2 = make(opt2)
    sched2.load_state_dict(saved_sched)
    opt2.param_groups[0]["lr"] = part_opt.param_groups[0]["lr"]  # as after the 3rd step
    for _ in range(3):
        sched2.step()
    assert sched2.get_last_lr() == full.get_last_lr()
    assert sched2.last_epoch == full.last_epoch == 6


def test_plateau_state_dict_and_metric_tensor():
    from tinygrad_cnn import Tensor

    a, b = _opt(), _opt()
    s, t = ours.ReduceLROnPlateau(a, patience=1), ours.ReduceLROnPlateau(b, patience=1)
    for m in (1.0, 1.0, 1.0):
        s.step(Tensor(np.array(m)))
    t.load_state_dict(s.state_dict())
    b.param_groups[0]["lr"] = a.param_groups[0]["lr"]
    s.step(1.0)
    t.step(1.0)
    assert s.get_last_lr() == t.get_last_lr() and s.best == t.best == 1.0


def test_onecycle_refuses_too_many_steps():
    s = ours.OneCycleLR(_opt(), 1.0, total_steps=3)
    for _ in range(2):
        s.step()
    with pytest.raises(ValueError, match="total_steps"):
        s.step()
        s.step()


@pytest.mark.parametrize("make, exc, word", [
    (lambda o: ours.StepLR(o, 0), ValueError, "step_size"),
    (lambda o: ours.StepLR(o, 2.5), TypeError, "step_size"),
    (lambda o: ours.StepLR(o, 2, gamma=math.nan), ValueError, "gamma"),
    (lambda o: ours.MultiStepLR(o, [2, -1]), ValueError, "milestones"),
    (lambda o: ours.ExponentialLR(o, -0.5), ValueError, "gamma"),
    (lambda o: ours.LambdaLR(o, 3), TypeError, "lr_lambda"),
    (lambda o: ours.LambdaLR(o, [lambda e: 1, lambda e: 1]), ValueError, "lr_lambda"),
    (lambda o: ours.OneCycleLR(o, 1.0), ValueError, "total_steps"),
    (lambda o: ours.OneCycleLR(o, 1.0, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: ours.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: ours.OneCycleLR(o, [1.0, 2.0], total_steps=10), ValueError, "max_lr"),
    (lambda o: ours.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
    (lambda o: ours.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
    (lambda o: ours.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold_mode"),
    (lambda o: ours.ReduceLROnPlateau(o, patience=-1), ValueError, "patience"),
    (lambda o: ours.StepLR(o, 2, last_epoch=4), ValueError, "initial_lr"),
    (lambda o: ours.StepLR(object(), 2), TypeError, "optimizer"),
])
def test_bad_arguments(make, exc, word):
    with pytest.raises(exc, match=word):
        make(_opt())


def test_onecycle_needs_momentum_to_cycle():
    class NoMomentum(optim.Optimizer):
        _hyper = {"lr": optim.optimizer.nonneg}

    o = NoMomentum([nn.Parameter(np.zeros(2))], dict(lr=0.1))
    with pytest.raises(ValueError, match="cycle_momentum"):
        ours.OneCycleLR(o, 1.0, total_steps=5)
    ours.OneCycleLR(o, 1.0, total_steps=5, cycle_momentum=False)


@pytest.mark.parametrize("make, bad, exc", [
    (lambda o: ours.StepLR(o, 2), {"gamma": float("nan")}, ValueError),
    (lambda o: ours.StepLR(o, 2), {"step_size": 0}, ValueError),
    (lambda o: ours.CosineAnnealingLR(o, 3), {"T_max": 0}, ValueError),
    (lambda o: ours.CosineAnnealingLR(o, 3), {"base_lrs": [-1.0]}, ValueError),
    (lambda o: ours.MultiStepLR(o, [1, 2]), {"milestones": None}, TypeError),
    (lambda o: ours.MultiStepLR(o, [1, 2]), {"milestones": {-1: 1}}, ValueError),
])
def test_load_state_dict_checks_settings_as_the_constructor_does(make, bad, exc):
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    sched = make(opt)
    state = {**sched.state_dict(), **bad}
    with pytest.raises(exc, match="load_state_dict"):
        sched.load_state_dict(state)
    sched.load_state_dict(sched.state_dict())  # its own state still loads


@pytest.mark.parametrize("name, kwargs", [
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4)),
    ("LinearLR", dict(start_factor=0.25, total_iters=4)),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.1, total_iters=3)),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
])
def test_more_schedules_give_pytorchs_rates_and_resume(name, kwargs):
    torch = pytest.importorskip("torch")
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    sched = getattr(ours, name)(opt, **kwargs)
    topt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in range(15):
        assert sched.get_last_lr() == theirs.get_last_lr(), epoch  # the same bits
        opt.step()
        topt.step()
        sched.step()
        theirs.step()
    # a schedule restored from its state continues as the original
    again = getattr(ours, name)(optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1), **kwargs)
    again.load_state_dict(sched.state_dict())
    again.optimizer.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    sched.step()
    again.step()
    assert again.get_last_lr() == sched.get_last_lr()


# ------------------------------------------------- PolynomialLR, MultiplicativeLR, SequentialLR, ChainedScheduler

def _ours_lib():
    return _Ours


COMBINED = {
    "polynomial": lambda L, o: L.PolynomialLR(o, total_iters=7, power=1.5),
    "multiplicative": lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 0.8 if e % 2 else 1.0]),
    "constant-exp-step": lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.5, total_iters=3), L.ExponentialLR(o, gamma=0.9), L.StepLR(o, 3, 0.5)],
        milestones=[4, 9]),
    "multistep-poly": lambda L, o: L.SequentialLR(
        o, [L.MultiStepLR(o, [1, 2, 2], 0.7), L.PolynomialLR(o, total_iters=6, power=2.0)], milestones=[3]),
    "lambda-multiplicative": lambda L, o: L.SequentialLR(
        o, [L.LambdaLR(o, lambda e: 1 / (e + 1)), L.MultiplicativeLR(o, lambda e: 0.95)], milestones=[4]),
    "multiplicative-linear": lambda L, o: L.SequentialLR(
        o, [L.MultiplicativeLR(o, lambda e: 0.9), L.LinearLR(o, 0.5, 1.0, 4)], milestones=[6]),
    "chained": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=4),
                                                L.ExponentialLR(o, gamma=0.9)]),
    "chained-three": lambda L, o: L.ChainedScheduler([L.LinearLR(o, 0.2, 1.0, 5), L.StepLR(o, 4, 0.5),
                                                      L.PolynomialLR(o, 10, 0.5)]),
}


@pytest.mark.parametrize("case", sorted(COMBINED))
def test_combined_schedules_give_pytorchs_rates_bit_for_bit(case):
    """Each schedule of a SequentialLR starts from its closed form at its milestone (PyTorch's
    step(0)); the chainable ones multiply their factors in a ChainedScheduler."""
    torch = pytest.importorskip("torch")
    make = COMBINED[case]
    got = sequence(_Ours, lambda: nn.Parameter(np.zeros(2)), sgd,
                   lambda L, o: make(L.optim.lr_scheduler, o))
    ref = sequence(torch, lambda: torch.zeros(2, requires_grad=True), sgd,
                   lambda L, o: make(L.optim.lr_scheduler, o))
    np.testing.assert_array_equal(got, ref)


def test_warm_up_then_cosine():
    """The usual recipe: linear warm-up for 5 epochs, then cosine decay (the cosine computed in
    closed form here, by PyTorch's recursion there: equal to the last few bits)."""
    torch = pytest.importorskip("torch")

    def make(L, o):
        S = L.optim.lr_scheduler
        return S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                  S.CosineAnnealingLR(o, T_max=20, eta_min=1e-3)], milestones=[5])

    got = sequence(_Ours, lambda: nn.Parameter(np.zeros(2)), sgd, make)
    ref = sequence(torch, lambda: torch.zeros(2, requires_grad=True), sgd, make)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)
    assert got[0, 0] == LRS[0] * 0.1 and got[5, 0] == LRS[0]  # warm-up from 0.1·lr; cosine from lr


def test_sequential_state_dict_round_trip_and_checks():
    def build():
        o = _opt()
        return ours.SequentialLR(o, [ours.LinearLR(o, 0.25, 1.0, 3), ours.ExponentialLR(o, 0.9)], milestones=[3])

    full, part = build(), build()
    for _ in range(7):
        full.step()
    for _ in range(2):
        part.step()
    state = part.state_dict()
    assert [type(s).__name__ for s in part._schedulers] == ["LinearLR", "ExponentialLR"]
    assert len(state["_schedulers"]) == 2 and "optimizer" not in state["_schedulers"][0]
    resumed = build()
    resumed.load_state_dict(state)
    resumed.optimizer.param_groups[0]["lr"] = part.optimizer.param_groups[0]["lr"]
    for _ in range(5):
        resumed.step()
    assert resumed.get_last_lr() == full.get_last_lr()
    with pytest.raises(ValueError, match="'_schedulers' must hold the states of 2 schedulers"):
        resumed.load_state_dict({**state, "_schedulers": state["_schedulers"][:1]})

    o = _opt()
    a, b = ours.StepLR(o, 2), ours.ExponentialLR(o, 0.5)
    with pytest.raises(ValueError, match="one milestone fewer than schedulers, got 2 schedulers and 2"):
        ours.SequentialLR(o, [a, b], milestones=[2, 4])
    with pytest.raises(ValueError, match="another optimiser"):
        ours.SequentialLR(o, [a, ours.StepLR(_opt(), 2)], milestones=[2])
    with pytest.raises(ValueError, match="cannot hold ReduceLROnPlateau"):
        ours.ChainedScheduler([a, ours.ReduceLROnPlateau(o)])
    with pytest.raises(TypeError, match=r"schedulers\[1\] must be a learning-rate scheduler"):
        ours.ChainedScheduler([a, "cosine"])
    with pytest.raises(ValueError, match="non-empty list of schedulers"):
        ours.SequentialLR(o, [], milestones=[])
    with pytest.raises(ValueError, match="power must be a real number|power"):
        ours.PolynomialLR(o, total_iters=3, power=float("nan"))
    assert repr(ours.ChainedScheduler([a, b])).startswith("ChainedScheduler([StepLR, ExponentialLR]")


CYCLIC = {
    "triangular": (sgd, dict(base_lr=0.01, max_lr=0.1, step_size_up=5)),
    "triangular2-per-group": (sgd, dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4, step_size_down=7,
                                        mode="triangular2")),
    "exp-range-adam": (adam, dict(base_lr=0.001, max_lr=0.01, step_size_up=3, mode="exp_range", gamma=0.95)),
    "custom-scale": (sgd, dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.5 ** x,
                               scale_mode="iterations")),
    "no-momentum": (sgd, dict(base_lr=0.01, max_lr=0.1, step_size_up=3, cycle_momentum=False)),
}


@pytest.mark.parametrize("case", sorted(CYCLIC))
def test_cyclic_lr_gives_pytorchs_rates_and_momenta_bit_for_bit(case):
    torch = pytest.importorskip("torch")
    make_opt, kwargs = CYCLIC[case]

    def make(L, o):
        return L.optim.lr_scheduler.CyclicLR(o, **kwargs)

    got = sequence(_Ours, lambda: nn.Parameter(np.zeros(2)), make_opt, make)
    ref = sequence(torch, lambda: torch.zeros(2, requires_grad=True), make_opt, make)
    np.testing.assert_array_equal(got, ref)


def test_cyclic_lr_state_and_checks():
    full_opt, part_opt = _opt(), _opt()
    full = ours.CyclicLR(full_opt, 0.01, 0.1, step_size_up=3)
    part = ours.CyclicLR(part_opt, 0.01, 0.1, step_size_up=3)
    for _ in range(7):
        full.step()
    for _ in range(4):
        part.step()
    resumed = ours.CyclicLR(_opt(), 0.01, 0.1, step_size_up=3)
    resumed.load_state_dict(part.state_dict())
    for _ in range(3):
        resumed.step()
    assert resumed.get_last_lr() == full.get_last_lr()
    with pytest.raises(ValueError, match="mode must be one of 'triangular', 'triangular2', 'exp_range'"):
        ours.CyclicLR(_opt(), 0.01, 0.1, mode="sine")
    with pytest.raises(ValueError, match="cycle_momentum=True needs"):
        ours.CyclicLR(optim.Adagrad([nn.Parameter(np.zeros(2))], lr=0.1), 0.01, 0.1)
    with pytest.raises(ValueError, match="step_size_up must lie in"):
        ours.CyclicLR(_opt(), 0.01, 0.1, step_size_up=0)
