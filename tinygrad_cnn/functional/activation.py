"""Transfer functions a = f(n), with the lecture's names as aliases."""

from __future__ import annotations

from .. import _checks as check
from ..ops import activation as _act
from ..ops import activation_extra as _ext
from ..tensor import Tensor

__all__ = ["relu", "tanh", "scaled_tanh", "sigmoid", "softmax", "log_softmax", "leaky_relu", "elu", "gelu",
           "poslin", "tansig", "logsig", "purelin",
           "silu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "softplus", "mish", "selu", "celu",
           "logsigmoid", "softsign", "threshold", "prelu", "tanhshrink", "softshrink", "hardshrink", "softmin", "glu"]


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


# --------------------------------------------------------------- PyTorch's other activations (ops/activation_extra.py)
# Each takes PyTorch's arguments under PyTorch's names; ``inplace`` is accepted and ignored
# (the result is a new tensor), as for relu, leaky_relu and elu above.
def _input(x, op: str, inplace: bool = False) -> Tensor:
    """The input of ``op`` as a float tensor, after checking its ``inplace`` flag."""
    check.boolean(inplace, f"{op}: inplace")
    return check.float_tensor(x, f"{op}: input")


def silu(input, inplace: bool = False) -> Tensor:
    """SiLU (swish): a = n·σ(n) = n / (1 + e^{−n})."""
    return _ext.Silu.apply(_input(input, "silu", inplace))


def relu6(input, inplace: bool = False) -> Tensor:
    """a = min(max(n, 0), 6) (hardtanh with bounds 0 and 6)."""
    return _ext.Relu6.apply(_input(input, "relu6", inplace))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """a = min(max(n, min_val), max_val); ``min_val`` may not exceed ``max_val``."""
    x = _input(input, "hardtanh", inplace)
    low, high = check.ordered(min_val, max_val, "min_val", "max_val", "hardtanh")
    return _ext.Hardtanh.apply(x, min_val=low, max_val=high)


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """a = min(max(n + 3, 0), 6)/6, the piecewise-linear sigmoid."""
    return _ext.Hardsigmoid.apply(_input(input, "hardsigmoid", inplace))


def hardswish(input, inplace: bool = False) -> Tensor:
    """a = n·min(max(n + 3, 0), 6)/6 (MobileNetV3's h-swish)."""
    return _ext.Hardswish.apply(_input(input, "hardswish", inplace))


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """a = log(1 + e^{βn})/β, and a = n where βn > ``threshold`` (``beta`` nonzero)."""
    x = _input(input, "softplus")
    beta = check.nonzero_real(beta, "softplus: beta")
    threshold = check.real(threshold, "softplus: threshold")
    return _ext.Softplus.apply(x, beta=beta, threshold=threshold)


def mish(input, inplace: bool = False) -> Tensor:
    """a = n·tanh(log(1 + eⁿ))."""
    return _ext.Mish.apply(_input(input, "mish", inplace))


def selu(input, inplace: bool = False) -> Tensor:
    """a = λn for n > 0, else λα(eⁿ − 1), with SELU's fixed α ≈ 1.6733 and λ ≈ 1.0507."""
    return _ext.Selu.apply(_input(input, "selu", inplace))


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """a = max(0, n) + min(0, α(e^{n/α} − 1)) (``alpha`` nonzero)."""
    x = _input(input, "celu", inplace)
    return _ext.Celu.apply(x, alpha=check.nonzero_real(alpha, "celu: alpha"))


def logsigmoid(input) -> Tensor:
    """a = log σ(n) = −log(1 + e^{−n}), without overflow for any n."""
    return _ext.Logsigmoid.apply(_input(input, "logsigmoid"))


def softsign(input) -> Tensor:
    """a = n/(1 + |n|)."""
    return _ext.Softsign.apply(_input(input, "softsign"))


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """a = n where n > ``threshold``, else ``value``."""
    x = _input(input, "threshold", inplace)
    return _ext.Threshold.apply(x, threshold=check.real(threshold, "threshold: threshold"),
                                value=check.real(value, "threshold: value"))


def prelu(input, weight) -> Tensor:
    """a = n for n > 0, else w·n, with ``weight`` w of 1 entry (all channels) or one per channel
    (axis 1 of ``input``); differentiable in both."""
    x = _input(input, "prelu")
    return _ext.Prelu.apply(x, check.channel_weight(weight, x, "weight", "prelu"))


def tanhshrink(input) -> Tensor:
    """a = n − tanh(n)."""
    return _ext.Tanhshrink.apply(_input(input, "tanhshrink"))


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """a = n − λ for n > λ, n + λ for n < −λ, else 0 (``lambd`` ≥ 0)."""
    x = _input(input, "softshrink")
    return _ext.Softshrink.apply(x, lambd=check.real(lambd, "softshrink: lambd", 0.0))


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    """a = n outside [−λ, λ], else 0."""
    x = _input(input, "hardshrink")
    return _ext.Hardshrink.apply(x, lambd=check.real(lambd, "hardshrink: lambd"))


def softmin(x, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) along ``dim``: the smallest entries get the largest weights."""
    return softmax(-check.float_tensor(x, "x"), dim, _stacklevel, dtype)


def glu(x, dim: int = -1) -> Tensor:
    """The gated linear unit: x split in halves a, b along ``dim``, a ∘ σ(b)."""
    x = check.float_tensor(x, "x")
    d = check.axis(x, dim, "glu")
    if x.shape[d] % 2:
        raise ValueError(f"glu: dimension {d} of x {x.shape} must have an even size, to split in halves")
    a, b = x.chunk(2, d)
    return a * b.sigmoid()
