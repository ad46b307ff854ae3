"""Schedules made of schedules, PyTorch's: :class:`SequentialLR` (one after another, e.g. a
linear warm-up, then cosine decay) and :class:`ChainedScheduler` (several stepped together,
their factors multiplying).  Re-exported by ``optim.lr_scheduler``::

    warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
    decay = CosineAnnealingLR(optimizer, T_max=45)
    scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])
"""

from __future__ import annotations

from bisect import bisect_right

from .. import _checks
from .lr_scheduler import LRScheduler, ReduceLROnPlateau, _groups

__all__ = ["SequentialLR", "ChainedScheduler"]


def _schedulers(schedulers, optimizer, who):
    """The list of schedulers, each a stepped-per-epoch one of ``optimizer``."""
    if not isinstance(schedulers, (list, tuple)) or len(schedulers) < 1:
        raise ValueError(f"{who} needs a non-empty list of schedulers, got {schedulers!r}")
    for k, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{who} cannot hold ReduceLROnPlateau (schedulers[{k}]): its step() "
                             f"needs the metric")
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"{who}: schedulers[{k}] must be a learning-rate scheduler, got "
                            f"{type(scheduler).__name__}")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{who}: schedulers[{k}] ({type(scheduler).__name__}) belongs to another "
                             f"optimiser; all must share one")
    return list(schedulers)


class _Schedules(LRScheduler):
    """What both share: the state dict holds each scheduler's own."""

    _not_state = ("optimizer", "_initial", "_schedulers")

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state) -> None:
        if not hasattr(state, "items"):
            raise TypeError(f"load_state_dict expects a dict, got {type(state).__name__}")
        inner = state.get("_schedulers")
        if not isinstance(inner, (list, tuple)) or len(inner) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: '_schedulers' must hold the states "
                             f"of {len(self._schedulers)} schedulers")
        super().load_state_dict({k: v for k, v in state.items() if k != "_schedulers"})
        for scheduler, s in zip(self._schedulers, inner):
            scheduler.load_state_dict(s)


class SequentialLR(_Schedules):
    """``schedulers[0]`` until epoch ``milestones[0]``, then ``schedulers[1]`` restarted at its
    epoch 0, and so on (``len(milestones) == len(schedulers) − 1``), as PyTorch's.

    Building the schedulers already set the rates; this resets every group's rate to its
    ``initial_lr`` and starts the first schedule again.  A later schedule starts from its
    closed form at epoch 0 (from ``initial_lr``), not from where the previous one ended.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        groups = _groups(optimizer)
        self._schedulers = _schedulers(schedulers, optimizer, "SequentialLR")
        try:
            milestones = list(milestones)
        except TypeError:
            raise TypeError(f"SequentialLR: milestones must be a list of epochs, got {milestones!r}") from None
        self._milestones = [_checks.nonneg_int(m, f"SequentialLR: milestones[{k}]") for k, m in enumerate(milestones)]
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR needs one milestone fewer than schedulers, got "
                             f"{len(self._schedulers)} schedulers and {len(self._milestones)} milestones")
        self.optimizer = optimizer
        self.last_epoch = _checks.integer(last_epoch, "last_epoch", minimum=-1) + 1
        for group in groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:  # undo the step each made when it was built
            scheduler.last_epoch -= 1
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._initial = False
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch: the schedule of this epoch steps, or starts at a milestone."""
        self.last_epoch += 1
        at = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[at]
        if at > 0 and self._milestones[at - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Schedules):
    """Step every scheduler of the list at each :meth:`step`, in order: with the chainable ones
    (``StepLR``, ``ExponentialLR``, ``ConstantLR``, ``LinearLR``, …) their factors multiply."""

    def __init__(self, schedulers, optimizer=None):
        if optimizer is None and isinstance(schedulers, (list, tuple)) and schedulers:
            optimizer = getattr(schedulers[0], "optimizer", None)
        _groups(optimizer)
        self._schedulers = _schedulers(schedulers, optimizer, "ChainedScheduler")
        self.optimizer = optimizer
        self._initial = False
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def __repr__(self) -> str:
        return f"ChainedScheduler([{', '.join(type(s).__name__ for s in self._schedulers)}], lr={self._last_lr})"

    def step(self) -> None:
        """Step each scheduler once."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
