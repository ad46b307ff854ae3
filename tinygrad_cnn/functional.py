"""The functional interface, ``import tinygrad_cnn.functional as F``.

Every function validates its arguments here, in Python, and raises a
``ValueError``/``TypeError`` naming the argument and the shapes before any
compiled kernel runs.
"""

from __future__ import annotations

import numpy as np

from .ops import activation as _act
from .ops import loss as _loss
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
    t = _tensor(x, name)
    if t.dtype.kind != "f":
        raise TypeError(f"{name} must be float32 or float64, got dtype {t.dtype} with shape {t.shape}")
    return t


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
