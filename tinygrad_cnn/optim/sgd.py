"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

import numpy as np
from numba import njit

from .optimizer import Optimizer, flag, nonneg

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule and defaults.

    With g the gradient (negated for ``maximize``), λ ``weight_decay``, μ ``momentum``,
    τ ``dampening``::

        g ← g + λ·p
        b ← g                         (first step)
        b ← μ·b + (1 − τ)·g           (later steps)
        g ← g + μ·b  (nesterov)   or   g ← b
        p ← p − lr·g
    """

    _hyper = {"lr": nonneg, "momentum": nonneg, "dampening": nonneg, "weight_decay": nonneg,
              "nesterov": flag, "maximize": flag}
    _state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    @classmethod
    def _check_combination(cls, group, where):
        if group.get("nesterov") and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{where}nesterov momentum requires momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _required_state(self, group):
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure(closure)
        settings_of = None
        for group, i, p, g in self._grads():
            if group is not settings_of:  # read a group's settings once, not once per parameter
                settings_of = group
                lr, mu, wd, tau = group["lr"], group["momentum"], group["weight_decay"], group["dampening"]
                usual = mu != 0 and tau == 0 and not group["nesterov"]
            data = p.data
            buf = self.state[i].get("momentum_buffer") if usual else None
            if (buf is not None and data.dtype.kind == "f" and buf.dtype == g.dtype == data.dtype
                    and buf.shape == data.shape and data.flags.c_contiguous and g.flags.c_contiguous
                    and buf.flags.c_contiguous):
                # the usual step (momentum, no dampening) in one compiled pass
                t = data.dtype.type
                _momentum_step(data.reshape(-1), g.reshape(-1), buf.reshape(-1), t(lr), t(mu), t(wd))
                continue
            if wd != 0:
                g = g + wd * p.data
            if mu != 0:
                st = self.state[i]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
                else:
                    buf *= mu
                    buf += g if tau == 0 else (1 - tau) * g
                g = g + mu * buf if group["nesterov"] else buf
            p.data -= lr * g
        self.step_count += 1
        return loss


@njit(cache=True, nogil=True)
def _momentum_step(p, g, buf, lr, mu, wd):
    """``g ← g + λ·p;  b ← μ·b + g;  p ← p − lr·b``, element by element, in the dtype of the
    arrays (the scalars come in it too) and in the order of the numpy version, so the bits agree."""
    for k in range(p.shape[0]):
        gk = g[k]
        if wd != 0:
            gk = gk + wd * p[k]
        b = buf[k] * mu
        b = b + gk
        buf[k] = b
        p[k] = p[k] - lr * b
