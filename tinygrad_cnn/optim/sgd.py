"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _real

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule.

    With g the gradient, λ ``weight_decay``, μ ``momentum``, τ ``dampening``::

        g ← g + λ·p
        b ← g                         (first step)
        b ← μ·b + (1 − τ)·g           (later steps)
        g ← g + μ·b  (nesterov)   or   g ← b
        p ← p − lr·g
    """

    _state_names = ("momentum_buffer",)
    _hyper_names = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False, *, dampening=0.0):
        super().__init__(params)
        self.lr = _real(lr, "lr")
        self.momentum = _real(momentum, "momentum")
        self.weight_decay = _real(weight_decay, "weight_decay")
        self.dampening = _real(dampening, "dampening")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")

    def step(self) -> None:
        lr, mu, wd, tau = self.lr, self.momentum, self.weight_decay, self.dampening
        for i, p, g in self._grads():
            if wd != 0:
                g = g + wd * p.data
            if mu != 0:
                st = self.state[i]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
                else:
                    buf *= mu
                    buf += (1 - tau) * g
                g = g + mu * buf if self.nesterov else buf
            p.data -= lr * g
        self.step_count += 1

