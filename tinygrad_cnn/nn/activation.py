"""Transfer-function layers a = f(n): poslin, tansig, logsig, LeCun's scaled tanh and PyTorch's others.

Every activation layer accepts ``inplace=`` for PyTorch compatibility and ignores it:
the result is always a new tensor.
"""

from __future__ import annotations

from .. import _checks as check
from .. import functional as F
from .module import Module

__all__ = ["ReLU", "Tanh", "Sigmoid", "ScaledTanh", "LeakyReLU", "ELU", "GELU", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """poslin: a = max(0, n)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = check.boolean(inplace, "inplace")

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

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
        return F.scaled_tanh(x, self.A, self.S)


class LeakyReLU(Module):
    """a = n for n > 0, else ``negative_slope``·n (``F.leaky_relu``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = check.real(negative_slope, "LeakyReLU: negative_slope")
        self.inplace = check.boolean(inplace, "inplace")

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """a = n for n > 0, else α(eⁿ − 1) (``F.elu``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = check.real(alpha, "ELU: alpha")
        self.inplace = check.boolean(inplace, "inplace")

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """a = n·Φ(n) (``F.gelu``); ``approximate='tanh'`` for the tanh formula."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = check.one_of(approximate, "GELU: approximate", ("none", "tanh"))

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """a_i = e^{n_i} / Σ_j e^{n_j} along ``dim`` (``F.softmax``)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = None if dim is None else check.integer(dim, "Softmax: dim")

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """a_i = n_i − log Σ_j e^{n_j} along ``dim`` (``F.log_softmax``)."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)
