"""Adam (Kingma & Ba) with PyTorch's update rule."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, _real

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule (L2 ``weight_decay`` added to the gradient)::

        g ← g + λ·p
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)

    t counts the steps at which this parameter had a gradient.
    """

    _state_names = ("step", "exp_avg", "exp_avg_sq")
    _hyper_names = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = _real(lr, "lr")
        self.eps = _real(eps, "eps")
        self.weight_decay = _real(weight_decay, "weight_decay")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_real(betas[0], "betas[0]", high=1.0),
                      _real(betas[1], "betas[1]", high=1.0))

    def step(self) -> None:
        lr, (b1, b2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        for i, p, g in self._grads():
            if wd != 0:
                g = g + wd * p.data
            st = self.state[i]
            if not st:
                st["step"] = 0
                st["exp_avg"] = np.zeros_like(p.data)
                st["exp_avg_sq"] = np.zeros_like(p.data)
            st["step"] += 1
            t = st["step"]
            m, v = st["exp_avg"], st["exp_avg_sq"]
            m += (1 - b1) * (g - m)          # = β1·m + (1 − β1)·g, PyTorch's lerp
            v *= b2
            v += (1 - b2) * (g * g)
            step_size = lr / (1 - b1**t)
            denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
            p.data -= step_size * (m / denom)
        self.step_count += 1
