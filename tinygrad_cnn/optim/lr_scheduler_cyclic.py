"""PyTorch's ``CyclicLR`` (Smith's cyclical learning rates): the rate goes back and forth between
``base_lr`` and ``max_lr`` in triangles, stepped once per batch; re-exported by
``optim.lr_scheduler``::

    scheduler = CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=200)
"""

from __future__ import annotations

import math

from .. import _checks
from .lr_scheduler import LRScheduler, _cycled_momentum, _groups, _nonneg, _per_group, _set_momentum

__all__ = ["CyclicLR"]

_MODES = ("triangular", "triangular2", "exp_range")


class CyclicLR(LRScheduler):
    """The rate rises from ``base_lr`` to ``max_lr`` over ``step_size_up`` steps and falls back over
    ``step_size_down`` (default: the same), cycle after cycle.  ``mode``: ``'triangular'`` (every
    cycle alike), ``'triangular2'`` (each cycle's height halved), ``'exp_range'`` (the height
    times ``gamma`` per step); or ``scale_fn(x)`` with ``scale_mode`` ``'cycle'`` or
    ``'iterations'``.  With ``cycle_momentum`` the momentum moves the other way between
    ``max_momentum`` and ``base_momentum``.  PyTorch's arguments, defaults and sequence.
    """

    _not_state = ("optimizer", "_initial", "scale_fn_custom")

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        groups = _groups(optimizer)
        base_lrs = _per_group(base_lr, "base_lr", optimizer, _nonneg)
        last_epoch = _checks.integer(last_epoch, "last_epoch", minimum=-1)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group(max_lr, "max_lr", optimizer, _nonneg)
        up = float(_checks.real(step_size_up, "step_size_up", 0.0, low_open=True))
        down = up if step_size_down is None else float(_checks.real(step_size_down, "step_size_down", 0.0,
                                                                    low_open=True))
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None:
            self.mode = _checks.one_of(mode, "mode", _MODES)
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"
        else:
            if not callable(scale_fn):
                raise TypeError(f"scale_fn must be callable or None, got {type(scale_fn).__name__}")
            self.mode = mode
            self.scale_mode = _checks.one_of(scale_mode, "scale_mode", ("cycle", "iterations"))
        self.scale_fn_custom = scale_fn
        self.gamma = _nonneg(gamma, "gamma")
        bounds = _cycled_momentum(self, optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        if self.cycle_momentum:
            self.base_momentums, self.max_momentums = bounds
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x) -> float:
        """The height factor of cycle (or step) ``x``."""
        if self.scale_fn_custom is not None:
            return self.scale_fn_custom(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        if self.mode == "exp_range":
            return self.gamma ** x
        return 1.0

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [base + (top - base) * scale_factor * self.scale_fn(at) for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(self, group, top - (top - base) * scale_factor * self.scale_fn(at))
        return lrs
