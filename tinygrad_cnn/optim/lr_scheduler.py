"""Learning-rate schedulers with PyTorch's names, arguments and sequences.

A scheduler owns ``group['lr']`` of each of the optimiser's parameter groups. It sets the rate
of the first epoch when it is built, and each ``step()`` (once per epoch, or per batch for
:class:`OneCycleLR`) advances ``last_epoch`` by one and sets the next rate::

    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        scheduler.step()

Like PyTorch, :class:`StepLR`, :class:`MultiStepLR` and :class:`ExponentialLR` compute the
next rate from the current one (the *chainable* form: two schedulers on one optimiser
multiply their factors), so their sequences equal PyTorch's to the last bits.
:class:`CosineAnnealingLR`, :class:`LambdaLR` and :class:`OneCycleLR` compute it in closed form
from ``last_epoch``; a cosine schedule rebuilt at any epoch
(``CosineAnnealingLR(optimizer, T_max, last_epoch=k - 1)`` after ``k`` epochs) gives exactly
the rates the uninterrupted one would have.

``last_epoch=-1`` starts a schedule from each group's ``lr`` (remembered as
``group['initial_lr']``); any other value continues one, and then every group must carry
``initial_lr`` (PyTorch's rule). ``state_dict()`` holds everything but the optimiser.
:class:`SequentialLR` (one schedule after another) and :class:`ChainedScheduler` (several at
once) are in ``lr_scheduler_chains.py``, :class:`CyclicLR` in ``lr_scheduler_cyclic.py``.
"""

from __future__ import annotations

import math
from collections import Counter

from .. import _checks

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "LinearLR", "ConstantLR", "PolynomialLR", "LambdaLR",
           "MultiplicativeLR", "OneCycleLR", "CyclicLR", "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler",
           "cosine_schedule"]


def _cosine(base_lr, eta_min, t, t_max):
    """``eta_min + (base_lr - eta_min) · (1 + cos(π t / t_max)) / 2``: the cosine curve."""
    return eta_min + (base_lr - eta_min) * 0.5 * (1.0 + math.cos(math.pi * t / t_max))


def _groups(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(f"optimizer must be an optimiser with param_groups, each with an 'lr', "
                        f"got {type(optimizer).__name__}")
    return groups


def _per_group(value, name, optimizer, check):
    """One value per parameter group: a list of them, or one for all."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name}: expected {n} values (one per parameter group), got "
                             f"{len(value)}")
        return [check(v, f"{name}[{k}]") for k, v in enumerate(value)]
    return [check(value, name)] * n


def _nonneg(value, name):
    return _checks.real(value, name, 0.0)


def _milestones(value, name):
    if not (hasattr(value, "items") or isinstance(value, (list, tuple))):
        raise TypeError(f"{name} must be a dict of milestone counts or a list of epochs, got {type(value).__name__}")
    items = value.items() if hasattr(value, "items") else ((m, 1) for m in value)
    for m, count in items:
        _checks.nonneg_int(m, f"{name} (a milestone)")
        _checks.positive_int(count, f"{name} (a milestone's count)")


def _rates(value, name):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of learning rates, got {type(value).__name__}")
    for k, v in enumerate(value):
        _nonneg(v, f"{name}[{k}]")


#: The checks :meth:`LRScheduler.load_state_dict` applies to the settings a state may carry.
_STATE_CHECKS = {
    "last_epoch": lambda v, name: _checks.integer(v, name, minimum=-1),
    "base_lrs": _rates,
    "gamma": _nonneg, "eta_min": _nonneg, "threshold": _nonneg, "eps": _nonneg,
    "step_size": _checks.positive_int, "T_max": _checks.positive_int, "total_steps": _checks.positive_int,
    "patience": _checks.nonneg_int, "cooldown": _checks.nonneg_int,
    "T_0": _checks.positive_int, "T_mult": _checks.positive_int, "total_iters": _checks.nonneg_int,
    "start_factor": lambda v, name: _checks.real(v, name, 0.0, 1.0, low_open=True),
    "end_factor": lambda v, name: _checks.real(v, name, 0.0, 1.0),
    "factor": lambda v, name: _checks.real(v, name, 0.0, 1.0, high_open=True),
    "power": lambda v, name: _checks.real(v, name),
    "milestones": _milestones,
}


class LRScheduler:
    """Base class: sets each group's ``lr`` from ``last_epoch``; subclasses implement
    :meth:`get_lr`."""

    def __init__(self, optimizer, last_epoch=-1):
        groups = _groups(optimizer)
        last_epoch = _checks.integer(last_epoch, "last_epoch", minimum=-1)
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for g, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"last_epoch={last_epoch} continues a schedule, so param_groups[{g}] "
                        f"needs 'initial_lr' (the rate the schedule started from); load the "
                        f"optimiser's state or set optimizer.initial_lr first")
        self.optimizer = optimizer
        self.base_lrs = [float(group["initial_lr"]) for group in groups]
        self.last_epoch = last_epoch
        self._last_lr = [float(group["lr"]) for group in groups]
        self._initial_step()

    def get_lr(self) -> list:  # pragma: no cover - abstract
        """The rates for epoch ``last_epoch`` (counted from 0), one per parameter group."""
        raise NotImplementedError

    def _initial_step(self) -> None:
        """The step a schedule starts with (when built, or when :class:`SequentialLR` starts it):
        ``_initial`` tells :meth:`get_lr` that it is not a step between two epochs."""
        self._step_count = 0
        self._initial = True
        try:
            self.step()
        finally:
            self._initial = False

    def _restart(self) -> None:
        """Jump to epoch 0 of the schedule, as PyTorch's ``step(0)``: the closed form of the rate
        where the class has one (from ``base_lrs``), else :meth:`get_lr` (:class:`SequentialLR`
        starts each later schedule so)."""
        self.last_epoch = 0
        closed_form = getattr(self, "_closed_form_lr", None)
        for group, lr in zip(self.optimizer.param_groups, closed_form() if closed_form else self.get_lr()):
            group["lr"] = float(lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        """Advance one epoch and set the optimiser's rates for it."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = float(lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The rates set by the last :meth:`step` (a list, one per parameter group)."""
        return list(self._last_lr)

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    #: attributes that are not state (functions, the optimiser, the initial step's flag)
    _not_state = ("optimizer", "_initial")

    def state_dict(self) -> dict:
        """Everything but the optimiser: ``last_epoch``, ``base_lrs`` and the settings."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key not in self._not_state}

    def load_state_dict(self, state) -> None:
        """Restore :meth:`state_dict` output; the optimiser's rate changes at the next step."""
        if not hasattr(state, "items"):
            raise TypeError(f"load_state_dict expects a dict, got {type(state).__name__}")
        unknown = sorted(set(state) - set(self.state_dict()))
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unexpected keys {unknown}")
        for key, value in state.items():  # the constructors' rules, so a loaded setting is a valid one
            check = _STATE_CHECKS.get(key)
            if check is not None:
                check(value, f"{type(self).__name__}.load_state_dict: {key}")
        self.__dict__.update({k: v for k, v in state.items() if k not in self._not_state})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``base · γ^⌊t/step_size⌋``."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _checks.positive_int(step_size, "step_size")
        self.gamma = _nonneg(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch in ``milestones`` (a milestone given twice
    multiplies twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        try:
            milestones = list(milestones)
        except TypeError:
            raise TypeError(f"milestones must be a list of epochs, got {milestones!r}") from None
        self.milestones = Counter(_checks.nonneg_int(m, f"milestones[{k}]")
                                  for k, m in enumerate(milestones))
        self.gamma = _nonneg(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._group_lrs()]

    def _closed_form_lr(self):
        passed = sum(count for m, count in self.milestones.items() if m <= self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]

    def state_dict(self):
        out = super().state_dict()
        out["milestones"] = dict(self.milestones)
        return out

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.milestones = Counter(self.milestones)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``base · γ^t``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _nonneg(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from the initial rate to ``eta_min`` over ``T_max`` epochs.

    Epoch ``t`` (``last_epoch``, counted from 0) gets
    ``eta_min + (base_lr - eta_min) · (1 + cos(π t / T_max)) / 2``: the initial rate in the
    first epoch, ``eta_min`` after ``T_max`` steps (and rising again beyond, like PyTorch's).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _checks.positive_int(T_max, "T_max")
        self.eta_min = _nonneg(eta_min, "eta_min")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [_cosine(base, self.eta_min, self.last_epoch, self.T_max) for base in self.base_lrs]

    _closed_form_lr = get_lr


class LambdaLR(LRScheduler):
    """``base · lr_lambda(t)``; ``lr_lambda`` is a function of the epoch or a list of them
    (one per group). The functions are not part of the state dict (as PyTorch)."""

    _not_state = ("optimizer", "_initial", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(_groups(optimizer))
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(f"lr_lambda: expected {n} functions (one per parameter group), "
                             f"got {len(lambdas)}")
        for k, fn in enumerate(lambdas):
            if not callable(fn):
                raise TypeError(f"lr_lambda[{k}] must be callable, got {type(fn).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(LambdaLR):
    """Multiply the rate by ``lr_lambda(t)`` at every step after the first (a function of the
    epoch, or a list of them, one per group): ``lr_t = lr_{t−1} · λ(t)``."""

    def get_lr(self):
        if self._initial:
            return self._group_lrs()
        return [lr * fn(self.last_epoch) for lr, fn in zip(self._group_lrs(), self.lr_lambdas)]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine decay from the initial rate to ``eta_min`` over ``T_0`` epochs, then again over
    ``T_0·T_mult``, ``T_0·T_mult²``, … (SGDR, PyTorch's): epoch ``t`` lies ``T_cur`` epochs into
    a cycle of ``T_i`` and gets ``eta_min + (base − eta_min)·(1 + cos(π T_cur / T_i))/2``."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _checks.positive_int(T_0, "T_0")
        self.T_mult = _checks.positive_int(T_mult, "T_mult")
        self.eta_min = _nonneg(eta_min, "eta_min")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t_cur, t_i = self.last_epoch, self.T_0
        while t_cur >= t_i:  # whole cycles done, in integers
            t_cur -= t_i
            t_i *= self.T_mult
        return [_cosine(base, self.eta_min, t_cur, t_i) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """The rate times a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then ``end_factor`` (a warm-up), updated step by step as PyTorch's."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor = _checks.real(start_factor, "start_factor", 0.0, 1.0, low_open=True)
        self.end_factor = _checks.real(end_factor, "end_factor", 0.0, 1.0)
        self.total_iters = _checks.positive_int(total_iters, "total_iters")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._group_lrs()]
        if self.last_epoch > self.total_iters:
            return self._group_lrs()
        change = self.end_factor - self.start_factor
        step = 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [lr * step for lr in self._group_lrs()]

    def _closed_form_lr(self):
        done = min(self.total_iters, self.last_epoch)
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * done / self.total_iters)
                for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """The rate times ``factor`` for the first ``total_iters`` epochs, then the rate itself."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        self.factor = _checks.real(factor, "factor", 0.0, 1.0, low_open=True)
        self.total_iters = _checks.nonneg_int(total_iters, "total_iters")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._group_lrs()]
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return [lr * (1.0 / self.factor) for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay to 0 over ``total_iters`` epochs as ``base · (1 − t/total_iters)^power``, then stay,
    updated step by step as PyTorch's (each step multiplies by the ratio of two such terms)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _checks.positive_int(total_iters, "total_iters")
        self.power = _checks.real(power, "power")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [lr * decay for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base in self.base_lrs]


def _cycled_momentum(scheduler, optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch):
    """For the schedulers that move the momentum against the rate (OneCycleLR, CyclicLR):
    checks that the optimiser has one (SGD's ``momentum``, Adam's ``beta1``), notes which, and
    on a fresh start sets it to ``max_momentum`` and stores both bounds in each group."""
    groups = optimizer.param_groups
    scheduler.cycle_momentum = _checks.boolean(cycle_momentum, "cycle_momentum")
    if not scheduler.cycle_momentum:
        return None, None
    if not all("momentum" in g or "betas" in g for g in groups):
        raise ValueError("cycle_momentum=True needs an optimiser with 'momentum' or 'betas' "
                         "(pass cycle_momentum=False)")
    scheduler.use_beta1 = "betas" in groups[0]
    tops = _per_group(max_momentum, "max_momentum", optimizer, _nonneg)
    bases = _per_group(base_momentum, "base_momentum", optimizer, _nonneg)
    if last_epoch == -1:
        for group, top, base in zip(groups, tops, bases):
            _set_momentum(scheduler, group, top)
            group["max_momentum"], group["base_momentum"] = top, base
    return bases, tops


def _set_momentum(scheduler, group, value):
    """The group's momentum (or Adam's beta1) set to ``value``."""
    if scheduler.use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith): warm up from ``max_lr/div_factor`` to ``max_lr`` over
    ``pct_start`` of the ``total_steps``, then anneal to ``initial_lr/final_div_factor``
    (``three_phase``: back to the initial rate first, then down). Stepped once per batch.

    With ``cycle_momentum`` the momentum (SGD's ``momentum``, Adam's ``beta1``) moves
    inversely between ``max_momentum`` and ``base_momentum``. ``anneal_strategy`` is
    ``'cos'`` or ``'linear'``. PyTorch's arguments, defaults and sequence.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        groups = _groups(optimizer)
        if total_steps is not None:
            self.total_steps = _checks.positive_int(total_steps, "total_steps")
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_checks.positive_int(epochs, "epochs")
                                * _checks.positive_int(steps_per_epoch, "steps_per_epoch"))
        else:
            raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
        pct_start = _checks.real(pct_start, "pct_start", 0.0, 1.0)
        self.anneal_strategy = _checks.one_of(anneal_strategy, "anneal_strategy", ("cos", "linear"))
        self.three_phase = _checks.boolean(three_phase, "three_phase")
        div_factor = _checks.real(div_factor, "div_factor", 0.0, low_open=True)
        final_div_factor = _checks.real(final_div_factor, "final_div_factor", 0.0, low_open=True)
        n = self.total_steps
        if self.three_phase:
            self._phases = [(float(pct_start * n) - 1, "initial_lr", "max_lr",
                             "max_momentum", "base_momentum"),
                            (float(2 * pct_start * n) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                            (n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [(float(pct_start * n) - 1, "initial_lr", "max_lr",
                             "max_momentum", "base_momentum"),
                            (n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        max_lrs = _per_group(max_lr, "max_lr", optimizer, _nonneg)
        last_epoch = _checks.integer(last_epoch, "last_epoch", minimum=-1)
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        _cycled_momentum(self, optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        _set_momentum(self, group, value)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR stepped {t} times; total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for k, (end, lr0, lr1, m0, m1) in enumerate(self._phases):
                if t <= end or k == len(self._phases) - 1:
                    pct = (t - start) / (end - start)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has stopped improving for more than
    ``patience`` epochs; ``step(metric)`` once per epoch.

    ``mode='min'`` (a loss) or ``'max'`` (an accuracy); an improvement beats the best value by
    ``threshold`` (``threshold_mode='rel'``: relatively, ``'abs'``: absolutely). After a
    reduction ``cooldown`` epochs pass before bad epochs count again; rates never go below
    ``min_lr`` (one for all groups or a list), and changes smaller than ``eps`` are skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        groups = _groups(optimizer)
        self.mode = _checks.one_of(mode, "mode", ("min", "max"))
        self.factor = _checks.real(factor, "factor", 0.0, 1.0, high_open=True)
        self.patience = _checks.nonneg_int(patience, "patience")
        self.threshold = _nonneg(threshold, "threshold")
        self.threshold_mode = _checks.one_of(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.cooldown = _checks.nonneg_int(cooldown, "cooldown")
        self.min_lrs = _per_group(min_lr, "min_lr", optimizer, _nonneg)
        self.eps = _nonneg(eps, "eps")
        self.optimizer = optimizer
        self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in groups]
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _is_better(self, value):
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bound

    def step(self, metrics) -> None:  # noqa: D401 - PyTorch's signature
        """Record this epoch's ``metrics`` (a number) and reduce the rates if it stalled."""
        current = float(getattr(metrics, "item", lambda: metrics)())
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def cosine_schedule(lr, total_epochs, min_lr=0.0):
    """Cosine learning-rate decay as a function, for :func:`tinygrad_cnn.train.fit`'s ``lr_schedule``.

    Returns ``schedule(epoch) -> learning rate`` for epochs numbered from 1:
    ``min_lr + (lr - min_lr) * (1 + cos(pi * (epoch - 1) / total_epochs)) / 2``, i.e. ``lr`` in
    the first epoch, decreasing smoothly towards ``min_lr`` in the last: the same rates as
    :class:`CosineAnnealingLR` with ``T_max=total_epochs``.
    """
    total_epochs = _checks.positive_int(total_epochs, "total_epochs")
    lr, min_lr = float(lr), float(min_lr)

    def schedule(epoch):
        return _cosine(lr, min_lr, epoch - 1, total_epochs)

    return schedule


from .lr_scheduler_chains import ChainedScheduler, SequentialLR  # noqa: E402  (they build on the above)
from .lr_scheduler_cyclic import CyclicLR  # noqa: E402
