"""Transfer functions a = f(n), with the lecture's names as aliases."""

from __future__ import annotations

from .. import _checks as check
from ..ops import activation as _act
from ..tensor import Tensor

__all__ = ["relu", "tanh", "sigmoid", "softmax", "log_softmax", "poslin", "tansig", "logsig", "purelin"]


def relu(x) -> Tensor:
    """poslin: a = max(0, n)."""
    return _act.ReLU.apply(check.float_tensor(x, "x"))


def tanh(x) -> Tensor:
    """tansig: a = tanh(n)."""
    return _act.Tanh.apply(check.float_tensor(x, "x"))


def sigmoid(x) -> Tensor:
    """logsig: a = 1 / (1 + e^{−n})."""
    return _act.Sigmoid.apply(check.float_tensor(x, "x"))


def purelin(x) -> Tensor:
    """The linear transfer function a = n (identity)."""
    return check.tensor(x, "x")


poslin, tansig, logsig = relu, tanh, sigmoid


def softmax(x, axis: int = -1) -> Tensor:
    x = check.float_tensor(x, "x")
    return _act.Softmax.apply(x, axis=check.axis(x, axis, "softmax"))


def log_softmax(x, axis: int = -1) -> Tensor:
    x = check.float_tensor(x, "x")
    return _act.LogSoftmax.apply(x, axis=check.axis(x, axis, "log_softmax"))
