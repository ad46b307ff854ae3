"""Transfer-function layers a = f(n): poslin, tansig, logsig, LeCun's scaled tanh and PyTorch's others.

Every activation layer accepts ``inplace=`` for PyTorch compatibility and ignores it:
the result is always a new tensor.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks as check
from .. import _dtypes
from .. import functional as F
from .._dtypes import get_default_dtype
from . import init as _init
from .module import Module, Parameter

__all__ = ["ReLU", "Tanh", "Sigmoid", "ScaledTanh", "LeakyReLU", "ELU", "GELU", "Softmax", "LogSoftmax",
           "SiLU", "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Mish", "SELU", "CELU",
           "LogSigmoid", "Softsign", "Threshold", "PReLU", "Tanhshrink", "Softshrink", "Hardshrink", "Softmin", "Softmax2d", "GLU"]


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


class Softmin(Softmax):
    """softmax(−n) along ``dim`` (``F.softmin``)."""

    def forward(self, x):
        return F.softmin(x, self.dim)


class Softmax2d(Module):
    """Softmax over the channels at every position of ``(N, C, H, W)`` or ``(C, H, W)``."""

    def forward(self, x):
        x = check.float_tensor(x, "x")
        check.rank(x, (3, 4), "x", "Softmax2d", "(N, C, H, W) or (C, H, W)")
        return F.softmax(x, -3)


class GLU(Module):
    """The gated linear unit a ∘ σ(b), the halves of ``dim`` (``F.glu``)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = check.integer(dim, "GLU: dim")

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# --------------------------------------------------------------- PyTorch's other activations
# Arguments are validated here and kept as given (so that the printed layer reads as
# PyTorch's does: ``Softplus(beta=2, ...)`` for ``beta=2``); ``inplace`` is stored and printed
# like PyTorch's and otherwise ignored.
class _InplaceFlag(Module):
    """A layer whose only argument is PyTorch's ``inplace`` flag."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = check.boolean(inplace, f"{type(self).__name__}: inplace")


class SiLU(_InplaceFlag):
    """a = n·σ(n) (``F.silu``)."""

    def forward(self, input):
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    """a = min(max(n, min_val), max_val) (``F.hardtanh``); ``max_val`` must exceed ``min_val``.

    ``min_value``/``max_value`` are PyTorch's deprecated spellings of the bounds (a FutureWarning).
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        check.ordered(min_val, max_val, "min_val", "max_val", type(self).__name__, strict=True)
        self.min_val, self.max_val = min_val, max_val
        self.inplace = check.boolean(inplace, f"{type(self).__name__}: inplace")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """a = min(max(n, 0), 6) (``F.relu6``): a Hardtanh with ``min_val=0.0``, ``max_val=6.0``."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input):
        return F.relu6(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_InplaceFlag):
    """a = min(max(n + 3, 0), 6)/6 (``F.hardsigmoid``)."""

    def forward(self, input):
        return F.hardsigmoid(input)


class Hardswish(_InplaceFlag):
    """a = n·min(max(n + 3, 0), 6)/6 (``F.hardswish``)."""

    def forward(self, input):
        return F.hardswish(input)


class Mish(_InplaceFlag):
    """a = n·tanh(log(1 + eⁿ)) (``F.mish``)."""

    def forward(self, input):
        return F.mish(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class SELU(_InplaceFlag):
    """a = λn for n > 0, else λα(eⁿ − 1) (``F.selu``)."""

    def forward(self, input):
        return F.selu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """a = max(0, n) + min(0, α(e^{n/α} − 1)) (``F.celu``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        check.nonzero_real(alpha, "CELU: alpha")
        self.alpha = alpha
        self.inplace = check.boolean(inplace, "CELU: inplace")

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """a = log(1 + e^{βn})/β, linear where βn > ``threshold`` (``F.softplus``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        check.nonzero_real(beta, "Softplus: beta")
        check.real(threshold, "Softplus: threshold")
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """a = log σ(n) (``F.logsigmoid``)."""

    def forward(self, input):
        return F.logsigmoid(input)


class Softsign(Module):
    """a = n/(1 + |n|) (``F.softsign``)."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """a = n − tanh(n) (``F.tanhshrink``)."""

    def forward(self, input):
        return F.tanhshrink(input)


class Threshold(Module):
    """a = n where n > ``threshold``, else ``value`` (``F.threshold``)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        check.real(threshold, "Threshold: threshold")
        check.real(value, "Threshold: value")
        self.threshold, self.value = threshold, value
        self.inplace = check.boolean(inplace, "Threshold: inplace")

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Softshrink(Module):
    """a = n ∓ λ outside [−λ, λ], else 0 (``F.softshrink``; ``lambd`` ≥ 0)."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        check.real(lambd, "Softshrink: lambd", 0.0)
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """a = n outside [−λ, λ], else 0 (``F.hardshrink``)."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        check.real(lambd, "Hardshrink: lambd")
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class PReLU(Module):
    """a = n for n > 0, else w·n with a trainable ``weight`` w (``F.prelu``): ``num_parameters``
    entries, 1 (shared by all channels) or one per channel (axis 1 of the input), each ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = check.positive_int(num_parameters, "PReLU: num_parameters")
        check.real(init, "PReLU: init")
        self.init = init
        if device is not None:
            _dtypes.device(device)  # only 'cpu' passes
        dtype = get_default_dtype() if dtype is None else _dtypes.as_dtype(dtype, "PReLU: dtype")
        check.float_dtype(dtype, "PReLU: dtype")
        self.weight = Parameter(np.full(self.num_parameters, self.init, dtype=dtype))

    def reset_parameters(self) -> None:
        """Every weight back to ``init``."""
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
