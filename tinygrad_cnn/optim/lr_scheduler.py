"""Learning-rate schedules: PyTorch-style scheduler objects and the plain cosine function.

A scheduler owns the optimiser's ``lr``: it sets the rate of the first epoch when it is
built, and each ``step()`` (called once at the end of every epoch, as in PyTorch) advances
``last_epoch`` by one and sets the next epoch's rate::

    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        scheduler.step()

The rate is computed in closed form from ``last_epoch`` (never from the previous rate), so
a schedule rebuilt at any epoch — ``CosineAnnealingLR(optimizer, T_max, last_epoch=k - 1)``
after ``k`` finished epochs — gives exactly the rates the uninterrupted schedule would have.
"""

from __future__ import annotations

import math

from .. import _checks

__all__ = ["LRScheduler", "CosineAnnealingLR", "cosine_schedule"]


def _cosine(base_lr, eta_min, t, t_max):
    """``eta_min + (base_lr - eta_min) · (1 + cos(π t / t_max)) / 2``: the cosine curve."""
    return eta_min + (base_lr - eta_min) * 0.5 * (1.0 + math.cos(math.pi * t / t_max))


class LRScheduler:
    """Base class: sets ``optimizer.lr`` from the epoch counter ``last_epoch``.

    ``last_epoch=-1`` starts a new schedule from the optimiser's current ``lr`` (remembered
    as ``optimizer.initial_lr``); any other value continues one, and then the optimiser must
    carry ``initial_lr`` (PyTorch's rule). Subclasses implement :meth:`get_lr`.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer must have an 'lr' attribute, got {type(optimizer).__name__}")
        last_epoch = _checks.integer(last_epoch, "last_epoch", minimum=-1)
        if last_epoch == -1:
            optimizer.initial_lr = float(optimizer.lr)
        elif not hasattr(optimizer, "initial_lr"):
            raise ValueError(f"last_epoch={last_epoch} continues a schedule, so the optimizer needs "
                             f"'initial_lr' (the rate the schedule started from); set "
                             f"optimizer.initial_lr first")
        self.optimizer = optimizer
        self.base_lrs = [float(optimizer.initial_lr)]
        self.last_epoch = last_epoch
        self._last_lr = [float(optimizer.lr)]
        self.step()

    def get_lr(self) -> list:  # pragma: no cover - abstract
        """The rates for epoch ``last_epoch`` (counted from 0), one per parameter group."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimiser's rate for it."""
        self.last_epoch += 1
        self._last_lr = [float(lr) for lr in self.get_lr()]
        self.optimizer.lr = self._last_lr[0]

    def get_last_lr(self) -> list:
        """The rates set by the last :meth:`step` (a list, one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimiser: ``last_epoch``, ``base_lrs`` and the settings."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state) -> None:
        """Restore :meth:`state_dict` output; the optimiser's rate changes at the next step."""
        unknown = sorted(set(state) - set(self.__dict__) - {"optimizer"})
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unexpected keys {unknown}")
        self.__dict__.update({k: v for k, v in state.items() if k != "optimizer"})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr[0]:g})"


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from the initial rate to ``eta_min`` over ``T_max`` epochs (PyTorch's).

    Epoch ``t`` (``last_epoch``, counted from 0) gets
    ``eta_min + (base_lr - eta_min) · (1 + cos(π t / T_max)) / 2``: the initial rate in the
    first epoch, ``eta_min`` after ``T_max`` steps (and rising again beyond, like PyTorch's
    closed form).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _checks.positive_int(T_max, "T_max")
        self.eta_min = _checks.real(eta_min, "eta_min", 0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [_cosine(base, self.eta_min, self.last_epoch, self.T_max) for base in self.base_lrs]


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
