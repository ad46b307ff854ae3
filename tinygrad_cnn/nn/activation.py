"""Transfer-function layers a = f(n): poslin, tansig, logsig and LeCun's scaled tanh."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["ReLU", "Tanh", "Sigmoid", "ScaledTanh"]


class ReLU(Module):
    """poslin: a = max(0, n)."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    """tansig: a = tanh(n)."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """logsig: a = 1 / (1 + e^{−n})."""

    def forward(self, x):
        return F.sigmoid(x)


class ScaledTanh(Module):
    """LeCun's squashing function a = A·tanh(S·n), A = 1.7159, S = 2/3 (so f(±1) ≈ ±1)."""

    A = 1.7159
    S = 2.0 / 3.0

    def forward(self, x):
        return F.tanh(x * self.S) * self.A
