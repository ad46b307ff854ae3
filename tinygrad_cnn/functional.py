"""The functional interface, ``import tinygrad_cnn.functional as F``.

Every function normalises and validates its arguments with ``tinygrad_cnn._checks``
(wrong type: ``TypeError``, wrong value: ``ValueError``, each naming the argument
and the shapes) before any Function or compiled kernel runs; the Functions in
``tinygrad_cnn.ops`` then receive valid arrays only.
"""

from __future__ import annotations

import numpy as np

from . import _checks as check
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

_IMAGE = "(N, C, H, W), (C, H, W) or (H, W)"


# --------------------------------------------------------------- transfer functions
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


# --------------------------------------------------------------- losses
def mse_loss(pred, target) -> Tensor:
    """Mean squared error over all elements; ``pred`` and ``target`` must have one shape."""
    pred = check.float_tensor(pred, "pred")
    target = check.tensor(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {target.shape}")
    if target.dtype != pred.dtype:
        target = target.astype(pred.dtype)
    return _loss.MSELoss.apply(pred, target)


def cross_entropy(logits, labels) -> Tensor:
    """Mean over the batch of −log softmax(logits)[label]; ``labels`` are integer class indices."""
    logits = check.float_tensor(logits, "logits")
    check.rank(logits, (2,), "logits", "cross_entropy", "(N, classes)")
    labels = check.class_labels(labels, logits.shape, "cross_entropy")
    return _loss.CrossEntropy.apply(logits, Tensor(labels))


# --------------------------------------------------------------- the lecture's CNN operations
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
    Ho = ``_checks.output_size(H, kh, sh, pad_top + pad_bottom)``.
    """
    x, weight, bias = conv2d_tensors(x, weight, bias)
    O, C, kh, kw = weight.shape
    # the upper bounds are checked by window_geometry, which names the shapes
    stride = check.pair(stride, "stride", maximum=None)
    pad = check.padding(padding, (kh, kw), stride, maximum=None)
    conn = check.connection(connection, O, C)
    return conv2d_normalised(x, weight, bias, stride, pad, conn, padding)


def conv2d_tensors(x, weight, bias) -> tuple:
    """Check the tensors of a convolution; a 2-D ``x`` takes a 2-D weight and a scalar bias,
    which come back as ``(1, 1, kh, kw)`` and ``(1,)``.  Returns ``(x, weight, bias)``."""
    x = check.float_tensor(x, "x")
    weight = check.float_tensor(weight, "weight")
    if bias is not None:
        bias = check.float_tensor(bias, "bias")
    if x.ndim == 2:
        if weight.ndim != 2:
            raise ValueError(f"conv2d: a 2-D input {x.shape} takes a 2-D (kh, kw) weight, got shape {weight.shape}")
        weight = weight.reshape((1, 1) + weight.shape)
        if bias is not None:
            if bias.shape not in ((), (1,)):
                raise ValueError(f"conv2d: a 2-D input takes a scalar bias, got shape {bias.shape}")
            bias = bias.reshape(1)
    check.rank(x, (2, 3, 4), "x", "conv2d", _IMAGE)
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (O, C, kh, kw), got shape {weight.shape} for input {x.shape}")
    O, Cw = weight.shape[:2]
    C = x.shape[-3] if x.ndim > 2 else 1
    if Cw != C:
        raise ValueError(f"conv2d: weight {weight.shape} expects {Cw} input channels but x {x.shape} has {C}")
    if min(weight.shape) < 1 or min(x.shape) < 1:
        raise ValueError(f"conv2d: empty dimension in x {x.shape} or weight {weight.shape}")
    check.same_dtype(x, weight, "x", "weight", "conv2d")
    if bias is not None:
        if bias.shape != (O,):
            raise ValueError(f"conv2d: bias must have shape ({O},) for weight {weight.shape}, got {bias.shape}")
        check.same_dtype(bias, weight, "bias", "weight", "conv2d")
    return x, weight, bias


def conv2d_normalised(x: Tensor, weight: Tensor, bias, stride: tuple, pad: tuple, conn: np.ndarray,
                      padding_arg=None) -> Tensor:
    """:func:`conv2d` on tensors from :func:`conv2d_tensors` and geometry already normalised
    (``stride`` a pair, ``pad`` (top, bottom, left, right), ``conn`` a uint8 ``(O, C)`` array),
    as ``nn.Conv2d`` stores them; only the fit of the kernel in the padded input is checked."""
    x4, rank = check.as_4d(x, "x", "conv2d")
    H, W = x4.shape[2:]
    kh, kw = weight.shape[2:]
    Ho = check.output_size(H, kh, stride[0], pad[0] + pad[1])
    Wo = check.output_size(W, kw, stride[1], pad[2] + pad[3])
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"conv2d: kernel ({kh}, {kw}) is larger than the padded input "
            f"({H + pad[0] + pad[1]}, {W + pad[2] + pad[3]}) "
            f"(x {x.shape}, padding {pad if padding_arg is None else padding_arg!r})"
        )
    check.window_geometry("conv2d", x4.shape, (kh, kw), stride, pad, out_channels=weight.shape[0], kernel_name="kernel")
    tensors = (x4, weight) if bias is None else (x4, weight, bias)
    z = _conv.Conv2d.apply(*tensors, stride=stride, padding=pad, conn=conn)
    return check.from_4d(z, rank)


def rot180(x) -> Tensor:
    """Rotate the last two axes by 180 degrees (differentiable): rot180(W)_{k,l} = w_{r−1−k, c−1−l}."""
    x = check.float_tensor(x, "x")
    if x.ndim < 2:
        raise ValueError(f"rot180: x needs at least 2 dimensions, got shape {x.shape}")
    return _conv.Rot180.apply(x)


def _pool_args(x, kernel_size, stride, op: str) -> tuple:
    """The checked 4-D view of ``x``, its rank, the window and the stride of a pooling."""
    x = check.float_tensor(x, "x")
    x4, rank = check.as_4d(x, "x", op)
    window = check.pair(kernel_size, "kernel_size", maximum=None)
    stride = window if stride is None else check.pair(stride, "stride", maximum=None)
    H, W = x4.shape[2:]
    if check.output_size(H, window[0], stride[0]) < 1 or check.output_size(W, window[1], stride[1]) < 1:
        raise ValueError(f"{op}: kernel_size {window} is larger than the input's spatial size ({H}, {W}) (x {x.shape})")
    check.window_geometry(op, x4.shape, window, stride)
    return x4, rank, window, stride


def max_pool2d(x, kernel_size, stride=None) -> Tensor:
    """Max pooling z_{i,j} = max over the window at (i·S, j·S); stride defaults to the window.

    Sizes that do not divide are floored (as PyTorch); the gradient goes to the first
    maximum of each window in row-major order, and overlapping windows accumulate.
    """
    x4, rank, window, stride = _pool_args(x, kernel_size, stride, "max_pool2d")
    return check.from_4d(_pool.MaxPool2d.apply(x4, window=window, stride=stride), rank)


def avg_pool2d(x, kernel_size, stride=None, weight=None) -> Tensor:
    """Average pooling.

    With ``weight=None`` the window mean (PyTorch's avg_pool2d).  With ``weight``
    a ``(C,)`` Tensor it is the lecture's Z = w ⊞(V): z_{i,j} = w^{h} · Σ(window),
    one trainable scalar per feature map, dA = w ⊠ dZ and dw^{h} = Σ dZ ∘ ⊞(A).
    """
    x4, rank, window, stride = _pool_args(x, kernel_size, stride, "avg_pool2d")
    if weight is None:
        return check.from_4d(_pool.AvgPool2d.apply(x4, window=window, stride=stride), rank)
    weight = check.float_tensor(weight, "weight")
    C = x4.shape[1]
    if rank == 2 and weight.shape == ():
        weight = weight.reshape(1)
    if weight.shape != (C,):
        raise ValueError(
            f"avg_pool2d: weight must have shape ({C},), one per feature map of x {x4.shape}, got {weight.shape}"
        )
    check.same_dtype(weight, x4, "weight", "x", "avg_pool2d")
    return check.from_4d(_pool.WeightedAvgPool2d.apply(x4, weight, window=window, stride=stride), rank)


def vec(x) -> Tensor:
    """The lecture's vec: stack the columns of each feature map, first map to last.

    ``(N, C, H, W) -> (N, C·H·W)`` and ``(C, H, W) -> (C·H·W,)``; element (c, i, j)
    lands at ``c·H·W + j·H + i``.
    """
    x = check.tensor(x, "x")
    check.rank(x, (3, 4), "x", "vec", "(N, C, H, W) or (C, H, W)")
    return _vec.Vec.apply(x)


def unvec(v, shape) -> Tensor:
    """Inverse of :func:`vec`: ``(N, C·H·W) -> (N, C, H, W)`` and ``(C·H·W,) -> (C, H, W)``."""
    v = check.tensor(v, "v")
    C, H, W = check.positive_shape(shape, "shape (C, H, W)", 3, "unvec")
    check.rank(v, (1, 2), "v", "unvec", "(N, C*H*W) or (C*H*W,)")
    if v.shape[-1] != C * H * W:
        raise ValueError(
            f"unvec: v of shape {v.shape} does not hold C*H*W = {C * H * W} elements per example for {tuple(shape)}"
        )
    return _vec.Unvec.apply(v, chw=(C, H, W))
