"""Adam and AdamW (Kingma & Ba; Loshchilov & Hutter) with PyTorch's update rules."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, betas_pair, flag, nonneg

__all__ = ["Adam", "AdamW", "lerp_"]


def lerp_(a, b, w):
    """``a ← a + w·(b − a)`` in place, computed as PyTorch's ``lerp_`` does (from the nearer
    end), so that trajectories agree to the last bits."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)
    return a


class Adam(Optimizer):
    """Adam, PyTorch's rule (``weight_decay`` is L2: added to the gradient)::

        g ← g + λ·p
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        v̂ ← max(v̂, v)  (amsgrad; v̂ replaces v below)
        p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)

    t counts the steps at which this parameter had a gradient.
    """

    _hyper = {"lr": nonneg, "betas": betas_pair, "eps": nonneg, "weight_decay": nonneg,
              "amsgrad": flag, "maximize": flag}
    _state_names = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _nonneg_state = ("exp_avg_sq", "max_exp_avg_sq")
    #: decay the weights directly (AdamW) instead of adding λ·p to the gradient
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _required_state(self, group):
        names = {"step", "exp_avg", "exp_avg_sq"}
        return names | {"max_exp_avg_sq"} if group["amsgrad"] else names

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure(closure)
        for group, i, p, g in self._grads():
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            st = self.state[i]
            if not st:
                st["step"] = 0
                st["exp_avg"] = np.zeros_like(p.data)
                st["exp_avg_sq"] = np.zeros_like(p.data)
                if group["amsgrad"]:
                    st["max_exp_avg_sq"] = np.zeros_like(p.data)
            st["step"] += 1
            t = st["step"]
            if wd != 0:
                if self._decoupled:
                    p.data *= 1 - lr * wd
                else:
                    g = g + wd * p.data
            m, v = st["exp_avg"], st["exp_avg_sq"]
            lerp_(m, g, 1 - b1)
            v *= b2
            v += (1 - b2) * (g * g)
            if group["amsgrad"]:
                np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
                v = st["max_exp_avg_sq"]
            step_size = lr / (1 - b1**t)
            denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
            p.data -= step_size * (m / denom)
        self.step_count += 1
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's rule::

        p ← p·(1 − lr·λ)        then Adam's update without λ in the gradient

    The default ``weight_decay`` is 1e-2, as in PyTorch.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
