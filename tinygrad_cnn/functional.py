"""The functional interface, ``import tinygrad_cnn.functional as F``.

Every function validates its arguments here, in Python, and raises a
``ValueError``/``TypeError`` naming the argument and the shapes before any
compiled kernel runs.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .ops import activation as _act
from .ops import conv as _conv
from .ops import loss as _loss
from .ops import pool as _pool
from .ops import vec as _vec
from .tensor import Tensor

__all__ = [
    "relu", "tanh", "sigmoid", "softmax", "log_softmax", "poslin", "tansig", "logsig", "purelin",
    "mse_loss", "cross_entropy",
    "conv2d", "rot180", "max_pool2d", "avg_pool2d", "vec", "unvec",
]


def _tensor(x, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, float, int, np.generic)):
        return Tensor(x)
    raise TypeError(f"{name} must be a Tensor or array, got {type(x).__name__}")


def _float_tensor(x, name: str) -> Tensor:
    return _checks.float_tensor(x, name)  # native float32/float64 only: what the kernels are built for


def _check_axis(t: Tensor, axis: int, name: str) -> int:
    if not isinstance(axis, (int, np.integer)) or not -max(t.ndim, 1) <= axis < max(t.ndim, 1):
        raise ValueError(f"{name}: axis {axis!r} is out of range for shape {t.shape}")
    return int(axis) % max(t.ndim, 1)


# --------------------------------------------------------------- transfer functions
def relu(x) -> Tensor:
    """poslin: a = max(0, n)."""
    return _act.ReLU.apply(_float_tensor(x, "x"))


def tanh(x) -> Tensor:
    """tansig: a = tanh(n)."""
    return _act.Tanh.apply(_float_tensor(x, "x"))


def sigmoid(x) -> Tensor:
    """logsig: a = 1 / (1 + e^{−n})."""
    return _act.Sigmoid.apply(_float_tensor(x, "x"))


def purelin(x) -> Tensor:
    """The linear transfer function a = n (identity)."""
    return _tensor(x, "x")


poslin, tansig, logsig = relu, tanh, sigmoid


def softmax(x, axis: int = -1) -> Tensor:
    x = _float_tensor(x, "x")
    return _act.Softmax.apply(x, axis=_check_axis(x, axis, "softmax"))


def log_softmax(x, axis: int = -1) -> Tensor:
    x = _float_tensor(x, "x")
    return _act.LogSoftmax.apply(x, axis=_check_axis(x, axis, "log_softmax"))


# --------------------------------------------------------------- losses
def mse_loss(pred, target) -> Tensor:
    """Mean squared error over all elements; ``pred`` and ``target`` must have one shape."""
    pred = _float_tensor(pred, "pred")
    target = _tensor(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {target.shape}")
    if target.dtype != pred.dtype:
        target = target.astype(pred.dtype)
    return _loss.MSELoss.apply(pred, target)


def cross_entropy(logits, labels) -> Tensor:
    """Mean over the batch of −log softmax(logits)[label]; ``labels`` are integer class indices."""
    logits = _float_tensor(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (N, classes), got shape {logits.shape}")
    lab = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices, got dtype {lab.dtype} with shape {lab.shape}")
    if lab.ndim != 1 or lab.shape[0] != logits.shape[0]:
        raise ValueError(
            f"cross_entropy: labels must have shape ({logits.shape[0]},) to match logits {logits.shape}, got {lab.shape}"
        )
    n_classes = logits.shape[1]
    if lab.size and (lab.min() < 0 or lab.max() >= n_classes):
        bad = lab[(lab < 0) | (lab >= n_classes)]
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {n_classes - 1}] for logits {logits.shape}, got {bad[:5].tolist()}"
        )
    if logits.shape[0] == 0:
        raise ValueError("cross_entropy: empty batch (logits shape (0, ...))")
    return _loss.CrossEntropy.apply(logits, Tensor(lab.astype(np.int64, copy=False)))


# --------------------------------------------------------------- the lecture's CNN operations
def _pair(value, name: str) -> tuple:
    """An int or a pair of ints, each >= 1 (strides, window sizes)."""
    vals = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if not isinstance(vals, (tuple, list)) or len(vals) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals
    ):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(vals) < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return int(vals[0]), int(vals[1])


def _padding(padding, kh: int, kw: int, stride: tuple) -> tuple:
    """(top, bottom, left, right) zero padding P^d from an int, a pair or a mode name."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "full":
            return kh - 1, kh - 1, kw - 1, kw - 1
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
            # the odd pixel of an even kernel goes to the bottom/right, as in PyTorch
            return (kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2
        raise ValueError(f"padding must be an int, a pair, 'valid', 'same' or 'full', got {padding!r}")
    vals = (padding, padding) if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) else padding
    if not isinstance(vals, (tuple, list)) or len(vals) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals
    ):
        raise TypeError(f"padding must be an int, a pair of ints or a mode name, got {padding!r}")
    if min(vals) < 0:
        raise ValueError(f"padding must be >= 0, got {padding!r}")
    ph, pw = int(vals[0]), int(vals[1])
    return ph, ph, pw, pw


def _as_4d(x: Tensor, name: str, op: str) -> tuple:
    """View a (H, W) or (C, H, W) input as (N, C, H, W); returns the tensor and its original rank."""
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{op}: {name} must be (N, C, H, W), (C, H, W) or (H, W), got {x.ndim}-D shape {x.shape}")
    if x.ndim == 4:
        return x, 4
    return x.reshape((1,) * (4 - x.ndim) + x.shape), x.ndim


def _from_4d(z: Tensor, rank: int) -> Tensor:
    return z if rank == 4 else z.reshape(z.shape[4 - rank:])


def conv2d(x, weight, bias=None, stride=1, padding=0, connection=None) -> Tensor:
    """The convolution weight function Z = W ⊛ V (+ b), cross-correlation as in PyTorch.

    z_{i,j} = Σ_k Σ_l w_{k,l} v_{i+k-1, j+l-1} (1-based, stride 1), summed over
    the connected input maps l ∈ C^{h} of each output map h.

    Args:
        x: ``(N, C, H, W)``, ``(C, H, W)`` or the lecture's single matrix ``(H, W)``.
        weight: ``(O, C, kh, kw)``; ``(kh, kw)`` with a 2-D ``x``.
        bias: ``(O,)``, one scalar per feature map (``()`` or ``(1,)`` with a 2-D ``x``).
        stride: S^t, an int or ``(sh, sw)``, each >= 1.
        padding: P^d, an int, ``(ph, pw)``, ``'valid'``, ``'same'`` (stride 1) or ``'full'``.
        connection: optional ``(O, C)`` 0/1 connection matrix C^m; output map h sums only
            over input maps l with ``connection[h, l] == 1`` and unconnected kernels get
            exactly zero gradient (their work is skipped).

    Returns ``(N, O, Ho, Wo)`` (``(O, Ho, Wo)`` or ``(Ho, Wo)`` for unbatched input) with
    Ho = (H + pad_top + pad_bottom − kh) // sh + 1.
    """
    x = _float_tensor(x, "x")
    weight = _float_tensor(weight, "weight")
    if x.ndim == 2:
        if weight.ndim != 2:
            raise ValueError(f"conv2d: a 2-D input {x.shape} takes a 2-D (kh, kw) weight, got shape {weight.shape}")
        weight = weight.reshape((1, 1) + weight.shape)
        if bias is not None:
            bias = _float_tensor(bias, "bias")
            if bias.shape not in ((), (1,)):
                raise ValueError(f"conv2d: a 2-D input takes a scalar bias, got shape {bias.shape}")
            bias = bias.reshape(1)
    x4, rank = _as_4d(x, "x", "conv2d")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (O, C, kh, kw), got shape {weight.shape} for input {x.shape}")
    N, C, H, W = x4.shape
    O, Cw, kh, kw = weight.shape
    if Cw != C:
        raise ValueError(
            f"conv2d: weight {weight.shape} expects {Cw} input channels but x {x.shape} has {C}"
        )
    if min(weight.shape) < 1 or min(x4.shape) < 1:
        raise ValueError(f"conv2d: empty dimension in x {x.shape} or weight {weight.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"conv2d: x is {x.dtype} but weight is {weight.dtype}; cast one of them")
    tensors = [x4, weight]
    if bias is not None:
        bias = _float_tensor(bias, "bias")
        if bias.shape != (O,):
            raise ValueError(f"conv2d: bias must have shape ({O},) for weight {weight.shape}, got {bias.shape}")
        if bias.dtype != weight.dtype:
            raise TypeError(f"conv2d: bias is {bias.dtype} but weight is {weight.dtype}")
        tensors.append(bias)
    stride = _pair(stride, "stride")
    pad = _padding(padding, kh, kw, stride)
    Hp, Wp = H + pad[0] + pad[1], W + pad[2] + pad[3]
    if kh > Hp or kw > Wp:
        raise ValueError(
            f"conv2d: kernel ({kh}, {kw}) is larger than the padded input ({Hp}, {Wp}) "
            f"(x {x.shape}, padding {padding!r})"
        )
    _checks.window_geometry("conv2d", x4.shape, (kh, kw), stride, pad, out_channels=O, kernel_name="kernel")
    conn = _connection(connection, O, C)
    z = _conv.Conv2d.apply(*tensors, stride=stride, padding=pad, conn=conn)
    return _from_4d(z, rank)


def _connection(connection, O: int, C: int) -> np.ndarray:
    if connection is None:
        return np.ones((O, C), dtype=np.uint8)
    m = np.asarray(connection.data if isinstance(connection, Tensor) else connection)
    if m.shape != (O, C):
        raise ValueError(f"conv2d: connection must have shape (O, C) = ({O}, {C}), got {m.shape}")
    if m.dtype.kind not in "biuf" or not np.all((m == 0) | (m == 1)):
        raise ValueError("conv2d: connection must hold only 0 and 1")
    return np.ascontiguousarray(m, dtype=np.uint8)


def rot180(x) -> Tensor:
    """Rotate the last two axes by 180 degrees (differentiable): rot180(W)_{k,l} = w_{r−1−k, c−1−l}."""
    x = _float_tensor(x, "x")
    if x.ndim < 2:
        raise ValueError(f"rot180: x needs at least 2 dimensions, got shape {x.shape}")
    return _conv.Rot180.apply(x)


def _pool_args(x: Tensor, kernel_size, stride, op: str) -> tuple:
    window = _pair(kernel_size, "kernel_size")
    stride = window if stride is None else _pair(stride, "stride")
    H, W = x.shape[-2], x.shape[-1]
    if window[0] > H or window[1] > W:
        raise ValueError(f"{op}: kernel_size {window} is larger than the input's spatial size ({H}, {W}) (x {x.shape})")
    _checks.window_geometry(op, x.shape, window, stride)
    return window, stride


def max_pool2d(x, kernel_size, stride=None) -> Tensor:
    """Max pooling z_{i,j} = max over the window at (i·S, j·S); stride defaults to the window.

    Sizes that do not divide are floored (as PyTorch); the gradient goes to the first
    maximum of each window in row-major order, and overlapping windows accumulate.
    """
    x = _float_tensor(x, "x")
    x4, rank = _as_4d(x, "x", "max_pool2d")
    window, stride = _pool_args(x4, kernel_size, stride, "max_pool2d")
    return _from_4d(_pool.MaxPool2d.apply(x4, window=window, stride=stride), rank)


def avg_pool2d(x, kernel_size, stride=None, weight=None) -> Tensor:
    """Average pooling.

    With ``weight=None`` the window mean (PyTorch's avg_pool2d).  With ``weight``
    a ``(C,)`` Tensor it is the lecture's Z = w ⊞(V): z_{i,j} = w^{h} · Σ(window),
    one trainable scalar per feature map, dA = w ⊠ dZ and dw^{h} = Σ dZ ∘ ⊞(A).
    """
    x = _float_tensor(x, "x")
    x4, rank = _as_4d(x, "x", "avg_pool2d")
    window, stride = _pool_args(x4, kernel_size, stride, "avg_pool2d")
    if weight is None:
        return _from_4d(_pool.AvgPool2d.apply(x4, window=window, stride=stride), rank)
    weight = _float_tensor(weight, "weight")
    C = x4.shape[1]
    if rank == 2 and weight.shape == ():
        weight = weight.reshape(1)
    if weight.shape != (C,):
        raise ValueError(f"avg_pool2d: weight must have shape ({C},), one per feature map of x {x.shape}, got {weight.shape}")
    if weight.dtype != x.dtype:
        raise TypeError(f"avg_pool2d: weight is {weight.dtype} but x is {x.dtype}")
    z = _pool.WeightedAvgPool2d.apply(x4, weight, window=window, stride=stride)
    return _from_4d(z, rank)


def vec(x) -> Tensor:
    """The lecture's vec: stack the columns of each feature map, first map to last.

    ``(N, C, H, W) -> (N, C·H·W)`` and ``(C, H, W) -> (C·H·W,)``; element (c, i, j)
    lands at ``c·H·W + j·H + i``.
    """
    x = _tensor(x, "x")
    if x.ndim not in (3, 4):
        raise ValueError(f"vec: x must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    return _vec.Vec.apply(x)


def unvec(v, shape) -> Tensor:
    """Inverse of :func:`vec`: ``(N, C·H·W) -> (N, C, H, W)`` and ``(C·H·W,) -> (C, H, W)``."""
    v = _tensor(v, "v")
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) != 3
        or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape)
    ):
        raise ValueError(f"unvec: shape must be (C, H, W) of positive ints, got {shape!r}")
    if v.ndim not in (1, 2):
        raise ValueError(f"unvec: v must be (N, C*H*W) or (C*H*W,), got shape {v.shape}")
    C, H, W = (int(s) for s in shape)
    if v.shape[-1] != C * H * W:
        raise ValueError(f"unvec: v of shape {v.shape} does not hold C*H*W = {C * H * W} elements per example for {tuple(shape)}")
    return _vec.Unvec.apply(v, chw=(C, H, W))
