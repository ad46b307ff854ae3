"""RMSprop, Adagrad and Adadelta: per-coordinate step sizes from running squared gradients,
with PyTorch's update rules and defaults."""

from __future__ import annotations

import numpy as np

from .adam import lerp_
from .optimizer import Optimizer, flag, nonneg, unit_interval

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), PyTorch's rule::

        g ← g + λ·p
        s ← α·s + (1 − α)·g²
        a ← α·a + (1 − α)·g,   d ← √(s − a²) + ε      (centered)
        d ← √s + ε                                     (otherwise)
        b ← μ·b + g/d,  p ← p − lr·b   (momentum μ > 0)   or   p ← p − lr·g/d
    """

    _hyper = {"lr": nonneg, "alpha": nonneg, "eps": nonneg, "weight_decay": nonneg,
              "momentum": nonneg, "centered": flag, "maximize": flag}
    _state_names = ("step", "square_avg", "momentum_buffer", "grad_avg")
    _nonneg_state = ("square_avg",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _required_state(self, group):
        names = {"step", "square_avg"}
        if group["momentum"] > 0:
            names.add("momentum_buffer")
        if group["centered"]:
            names.add("grad_avg")
        return names

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure(closure)
        for group, i, p, g in self._grads():
            alpha, eps, wd, mu = group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
            st = self.state[i]
            if not st:
                st["step"] = 0
                st["square_avg"] = np.zeros_like(p.data)
                if mu > 0:
                    st["momentum_buffer"] = np.zeros_like(p.data)
                if group["centered"]:
                    st["grad_avg"] = np.zeros_like(p.data)
            st["step"] += 1
            if wd != 0:
                g = g + wd * p.data
            s = st["square_avg"]
            s *= alpha
            s += (1 - alpha) * (g * g)
            if group["centered"]:
                a = lerp_(st["grad_avg"], g, 1 - alpha)
                denom = np.sqrt(s - a * a) + eps
            else:
                denom = np.sqrt(s) + eps
            if mu > 0:
                buf = st["momentum_buffer"]
                buf *= mu
                buf += g / denom
                p.data -= group["lr"] * buf
            else:
                p.data -= group["lr"] * (g / denom)
        self.step_count += 1
        return loss


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), PyTorch's rule (t counts this parameter's steps)::

        g ← g + λ·p
        s ← s + g²                     (s starts at initial_accumulator_value)
        p ← p − lr/(1 + (t − 1)·lr_decay) · g/(√s + ε)
    """

    _hyper = {"lr": nonneg, "lr_decay": nonneg, "weight_decay": nonneg,
              "initial_accumulator_value": nonneg, "eps": nonneg, "maximize": flag}
    _state_names = ("step", "sum")
    _nonneg_state = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure(closure)
        for group, i, p, g in self._grads():
            st = self.state[i]
            if not st:
                st["step"] = 0
                st["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
            st["step"] += 1
            if group["weight_decay"] != 0:
                g = g + group["weight_decay"] * p.data
            clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
            st["sum"] += g * g
            p.data -= clr * (g / (np.sqrt(st["sum"]) + group["eps"]))
        self.step_count += 1
        return loss


class Adadelta(Optimizer):
    """Adadelta (Zeiler), PyTorch's rule::

        g ← g + λ·p
        s ← ρ·s + (1 − ρ)·g²
        Δ ← √(u + ε)/√(s + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²
        p ← p − lr·Δ
    """

    _hyper = {"lr": nonneg, "rho": unit_interval, "eps": nonneg, "weight_decay": nonneg,
              "maximize": flag}
    _state_names = ("step", "square_avg", "acc_delta")
    _nonneg_state = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure(closure)
        for group, i, p, g in self._grads():
            rho, eps = group["rho"], group["eps"]
            st = self.state[i]
            if not st:
                st["step"] = 0
                st["square_avg"] = np.zeros_like(p.data)
                st["acc_delta"] = np.zeros_like(p.data)
            st["step"] += 1
            if group["weight_decay"] != 0:
                g = g + group["weight_decay"] * p.data
            s, u = st["square_avg"], st["acc_delta"]
            s *= rho
            s += (1 - rho) * (g * g)
            delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g
            u *= rho
            u += (1 - rho) * (delta * delta)
            p.data -= group["lr"] * delta
        self.step_count += 1
        return loss
