"""``nn.init``: fill a parameter in place, with PyTorch's formulas (``torch.nn.init``).

Each function writes into the tensor's own array (no graph is recorded), draws
from the package generator (so ``manual_seed`` makes it repeatable) and returns
the tensor.  Fans of a weight ``(out, in, *kernel)``: fan_in = in·∏kernel,
fan_out = out·∏kernel.

=====================  =====================================================
xavier_uniform_        U(−a, a),  a = gain·√(6 / (fan_in + fan_out))
xavier_normal_         N(0, σ²),  σ = gain·√(2 / (fan_in + fan_out))
kaiming_uniform_       U(−b, b),  b = gain·√(3 / fan),  gain = calculate_gain(nonlinearity, a)
kaiming_normal_        N(0, σ²),  σ = gain / √fan
=====================  =====================================================
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks as check
from .._random import get_rng
from ..tensor import Tensor

__all__ = ["calculate_gain", "zeros_", "ones_", "constant_", "normal_", "uniform_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "eye_"]

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity``: 1 (linear, conv, sigmoid), 5/3 (tanh),
    √2 (relu), √(2/(1 + slope²)) (leaky_relu, slope ``param`` or 0.01), 3/4 (selu)."""
    check.one_of(nonlinearity, "calculate_gain: nonlinearity", _LINEAR_GAIN + ("tanh", "relu", "leaky_relu", "selu"))
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    slope = 0.01 if param is None else check.real(param, "calculate_gain: negative slope")
    return math.sqrt(2.0 / (1 + slope ** 2))


def _calculate_fan_in_and_fan_out(tensor) -> tuple:
    """(fan_in, fan_out) of a weight with at least 2 dimensions."""
    t = check.tensor(tensor, "tensor")
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {t.shape}")
    receptive = int(np.prod(t.shape[2:], dtype=np.int64))
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(tensor, mode: str) -> int:
    check.one_of(mode, "mode", ("fan_in", "fan_out"))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Write ``values`` into the tensor's array in place (its dtype kept) and return the tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: tensor must be a Tensor or Parameter, got {type(tensor).__name__}")
    values = np.asarray(values)
    if tensor.data.flags.writeable:
        np.copyto(tensor.data, np.broadcast_to(values, tensor.shape), casting="unsafe")
    else:
        tensor.data = np.broadcast_to(values, tensor.shape).astype(tensor.dtype)
    return tensor


def constant_(tensor, val):
    return _fill(tensor, check.real(val, "constant_: val"))


def zeros_(tensor):
    return _fill(tensor, 0.0)


def ones_(tensor):
    return _fill(tensor, 1.0)


def eye_(tensor):
    """The identity matrix in a 2-D tensor."""
    t = check.tensor(tensor, "tensor")
    if t.ndim != 2:
        raise ValueError(f"eye_: tensor must be 2-D, got shape {t.shape}")
    return _fill(tensor, np.eye(*t.shape))


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """U(a, b)."""
    a, b = check.real(a, "uniform_: a"), check.real(b, "uniform_: b")
    if a > b:
        raise ValueError(f"uniform_: a must be <= b, got a={a}, b={b}")
    return _fill(tensor, get_rng().uniform(a, b, size=check.tensor(tensor, "tensor").shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """N(mean, std²)."""
    mean = check.real(mean, "normal_: mean")
    std = check.real(std, "normal_: std", 0.0)
    return _fill(tensor, get_rng().normal(mean, std, size=check.tensor(tensor, "tensor").shape))


def xavier_uniform_(tensor, gain: float = 1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = check.real(gain, "xavier_uniform_: gain") * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, get_rng().uniform(-bound, bound, size=tensor.shape))


def xavier_normal_(tensor, gain: float = 1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = check.real(gain, "xavier_normal_: gain") * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, get_rng().normal(0.0, std, size=tensor.shape))


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """U(−b, b), b = √3 · gain/√fan; PyTorch's layers use a = √5 (b = 1/√fan_in)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return _fill(tensor, get_rng().uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """N(0, σ²), σ = gain/√fan."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill(tensor, get_rng().normal(0.0, std, size=tensor.shape))
