"""Transfer functions a = f(n), with the lecture's names as aliases."""

from __future__ import annotations

from .. import _checks as check
from ..ops import activation as _act
from ..tensor import Tensor

__all__ = ["relu", "tanh", "scaled_tanh", "sigmoid", "softmax", "log_softmax", "leaky_relu", "elu", "gelu",
           "poslin", "tansig", "logsig", "purelin"]


def relu(x, inplace: bool = False) -> Tensor:
    """poslin: a = max(0, n).  ``inplace`` is accepted and ignored (a new tensor), as ``nn.ReLU``'s."""
    check.boolean(inplace, "relu: inplace")
    return _act.ReLU.apply(check.float_tensor(x, "x"))


def tanh(x) -> Tensor:
    """tansig: a = tanh(n)."""
    return _act.Tanh.apply(check.float_tensor(x, "x"))


def scaled_tanh(x, A: float = 1.7159, S: float = 2.0 / 3.0) -> Tensor:
    """LeCun's squashing function a = A·tanh(S·n) (defaults: f(±1) ≈ ±1), one op."""
    return _act.ScaledTanh.apply(check.float_tensor(x, "x"), A=check.real(A, "scaled_tanh: A"),
                                 S=check.real(S, "scaled_tanh: S"))


def sigmoid(x) -> Tensor:
    """logsig: a = 1 / (1 + e^{−n})."""
    return _act.Sigmoid.apply(check.float_tensor(x, "x"))


def purelin(x) -> Tensor:
    """The linear transfer function a = n (identity)."""
    return check.tensor(x, "x")


poslin, tansig, logsig = relu, tanh, sigmoid


def _softmax_axis(x, dim, axis, op: str) -> int:
    """The axis of a softmax from PyTorch's ``dim`` or numpy's ``axis`` (default: the last).

    PyTorch's deprecated implicit choice for ``dim=None`` (0 for 0-, 1- and 3-D input) is
    not reproduced: without an axis the last one is used, which is PyTorch's choice for
    the usual 1-D and 2-D inputs.
    """
    if dim is not None and axis is not None and dim != axis:
        raise ValueError(f"{op}: dim={dim!r} and axis={axis!r} disagree; give one of them")
    chosen = dim if dim is not None else axis
    return check.axis(x, -1 if chosen is None else chosen, op)


def softmax(x, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None) -> Tensor:
    """a_i = e^{n_i} / Σ_j e^{n_j} along ``dim`` (or ``axis``; the last by default).

    ``dtype`` casts the input first, as PyTorch's.
    """
    x = check.float_tensor(x if dtype is None else check.tensor(x, "x").to(dtype), "x")
    return _act.Softmax.apply(x, axis=_softmax_axis(x, dim, axis, "softmax"))


def log_softmax(x, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None) -> Tensor:
    """a_i = n_i − log Σ_j e^{n_j} along ``dim`` (or ``axis``; the last by default)."""
    x = check.float_tensor(x if dtype is None else check.tensor(x, "x").to(dtype), "x")
    return _act.LogSoftmax.apply(x, axis=_softmax_axis(x, dim, axis, "log_softmax"))


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """a = n for n > 0, else ``negative_slope``·n.  ``inplace`` is accepted and ignored (a new tensor)."""
    x = check.float_tensor(x, "x")
    slope = check.real(negative_slope, "leaky_relu: negative_slope")
    check.boolean(inplace, "leaky_relu: inplace")
    return _act.LeakyReLU.apply(x, negative_slope=slope)


def elu(x, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """a = n for n > 0, else α(eⁿ − 1).  ``inplace`` is accepted and ignored."""
    x = check.float_tensor(x, "x")
    alpha = check.real(alpha, "elu: alpha")
    check.boolean(inplace, "elu: inplace")
    return _act.ELU.apply(x, alpha=alpha)


def gelu(x, approximate: str = "none") -> Tensor:
    """a = n·Φ(n) (Φ the standard normal CDF); ``approximate='tanh'`` uses PyTorch's tanh formula."""
    x = check.float_tensor(x, "x")
    approximate = check.one_of(approximate, "gelu: approximate", ("none", "tanh"))
    return _act.GELU.apply(x, approximate=approximate)
