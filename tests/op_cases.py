"""One row per op: how to call it, its naive reference, its PyTorch twin, its inputs and its bad inputs.

``tests/test_op_table.py`` runs every row through the same checks (forward
against the reference in float64, gradcheck with a random upstream gradient,
PyTorch, non-contiguous input, bad input).  Adding an op is adding a row here.

A row's ``inputs(draw, contiguous)`` returns ``(arrays, params)``: the float64
arrays that become differentiable Tensors (in the order ``call`` takes them)
and the keyword arguments that are not differentiated (strides, labels,
connection matrices).  ``reference(*arrays, **params)`` and
``torch(torch, *tensors, **params)`` take the same.  ``bad`` lists
``(thunk, exception, message pattern)``: the thunk makes the bad call.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.functional.pooling import subsampling
from tinygrad_cnn.kernels.conv import conv2d_reference
from tinygrad_cnn.kernels.pool import (adaptive_avg_pool2d_reference, adaptive_max_pool2d_reference,
                                       avg_pool2d_reference, max_pool2d_reference, max_unpool2d_reference)
from tinygrad_cnn.ops.loss import bce_with_logits_reference, cross_entropy_reference, nll_loss_reference
from tinygrad_cnn import manual_seed
from tinygrad_cnn.ops.activation import gelu_reference, scaled_tanh_reference
from tinygrad_cnn.ops.activation_extra import (celu_reference, hardshrink_reference, hardsigmoid_reference,
                                               hardswish_reference, hardtanh_reference, logsigmoid_reference,
                                               mish_reference, prelu_reference, relu6_reference, selu_reference,
                                               silu_reference, softplus_reference, softshrink_reference,
                                               softsign_reference, tanhshrink_reference, threshold_reference)
from tinygrad_cnn.ops.conv import rot180_reference
from tinygrad_cnn.ops.dropout import dropout_reference
from tinygrad_cnn.ops.linear import linear_reference
from tinygrad_cnn.ops.normalization import batch_norm_reference
from tinygrad_cnn.kernels.pad import pad_mode_reference
from tinygrad_cnn.ops.shape import pad_reference
from tinygrad_cnn.ops.vec import unvec_reference, vec_reference
from helpers import arrays


@dataclass
class OpCase:
    name: str
    family: str
    call: Callable
    reference: Callable
    inputs: Callable
    torch: Callable | None = None
    bad: list = field(default_factory=list)
    rtol: float = 1e-9
    torch_grad_rtol: float = 1e-9  # the gradients' tolerance against PyTorch (forward: always 1e-9)

    def __repr__(self):  # the pytest id
        return self.name


def _draw_array(draw, shape, contiguous, low=-2.0, high=2.0):
    return draw(arrays(tuple(shape), low=low, high=high, contiguous=contiguous))


# --------------------------------------------------------------- fixed inputs of the bad-input rows
X = Tensor(np.zeros((2, 3, 8, 8), np.float32))
W = Tensor(np.zeros((4, 3, 3, 3), np.float32))


def _conv(**kwargs):
    args = dict(x=X, weight=W)
    args.update(kwargs)
    return lambda: F.conv2d(**args)


def _pool(fn, **kwargs):
    return lambda: fn(X, **kwargs)


# --------------------------------------------------------------- conv
def conv_inputs(draw, contiguous):
    g = draw(st.integers(1, 2))
    n, c, o = draw(st.integers(1, 2)), g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 1)), draw(st.integers(0, 1))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 6))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 6))
    conn = None
    if draw(st.booleans()):
        conn = np.asarray(draw(st.lists(st.integers(0, 1), min_size=o * c, max_size=o * c))).reshape(o, c)
    x = _draw_array(draw, (n, c, h, w), contiguous)
    weight = _draw_array(draw, (o, c // g, kh, kw), contiguous)
    bias = _draw_array(draw, (o,), contiguous)
    return [x, weight, bias], dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=g, connection=conn)


def conv_torch(torch, x, w, b, stride, padding, dilation, groups, connection):
    O, cg = w.shape[:2]
    og = O // groups
    full = np.ones((O, cg * groups)) if connection is None else connection
    mask = np.stack([full[h, (h // og) * cg:(h // og + 1) * cg] for h in range(O)])  # each map's own group
    masked = w * torch.from_numpy(mask[:, :, None, None].astype(np.float64))
    return torch.nn.functional.conv2d(x, masked, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


CONV_BAD = [
    (_conv(weight=Tensor(np.zeros((4, 2, 3, 3), np.float32))), ValueError, r"2 input channels.*\(2, 3, 8, 8\) has 3"),
    (_conv(weight=Tensor(np.zeros((4, 3, 9, 3), np.float32))), ValueError, r"kernel \(9, 3\).*padded input \(8, 8\)"),
    (_conv(weight=Tensor(np.zeros((4, 3, 11, 3), np.float32)), padding=1), ValueError, r"kernel \(11, 3\).*\(10, 10\)"),
    (_conv(stride=0), ValueError, "stride must be >= 1"),
    (_conv(dilation=0), ValueError, "dilation must be >= 1"),
    (_conv(dilation=1.5), TypeError, "dilation must be an int"),
    (_conv(dilation=4), ValueError, r"kernel \(3, 3\) with dilation \(4, 4\).*larger than the padded input"),
    (_conv(groups=0), ValueError, "groups must be >= 1"),
    (_conv(groups=2.0), TypeError, "groups must be an int"),
    (_conv(groups=2), ValueError, r"groups=2 must divide both in_channels \(3\) and out_channels \(4\)"),
    (_conv(x=Tensor(np.zeros((2, 4, 8, 8), np.float32)), weight=Tensor(np.zeros((4, 4, 3, 3), np.float32)), groups=2),
     ValueError, r"expects 8 input channels \(4 per group × groups=2\)"),
    (_conv(stride=(1, -2)), ValueError, "stride must be >= 1"),
    (_conv(stride=1.5), TypeError, "stride must be an int"),
    (_conv(padding=-1), ValueError, "padding must be >= 0"),
    (_conv(padding="bogus"), ValueError, "padding must be"),
    (_conv(padding=1.0), TypeError, "padding must be an int"),
    (_conv(padding="same", stride=2), ValueError, "'same' needs stride 1"),
    (_conv(bias=Tensor(np.zeros(3, np.float32))), ValueError, r"bias must have shape \(4,\).*\(3,\)"),
    (_conv(connection=np.ones((3, 4))), ValueError, r"connection must have shape \(O, C\) = \(4, 3\), got \(3, 4\)"),
    (_conv(connection=np.full((4, 3), 2)), ValueError, "only 0 and 1"),
    (_conv(connection=np.full((4, 3), "1")), TypeError, "connection must be a 0/1 array"),
    (_conv(weight=Tensor(np.zeros((4, 3, 3), np.float32))), ValueError, r"weight must be \(O, C, kh, kw\)"),
    (_conv(weight=Tensor(np.zeros((4, 3, 3, 3)))), TypeError, "float32 but weight is float64"),
    (_conv(x=Tensor(np.zeros((1, 2, 3, 8, 8), np.float32))), ValueError, r"5-D shape \(1, 2, 3, 8, 8\)"),
    (_conv(x=Tensor(np.zeros((2, 3, 8, 8), np.int64))), TypeError, "x must be float32 or float64"),
    (_conv(x="image"), TypeError, "x must be a Tensor or array"),
    (lambda: F.conv2d(Tensor(np.zeros((5, 5))), Tensor(np.zeros((1, 1, 2, 2)))), ValueError, r"2-D \(kh, kw\) weight"),
    (lambda: F.conv2d(Tensor(np.zeros((5, 5))), Tensor(np.zeros((2, 2))), Tensor(np.zeros(2))), ValueError, "scalar bias"),
]


# --------------------------------------------------------------- pooling
def pool_inputs(draw, contiguous, weighted=False, biased=False):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    h, w = draw(st.integers(kh, 6)), draw(st.integers(kw, 6))
    xs = [_draw_array(draw, (n, c, h, w), contiguous)]
    if weighted:
        xs.append(_draw_array(draw, (c,), contiguous))
    if biased:
        xs.append(_draw_array(draw, (c,), contiguous))
    return xs, dict(kernel_size=(kh, kw), stride=stride)


def pool_geometry_inputs(draw, contiguous, kind="max"):
    """PyTorch's full pooling geometry: padding (at most half the window), dilation (max
    pooling), ceil_mode, and for average pooling its divisor options.  Inputs are at least
    one dilated window tall and wide, so that every window holds a tap of the input."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind == "max" else (1, 1)
    pad = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    h, w = (draw(st.integers(d[a] * (k[a] - 1) + 1, 6)) for a in range(2))
    xs = [_draw_array(draw, (n, c, h, w), contiguous)]
    params = dict(kernel_size=k, stride=stride, padding=pad, ceil_mode=draw(st.booleans()))
    if kind == "max":
        params["dilation"] = d
    elif kind == "avg":
        params["count_include_pad"] = draw(st.booleans())
        params["divisor_override"] = draw(st.one_of(st.none(), st.integers(1, 5)))
    else:  # the lecture's weighted form
        xs.append(_draw_array(draw, (c,), contiguous))
    return xs, params


def adaptive_inputs(draw, contiguous):
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 7)), draw(st.integers(1, 7))
    size = draw(st.one_of(st.integers(1, 5), st.tuples(st.one_of(st.none(), st.integers(1, 5)), st.integers(1, 5))))
    return [_draw_array(draw, (n, c, h, w), contiguous)], dict(output_size=size)


def _adaptive_hw(x, output_size):
    size = (output_size, output_size) if isinstance(output_size, int) else output_size
    return tuple(x.shape[2 + a] if size[a] is None else size[a] for a in range(2))


def unpool_inputs(draw, contiguous):
    """Pooled values and distinct indices into the unpooled maps (as a non-overlapping max pooling gives)."""
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    out_hw = (h * k[0], w * k[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    idx = np.stack([rng.choice(out_hw[0] * out_hw[1], size=h * w, replace=False) for _ in range(n * c)])
    return [_draw_array(draw, (n, c, h, w), contiguous)], dict(indices=idx.reshape(n, c, h, w), kernel_size=k)


def pool_bad(fn):
    return [
        (_pool(fn, kernel_size=9), ValueError, r"kernel_size \(9, 9\) is larger.*\(8, 8\)"),
        (_pool(fn, kernel_size=(2, 10)), ValueError, "larger than the input"),
        (_pool(fn, kernel_size=0), ValueError, "kernel_size must be >= 1"),
        (_pool(fn, kernel_size=2, stride=0), ValueError, "stride must be >= 1"),
        (_pool(fn, kernel_size=2.0), TypeError, "kernel_size must be an int"),
        (lambda: fn(Tensor(np.zeros((1, 1, 1, 4, 4))), 2), ValueError, "5-D"),
        (lambda: fn(Tensor(np.zeros((1, 1, 4, 4), np.int32)), 2), TypeError, "x must be float32 or float64"),
        (_pool(fn, kernel_size=3, padding=2), ValueError, r"padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"),
        (_pool(fn, kernel_size=(4, 2), padding=(2, 2)), ValueError, r"padding \(2, 2\).*half.*\(4, 2\)"),
        (_pool(fn, kernel_size=2, padding=-1), ValueError, "padding must be >= 0"),
        (_pool(fn, kernel_size=2, padding=0.5), TypeError, "padding must be an int"),
        (_pool(fn, kernel_size=2, ceil_mode=1), TypeError, "ceil_mode must be True or False"),
    ]


MAX_POOL_BAD = pool_bad(F.max_pool2d) + [
    (_pool(F.max_pool2d, kernel_size=2, dilation=0), ValueError, "dilation must be >= 1"),
    (_pool(F.max_pool2d, kernel_size=3, dilation=4), ValueError, r"kernel_size \(3, 3\) is larger.*dilated extent \(9, 9\)"),
    (_pool(F.max_pool2d, kernel_size=2, return_indices="yes"), TypeError, "return_indices must be True or False"),
]

AVG_POOL_BAD = pool_bad(F.avg_pool2d) + [
    (_pool(F.avg_pool2d, kernel_size=2, divisor_override=0), ValueError, "divisor_override must be >= 1"),
    (_pool(F.avg_pool2d, kernel_size=2, divisor_override=2.0), TypeError, "divisor_override must be an int"),
    (_pool(F.avg_pool2d, kernel_size=2, count_include_pad=None), TypeError, "count_include_pad must be True or False"),
]

WEIGHTED_POOL_BAD = [
    (lambda: F.avg_pool2d(X, 2, weight=Tensor(np.ones(4, np.float32))), ValueError, r"weight must have shape \(3,\).*got \(4,\)"),
    (lambda: F.avg_pool2d(X, 2, weight=Tensor(np.ones(3))), TypeError, "weight is float64 but x is float32"),
    (lambda: F.avg_pool2d(X, 2, divisor_override=2, weight=Tensor(np.ones(3, np.float32))), ValueError,
     "weighted form.*has no divisor"),
]

SUBSAMPLING_BAD = [
    (lambda: subsampling(X, 2, Tensor(np.ones(3, np.float32)), Tensor(np.ones(4, np.float32))), ValueError,
     r"subsampling: bias must have shape \(3,\).*\(2, 3, 8, 8\), got \(4,\)"),
    (lambda: subsampling(X, 2, Tensor(np.ones(3, np.float32)), Tensor(np.ones(3))), TypeError,
     "bias is float64 but x is float32"),
    (lambda: subsampling(X, 2, Tensor(np.ones(3, np.float32)), "b"), TypeError, "bias must be a Tensor or array"),
    (lambda: subsampling(X, 9, Tensor(np.ones(3, np.float32)), Tensor(np.ones(3, np.float32))), ValueError,
     r"subsampling.*\(9, 9\)"),
]

ADAPTIVE_BAD = [
    (lambda: F.adaptive_avg_pool2d(X, 2.5), TypeError, "output_size must be an int or a pair"),
    (lambda: F.adaptive_avg_pool2d(X, (2, 2, 2)), TypeError, "output_size must be an int or a pair"),
    (lambda: F.adaptive_max_pool2d(X, "4"), TypeError, "output_size must be an int or a pair"),
    (lambda: F.adaptive_avg_pool2d(X, (0, 2)), ValueError, r"output_size must lie in \[1, "),
    (lambda: F.adaptive_max_pool2d(X, 2, return_indices=1), TypeError, "return_indices must be True or False"),
    (lambda: F.adaptive_avg_pool2d(Tensor(np.zeros(4)), 2), ValueError, r"1-D shape \(4,\)"),
]

P2 = Tensor(np.zeros((2, 3, 4, 4), np.float32))
I2 = np.zeros((2, 3, 4, 4), np.int64)
UNPOOL_BAD = [
    (lambda: F.max_unpool2d(P2, I2[:, :, :3], 2), ValueError, r"indices must have the shape of x \(2, 3, 4, 4\), got \(2, 3, 3, 4\)"),
    (lambda: F.max_unpool2d(P2, I2.astype(np.float32), 2), TypeError, "indices must be an integer array.*float32"),
    (lambda: F.max_unpool2d(P2, I2 + 64, 2), ValueError, r"indices must lie in \[0, 63\].*\(8, 8\).*64"),
    (lambda: F.max_unpool2d(P2, I2 - 1, 2), ValueError, r"indices must lie in \[0, 63\]"),
    (lambda: F.max_unpool2d(P2, I2, 2, output_size=(10, 8)), ValueError, r"output_size \(10, 8\) must lie strictly between \(6, 6\) and \(10, 10\)"),
    (lambda: F.max_unpool2d(P2, I2, 2, output_size=9), TypeError, "output_size must be a tuple of ints"),
    (lambda: F.max_unpool2d(P2, I2, 2, stride=0), ValueError, "stride must be >= 1"),
]


# --------------------------------------------------------------- shapes for the elementwise families
def unary_inputs(draw, contiguous, low=-2.0, high=2.0, away_from_zero=False):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    x = _draw_array(draw, shape, contiguous, low, high)
    if away_from_zero:  # keep central differences off a kink at 0
        x = np.where(np.abs(x) < 1e-3, 0.5, x)
    return [x], {}


def axis_inputs(draw, contiguous):
    xs, _ = unary_inputs(draw, contiguous, -5.0, 5.0)
    return xs, dict(axis=draw(st.integers(-xs[0].ndim, xs[0].ndim - 1)))


def pair_inputs(draw, contiguous, low_b=-2.0):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    b_shape = [1 if draw(st.booleans()) else s for s in shape][draw(st.integers(0, len(shape) - 1)):]
    return [_draw_array(draw, shape, contiguous), _draw_array(draw, b_shape, contiguous, low_b, 2.0)], {}


def matmul_inputs(draw, contiguous):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    return [_draw_array(draw, (m, k), contiguous), _draw_array(draw, (k, n), contiguous)], {}


def vec_inputs(draw, contiguous):
    n, c, h, w = (draw(st.integers(1, 3)) for _ in range(4))
    shape = (n, c, h, w) if draw(st.booleans()) else (c, h, w)
    return [_draw_array(draw, shape, contiguous)], {}


def unvec_inputs(draw, contiguous):
    c, h, w = (draw(st.integers(1, 3)) for _ in range(3))
    lead = (draw(st.integers(1, 3)),) if draw(st.booleans()) else ()
    return [_draw_array(draw, lead + (c * h * w,), contiguous)], dict(shape=(c, h, w))


def rot180_inputs(draw, contiguous):
    shape = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    return [_draw_array(draw, shape, contiguous)], {}


def loss_inputs(draw, contiguous, labels=False):
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    if labels:
        lab = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int64)
        return [_draw_array(draw, (n, k), contiguous, -3.0, 3.0)], dict(target=lab)
    return [_draw_array(draw, (n, k), contiguous), _draw_array(draw, (n, k), contiguous)], {}


def classification_inputs(draw, contiguous, probabilities=False, log_probs=False):
    """Logits (C,), (N, C) or (N, C, d1[, d2]); class indices (some ignored) or class probabilities;
    an optional class weight, reduction and (for cross_entropy) label smoothing."""
    c = draw(st.integers(2, 4))
    shape = draw(st.sampled_from([(c,), (draw(st.integers(1, 3)), c), (2, c, draw(st.integers(1, 3))),
                                  (1, c, 2, draw(st.integers(1, 2)))]))
    x = _draw_array(draw, shape, contiguous, -3.0, 3.0)
    if log_probs:
        x = x - np.log(np.exp(x).sum(axis=0 if len(shape) == 1 else 1, keepdims=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    if draw(st.booleans()):
        params["weight"] = rng.uniform(0.5, 2.0, c)
    if probabilities:
        p = rng.uniform(0.1, 1.0, shape)
        target = p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    else:
        index_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
        target = rng.integers(0, c, index_shape)
        if target.size > 1 and draw(st.booleans()):  # ignore one position, keep at least one
            params["ignore_index"] = int(draw(st.sampled_from([-100, 0])))
            target.flat[0] = params["ignore_index"]
            target.flat[-1] = 1
    if not log_probs and draw(st.booleans()):
        params["label_smoothing"] = draw(st.sampled_from([0.1, 0.5]))
    return [x], dict(target=target, **params)


def _torch_class_args(torch, target, weight=None, **p):
    return torch.from_numpy(np.asarray(target)), dict(weight=None if weight is None else torch.from_numpy(weight), **p)


def _torch_cross_entropy(torch, x, target, **p):
    t, kw = _torch_class_args(torch, target, **p)
    return torch.nn.functional.cross_entropy(x, t, **kw)


def _torch_nll(torch, x, target, **p):
    t, kw = _torch_class_args(torch, target, **p)
    return torch.nn.functional.nll_loss(x, t, **kw)


def bce_inputs(draw, contiguous):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x, t = _draw_array(draw, shape, contiguous, -4.0, 4.0), _draw_array(draw, shape, contiguous, 0.0, 1.0)
    params = dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    if draw(st.booleans()):
        params["weight"] = rng.uniform(0.5, 2.0, shape[-1:])
    if draw(st.booleans()):
        params["pos_weight"] = rng.uniform(0.5, 3.0, shape[-1:])
    return [x, t], params


def _torch_bce(torch, x, t, **p):
    p = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    return torch.nn.functional.binary_cross_entropy_with_logits(x, t, **p)


def pointwise_loss_inputs(draw, contiguous):
    xs, _ = loss_inputs(draw, contiguous)
    return xs, dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])))


def _reduce_np(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


CE_BAD = [
    (lambda: F.cross_entropy(SHAPE_23, np.array([0, 1]), reduction="avg"), ValueError,
     "reduction must be one of 'none', 'mean', 'sum', got 'avg'"),
    (lambda: F.cross_entropy(SHAPE_23, np.array([0, 1]), reduction=None), TypeError, "reduction must be a str"),
    (lambda: F.cross_entropy(SHAPE_23, np.full((2, 4), 0.25)), ValueError,
     r"probability target must have the shape of logits \(2, 3\), got \(2, 4\)"),
    (lambda: F.cross_entropy(SHAPE_23, np.array([0, 1]), weight=np.ones(2)), ValueError,
     r"weight must have shape \(3,\), one per class, got \(2,\)"),
    (lambda: F.cross_entropy(SHAPE_23, np.array([0, 1]), label_smoothing=1.5), ValueError,
     r"label_smoothing must lie in \[0, 1\]"),
    (lambda: F.cross_entropy(SHAPE_23, np.array([0, 1]), ignore_index=0.5), TypeError, "ignore_index must be an int"),
    (lambda: F.cross_entropy(Tensor(np.zeros((2, 3, 4))), np.zeros((2, 5), np.int64)), ValueError,
     r"target must have shape \(2, 4\) for logits \(2, 3, 4\), got \(2, 5\)"),
    (lambda: F.cross_entropy(Tensor(np.zeros((2, 3, 4))), np.full((2, 4), 3)), ValueError, r"\[0, 2\].*\[3"),
]

NLL_BAD = [
    (lambda: F.nll_loss(SHAPE_23, np.full((2, 3), 0.3)), TypeError, "integer class indices.*float64"),
    (lambda: F.nll_loss(SHAPE_23, np.array([0, 3])), ValueError, r"\[0, 2\].*\[3\]"),
    (lambda: F.nll_loss(SHAPE_23, np.array([0, 1]), reduction="max"), ValueError, "reduction must be one of"),
]

BCE_BAD = [
    (lambda: F.binary_cross_entropy_with_logits(SHAPE_23, np.zeros(3)), ValueError,
     r"target must have the shape of logits \(2, 3\), got \(3,\)"),
    (lambda: F.binary_cross_entropy_with_logits(SHAPE_23, np.zeros((2, 3)), pos_weight=np.ones(4)), ValueError,
     r"pos_weight of shape \(4,\) does not broadcast to the input's shape \(2, 3\)"),
    (lambda: F.binary_cross_entropy_with_logits(SHAPE_23, np.zeros((2, 3)), weight=np.ones((3, 2, 3))), ValueError,
     r"weight of shape \(3, 2, 3\) does not broadcast"),
    (lambda: F.binary_cross_entropy_with_logits(SHAPE_23, np.zeros((2, 3)), reduction="all"), ValueError,
     "reduction must be one of"),
]


def reduce_inputs(draw, contiguous):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return [_draw_array(draw, shape, contiguous)], dict(axis=axis, keepdims=draw(st.booleans()))


def transpose_inputs(draw, contiguous):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    return [_draw_array(draw, shape, contiguous)], dict(axes=tuple(draw(st.permutations(range(len(shape))))))


def index_inputs(draw, contiguous):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    idx = np.asarray(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    return [_draw_array(draw, shape, contiguous)], dict(index=idx)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _cross_entropy(x, target):
    """−(1/N) Σ_n log softmax(x_n)[label_n], one example at a time."""
    return np.mean([-np.log(_softmax(row, 0)[t]) for row, t in zip(x, target)])


def _torch_reduce(torch, x, axis, keepdims, name):
    dim = tuple(range(x.ndim)) if axis is None else axis
    return getattr(x, name)(dim=dim, keepdim=keepdims)


# --------------------------------------------------------------- PyTorch-named activations, dropout, batch norm, pad, linear
def slope_inputs(draw, contiguous, name):
    xs, _ = unary_inputs(draw, contiguous, away_from_zero=True)
    return xs, {name: draw(st.sampled_from([0.01, 0.2, 1.5]))}


def gelu_inputs(draw, contiguous):
    xs, _ = unary_inputs(draw, contiguous, -4.0, 4.0)
    return xs, dict(approximate=draw(st.sampled_from(["none", "tanh"])))


def activation_inputs(low=-2.0, high=2.0, params=({},), kinks=lambda **p: ()):
    """Inputs of an elementwise activation: x in [low, high], its keyword arguments one of ``params``,
    and every element kept 1e-3 away from the points ``kinks(**params)`` where f or Ḟ jumps
    (central differences across a jump measure nothing).  The view is changed in place, so a
    non-contiguous draw stays non-contiguous."""
    def inputs(draw, contiguous):
        kwargs = dict(draw(st.sampled_from(list(params))))
        xs, _ = unary_inputs(draw, contiguous, low, high)
        x = xs[0]
        for k in kinks(**kwargs):
            x[np.abs(x - k) < 1e-3] = k + 0.1
        return [x], kwargs

    return inputs


def prelu_inputs(draw, contiguous):
    """x of rank 0 to 4 kept off the kink at 0, and a weight of 1 entry (shape (1,) or ()) or one per channel."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=4)))
    channels = shape[1] if len(shape) >= 2 else 1
    x = _draw_array(draw, shape, contiguous)
    x[np.abs(x) < 1e-3] = 0.5
    w = _draw_array(draw, draw(st.sampled_from([(1,), (channels,), ()])), contiguous)
    return [x, w], {}


SOFTPLUS_PARAMS = [dict(beta=b, threshold=t) for b in (1.0, 2.0, 0.5, -1.0) for t in (20.0, 1.0, 3.0)]
HARDTANH_PARAMS = [dict(min_val=-1.0, max_val=1.0), dict(min_val=-2.0, max_val=0.5), dict(min_val=0.0, max_val=6.0),
                   dict(min_val=0.25, max_val=0.25)]
THRESHOLD_PARAMS = [dict(threshold=t, value=v) for t in (0.0, 0.5, -1.0) for v in (-2.0, 0.0, 3.0)]


def dropout_inputs(draw, contiguous, channels=False):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4)))
    if channels and draw(st.booleans()):
        shape += (draw(st.integers(1, 3)),)
    elif not channels:
        shape = shape[:draw(st.integers(1, 3))]
    p = draw(st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]))
    return [_draw_array(draw, shape, contiguous)], dict(p=p, training=draw(st.booleans()), seed=draw(st.integers(0, 99)))


def _seeded(fn):
    """``fn(x, p, training)`` right after ``manual_seed(seed)``: the same mask on every call
    (gradcheck calls the op many times)."""
    def call(x, p, training, seed):
        manual_seed(seed)
        return fn(x, p=p, training=training)

    return call


def _dropout_ref(channels):
    def ref(x, p, training, seed):
        return dropout_reference(x, p, seed, channels=channels) if training else x

    return ref


def _dropout_torch(fn_name, channels):
    """PyTorch's dropout in eval mode and at p = 0 or 1; in training with 0 < p < 1 its generator
    differs, so the mask is taken from ours (this checks the 1/(1 − p) scaling and the gradient)."""
    def twin(torch, x, p, training, seed):
        if not training or p in (0.0, 1.0):
            with warnings.catch_warnings():  # PyTorch warns that 3-D input to dropout2d means (N, C, L)
                warnings.simplefilter("ignore")
                return getattr(torch.nn.functional, fn_name)(x, p, training)
        mask = dropout_reference(np.ones(tuple(x.shape[:2]) if channels else tuple(x.shape)), p, seed,
                                 channels=False) != 0
        mask = torch.from_numpy(mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim)))
        return torch.where(mask, x * (1.0 / (1.0 - p)), torch.zeros_like(x))

    return twin


def batch_norm_inputs(draw, contiguous):
    shape = (draw(st.integers(2, 3)), draw(st.integers(1, 3)))
    shape += tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    C = shape[1]
    training = draw(st.booleans())
    arrays = [_draw_array(draw, shape, contiguous)]
    if draw(st.booleans()):
        arrays += [_draw_array(draw, (C,), contiguous, 0.5, 2.0), _draw_array(draw, (C,), contiguous)]
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    return arrays, dict(running_mean=rng.uniform(-1, 1, C), running_var=rng.uniform(0.5, 2, C),
                        training=training, eps=draw(st.sampled_from([1e-5, 0.1])))


def _batch_norm_call(x, *weight_bias, running_mean, running_var, training, eps):
    # copies: training mode updates the running statistics in place
    return F.batch_norm(x, running_mean.copy(), running_var.copy(), *weight_bias, training=training, eps=eps)


def _batch_norm_torch(torch, x, *weight_bias, running_mean, running_var, training, eps):
    return torch.nn.functional.batch_norm(x, torch.tensor(running_mean), torch.tensor(running_var), *weight_bias,
                                          training=training, eps=eps)


def pad_inputs(draw, contiguous):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    pad = []
    for size in shape[::-1][:draw(st.integers(1, len(shape)))]:
        before = draw(st.integers(-(size - 1), 2))
        pad += [before, draw(st.integers(-(size + before - 1) if before < 0 else -(size - 1), 2))]
    return [_draw_array(draw, shape, contiguous)], dict(pad=tuple(pad), value=draw(st.sampled_from([0.0, -1.5])))


def pad_mode_inputs(mode):
    """Inputs of ``F.pad`` in a mode that repeats the input: 1, 2 or 3 padded axes with one or
    two more in front, pads drawn inside the mode's limits (crops included where it has them)."""
    def inputs(draw, contiguous):
        k = draw(st.integers(1, 3))
        shape = [draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2)))]
        shape += [draw(st.integers(1, 4)) for _ in range(k)]
        pad = []
        for n in shape[::-1][:k]:
            if mode == "reflect":
                low, high = -(n - 1), n - 1
            elif mode == "replicate":
                low, high = -(n - 1), 3
            else:
                low, high = 0, n
            before = draw(st.integers(low, high))
            after = draw(st.integers(max(low, 1 - n - before) if mode != "circular" else 0, high))
            pad += [before, after]
        return [_draw_array(draw, shape, contiguous)], dict(pad=tuple(pad), mode=mode)
    return inputs


def pad_mode_bad(mode):
    """Bad inputs of ``F.pad`` in ``mode`` (the ones every such mode shares, then its own limits)."""
    shared = [(lambda: F.pad(SHAPE_23, (1, 1, 1, 1), mode=mode), ValueError, r"4 ints \(1, 1, 1, 1\) for input \(2, 3\)"),
              (lambda: F.pad(Tensor(np.zeros((2, 3, 4, 5, 6, 7))), (1, 1), mode=mode), ValueError,
               r"2 ints \(1, 1\) for input \(2, 3, 4, 5, 6, 7\)"),
              (lambda: F.pad(SHAPE_23, (1, 1), mode=mode, value=2.0), ValueError, f"mode '{mode}' takes no value"),
              (lambda: F.pad(SHAPE_23, (1, 0.5), mode=mode), TypeError, "pad must be a tuple of ints")]
    own = {"reflect": [(lambda: F.pad(SHAPE_23, (3, 0), mode="reflect"), ValueError,
                        r"less than the size they reflect, got \(3, 0\) for dimension 1 of input \(2, 3\)"),
                       (lambda: F.pad(SHAPE_23, (-2, -2), mode="reflect"), ValueError,
                        r"leaves dimension 1 of input \(2, 3\) a size of -1")],
           "replicate": [(lambda: F.pad(Tensor(np.zeros((2, 0))), (1, 1), mode="replicate"), ValueError,
                          r"non-empty, got input \(2, 0\)")],
           "circular": [(lambda: F.pad(SHAPE_23, (4, 0), mode="circular"), ValueError,
                         r"at most the size they wrap.*\(4, 0\) for dimension 1 of input \(2, 3\)"),
                        (lambda: F.pad(SHAPE_23, (-2, 2), mode="circular"), ValueError,
                         r"at most the size they wrap.*\(-2, 2\) for dimension 1")]}
    return shared + own[mode]


def linear_inputs(draw, contiguous):
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    i, o = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    arrays = [_draw_array(draw, lead + (i,), contiguous), _draw_array(draw, (o, i), contiguous)]
    if draw(st.booleans()):
        arrays.append(_draw_array(draw, (o,), contiguous))
    return arrays, {}


BN_X = Tensor(np.zeros((4, 3, 2, 2)))
BN_STATS = dict(running_mean=Tensor(np.zeros(3)), running_var=Tensor(np.ones(3)))

SHAPE_23 = Tensor(np.zeros((2, 3)))

CASES = [
    # ---- conv family: Function ops/conv.py, kernels and references kernels/conv.py
    OpCase("conv2d", "conv",
           call=lambda x, w, b, **p: F.conv2d(x, w, b, **p),
           reference=lambda x, w, b, **p: conv2d_reference(x, w, b, **p),
           inputs=conv_inputs, torch=conv_torch, bad=CONV_BAD),
    OpCase("rot180", "conv",
           call=F.rot180, reference=rot180_reference, inputs=rot180_inputs,
           torch=lambda torch, x: torch.flip(x, dims=(-2, -1)),
           bad=[(lambda: F.rot180(Tensor(np.zeros(4))), ValueError, r"rot180.*\(4,\)")]),
    # ---- pool family: Function ops/pool.py, kernels and references kernels/pool.py
    OpCase("max_pool2d", "pool",
           call=F.max_pool2d, reference=max_pool2d_reference, inputs=pool_inputs,
           torch=lambda torch, x, kernel_size, stride: torch.nn.functional.max_pool2d(x, kernel_size, stride),
           bad=MAX_POOL_BAD),
    OpCase("max_pool2d_geometry", "pool",
           call=F.max_pool2d, reference=max_pool2d_reference, inputs=pool_geometry_inputs,
           torch=lambda torch, x, **p: torch.nn.functional.max_pool2d(x, **p)),
    OpCase("avg_pool2d", "pool",
           call=F.avg_pool2d, reference=avg_pool2d_reference, inputs=pool_inputs,
           torch=lambda torch, x, kernel_size, stride: torch.nn.functional.avg_pool2d(x, kernel_size, stride),
           bad=AVG_POOL_BAD),
    OpCase("avg_pool2d_geometry", "pool",
           call=F.avg_pool2d, reference=avg_pool2d_reference,
           inputs=lambda draw, contiguous: pool_geometry_inputs(draw, contiguous, "avg"),
           torch=lambda torch, x, **p: torch.nn.functional.avg_pool2d(x, **p)),
    OpCase("avg_pool2d_weighted", "pool",
           call=lambda x, w, **p: F.avg_pool2d(x, weight=w, **p),
           reference=lambda x, w, **p: avg_pool2d_reference(x, weight=w, **p),
           inputs=lambda draw, contiguous: pool_inputs(draw, contiguous, weighted=True),
           torch=lambda torch, x, w, kernel_size, stride: (
               torch.nn.functional.avg_pool2d(x, kernel_size, stride) * (kernel_size[0] * kernel_size[1])
               * w.reshape(1, -1, 1, 1)),
           bad=WEIGHTED_POOL_BAD),
    OpCase("avg_pool2d_weighted_geometry", "pool",
           call=lambda x, w, **p: F.avg_pool2d(x, weight=w, **p),
           reference=lambda x, w, **p: avg_pool2d_reference(x, weight=w, **p),
           inputs=lambda draw, contiguous: pool_geometry_inputs(draw, contiguous, "weighted"),
           torch=lambda torch, x, w, **p: (
               torch.nn.functional.avg_pool2d(x, divisor_override=1, **p) * w.reshape(1, -1, 1, 1))),
    OpCase("subsampling", "pool",  # LeNet's S2/S4: the weighted form plus a bias, in one op
           call=lambda x, w, b, **p: subsampling(x, weight=w, bias=b, **p),
           reference=lambda x, w, b, **p: avg_pool2d_reference(x, weight=w, **p) + b.reshape(1, -1, 1, 1),
           inputs=lambda draw, contiguous: pool_inputs(draw, contiguous, weighted=True, biased=True),
           torch=lambda torch, x, w, b, kernel_size, stride: (
               torch.nn.functional.avg_pool2d(x, kernel_size, stride, divisor_override=1) * w.reshape(1, -1, 1, 1)
               + b.reshape(1, -1, 1, 1)),
           bad=SUBSAMPLING_BAD),
    OpCase("max_unpool2d", "pool",
           call=F.max_unpool2d,
           reference=lambda x, indices, kernel_size: max_unpool2d_reference(
               x, indices, (x.shape[2] * kernel_size[0], x.shape[3] * kernel_size[1])),
           inputs=unpool_inputs,
           torch=lambda torch, x, indices, kernel_size: torch.nn.functional.max_unpool2d(
               x, torch.from_numpy(indices), kernel_size),
           bad=UNPOOL_BAD),
    OpCase("adaptive_avg_pool2d", "pool",
           call=F.adaptive_avg_pool2d, inputs=adaptive_inputs,
           reference=lambda x, output_size: adaptive_avg_pool2d_reference(x, _adaptive_hw(x, output_size)),
           torch=lambda torch, x, output_size: torch.nn.functional.adaptive_avg_pool2d(x, output_size),
           bad=ADAPTIVE_BAD),
    OpCase("adaptive_max_pool2d", "pool",
           call=F.adaptive_max_pool2d, inputs=adaptive_inputs,
           reference=lambda x, output_size: adaptive_max_pool2d_reference(x, _adaptive_hw(x, output_size))[0],
           torch=lambda torch, x, output_size: torch.nn.functional.adaptive_max_pool2d(x, output_size)),
    # ---- vec family: ops/vec.py (no compiled kernel; the reference sits beside the Function)
    OpCase("vec", "vec", call=F.vec, reference=vec_reference, inputs=vec_inputs,
           bad=[(lambda: F.vec(Tensor(np.zeros((4, 4)))), ValueError, r"vec: x must be.*\(4, 4\)")]),
    OpCase("unvec", "vec", call=F.unvec, reference=unvec_reference, inputs=unvec_inputs,
           bad=[(lambda: F.unvec(Tensor(np.zeros((2, 12))), (2, 3, 3)), ValueError, r"\(2, 12\).*C\*H\*W = 18"),
                (lambda: F.unvec(Tensor(np.zeros((2, 12))), (2, 6)), ValueError, "positive ints"),
                (lambda: F.unvec(Tensor(np.zeros((2, 12))), (2, 2.0, 3)), TypeError, "positive ints"),
                (lambda: F.unvec(Tensor(np.zeros((1, 2, 12))), (2, 2, 3)), ValueError, r"\(N, C\*H\*W\)")]),
    # ---- activation family: ops/activation.py
    OpCase("relu", "activation", call=F.relu, reference=lambda x: np.maximum(x, 0.0),
           inputs=lambda draw, contiguous: unary_inputs(draw, contiguous, away_from_zero=True),
           torch=lambda torch, x: torch.relu(x),
           bad=[(lambda: F.relu(Tensor(np.zeros(3, np.int64))), TypeError, r"x must be float32 or float64.*int64")]),
    OpCase("tanh", "activation", call=F.tanh, reference=np.tanh, inputs=unary_inputs,
           torch=lambda torch, x: torch.tanh(x),
           bad=[(lambda: F.tanh(np.zeros(2, np.int32)), TypeError, r"x must be float32 or float64.*int32.*\(2,\)")]),
    OpCase("scaled_tanh", "activation", call=F.scaled_tanh, reference=scaled_tanh_reference, inputs=unary_inputs,
           torch=lambda torch, x: 1.7159 * torch.tanh(x * (2.0 / 3.0)),
           bad=[(lambda: F.scaled_tanh(np.zeros(2, np.int32)), TypeError, r"x must be float32 or float64.*int32"),
                (lambda: F.scaled_tanh(np.zeros(2), A="1"), TypeError, "scaled_tanh: A must be a real number"),
                (lambda: F.scaled_tanh(np.zeros(2), S=float("nan")), ValueError, "scaled_tanh: S must be a finite")]),
    OpCase("sigmoid", "activation", call=F.sigmoid, reference=lambda x: 1 / (1 + np.exp(-x)),
           inputs=unary_inputs, torch=lambda torch, x: torch.sigmoid(x),
           bad=[(lambda: F.sigmoid(object()), TypeError, "x must be a Tensor or array")]),
    OpCase("softmax", "activation", call=F.softmax, reference=_softmax, inputs=axis_inputs,
           torch=lambda torch, x, axis: torch.softmax(x, dim=axis),
           bad=[(lambda: F.softmax(SHAPE_23, axis=2), ValueError, r"axis 2.*\(2, 3\)"),
                (lambda: F.softmax(SHAPE_23, axis=1.0), TypeError, "axis must be an int")]),
    OpCase("log_softmax", "activation", call=F.log_softmax,
           reference=lambda x, axis: np.log(_softmax(x, axis)), inputs=axis_inputs,
           torch=lambda torch, x, axis: torch.log_softmax(x, dim=axis),
           bad=[(lambda: F.log_softmax(SHAPE_23, axis=-3), ValueError, r"axis -3.*\(2, 3\)")]),
    OpCase("leaky_relu", "activation", call=F.leaky_relu,
           reference=lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
           inputs=lambda draw, contiguous: slope_inputs(draw, contiguous, "negative_slope"),
           torch=lambda torch, x, negative_slope: torch.nn.functional.leaky_relu(x, negative_slope),
           bad=[(lambda: F.leaky_relu(SHAPE_23, "0.1"), TypeError, "negative_slope must be a real"),
                (lambda: F.leaky_relu(Tensor(np.zeros(2, np.int64))), TypeError, "x must be float32 or float64")]),
    OpCase("elu", "activation", call=F.elu,
           reference=lambda x, alpha: np.where(x > 0, x, alpha * (np.exp(x) - 1)),
           inputs=lambda draw, contiguous: slope_inputs(draw, contiguous, "alpha"),
           torch=lambda torch, x, alpha: torch.nn.functional.elu(x, alpha),
           bad=[(lambda: F.elu(SHAPE_23, alpha=float("nan")), ValueError, "alpha must be a finite number")]),
    OpCase("gelu", "activation", call=F.gelu, reference=gelu_reference, inputs=gelu_inputs,
           torch=lambda torch, x, approximate: torch.nn.functional.gelu(x, approximate=approximate),
           bad=[(lambda: F.gelu(SHAPE_23, approximate="erf"), ValueError, "approximate must be one of"),
                (lambda: F.gelu(SHAPE_23, approximate=None), TypeError, "approximate must be a str")]),
    # ---- PyTorch's other activations: ops/activation_extra.py (references beside each Function)
    OpCase("silu", "activation", call=F.silu, reference=silu_reference, inputs=activation_inputs(-8.0, 8.0),
           torch=lambda torch, x: torch.nn.functional.silu(x),
           bad=[(lambda: F.silu(Tensor(np.zeros(3, np.int64))), TypeError,
                 r"silu: input must be float32 or float64.*int64"),
                (lambda: F.silu(SHAPE_23, inplace="no"), TypeError, "silu: inplace must be True or False")]),
    OpCase("relu6", "activation", call=F.relu6, reference=relu6_reference,
           inputs=activation_inputs(-3.0, 9.0, kinks=lambda: (0.0, 6.0)),
           torch=lambda torch, x: torch.nn.functional.relu6(x),
           bad=[(lambda: F.relu6("x"), TypeError, "relu6: input must be a Tensor or array"),
                (lambda: F.relu6(SHAPE_23, inplace=None), TypeError, "relu6: inplace must be True or False")]),
    OpCase("hardtanh", "activation", call=F.hardtanh, reference=hardtanh_reference,
           inputs=activation_inputs(-3.0, 7.0, HARDTANH_PARAMS, kinks=lambda min_val, max_val: (min_val, max_val)),
           torch=lambda torch, x, **p: torch.nn.functional.hardtanh(x, **p),
           bad=[(lambda: F.hardtanh(SHAPE_23, 2.0, 1.0), ValueError,
                 r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"),
                (lambda: F.hardtanh(SHAPE_23, "0", 1.0), TypeError, "hardtanh: min_val must be a real number"),
                (lambda: F.hardtanh(SHAPE_23, max_val=float("inf")), ValueError,
                 "hardtanh: max_val must be a finite")]),
    # PyTorch's CPU kernel multiplies a float64 gradient by the float32 constant 1.0f/6.0f (relative
    # 3e-8 from 1/6); ours uses 1/6 in the input's dtype, hence the gradients' wider tolerance
    OpCase("hardsigmoid", "activation", call=F.hardsigmoid, reference=hardsigmoid_reference,
           inputs=activation_inputs(-5.0, 5.0, kinks=lambda: (-3.0, 3.0)),
           torch=lambda torch, x: torch.nn.functional.hardsigmoid(x), torch_grad_rtol=1e-7,
           bad=[(lambda: F.hardsigmoid(Tensor(np.zeros(2, np.int32))), TypeError, "hardsigmoid: input must be float32"),
                (lambda: F.hardsigmoid(SHAPE_23, inplace=1), TypeError, "hardsigmoid: inplace must be True or False")]),
    OpCase("hardswish", "activation", call=F.hardswish, reference=hardswish_reference,
           inputs=activation_inputs(-5.0, 5.0, kinks=lambda: (-3.0, 3.0)),
           torch=lambda torch, x: torch.nn.functional.hardswish(x),
           bad=[(lambda: F.hardswish(object()), TypeError, "hardswish: input must be a Tensor or array")]),
    OpCase("softplus", "activation", call=F.softplus, reference=softplus_reference,
           inputs=activation_inputs(-5.0, 5.0, SOFTPLUS_PARAMS, kinks=lambda beta, threshold: (threshold / beta,)),
           torch=lambda torch, x, **p: torch.nn.functional.softplus(x, **p),
           bad=[(lambda: F.softplus(SHAPE_23, beta="1"), TypeError, "softplus: beta must be a real number"),
                (lambda: F.softplus(SHAPE_23, beta=0), ValueError, "softplus: beta must be nonzero"),
                (lambda: F.softplus(SHAPE_23, threshold=float("nan")), ValueError,
                 "softplus: threshold must be a finite number"),
                (lambda: F.softplus(SHAPE_23, inplace=True), TypeError, "unexpected keyword argument 'inplace'")]),
    OpCase("mish", "activation", call=F.mish, reference=mish_reference, inputs=activation_inputs(-8.0, 8.0),
           torch=lambda torch, x: torch.nn.functional.mish(x),
           bad=[(lambda: F.mish(Tensor(np.zeros(2, np.int64))), TypeError, "mish: input must be float32 or float64")]),
    OpCase("selu", "activation", call=F.selu, reference=selu_reference,
           inputs=activation_inputs(-3.0, 3.0, kinks=lambda: (0.0,)),
           torch=lambda torch, x: torch.nn.functional.selu(x),
           bad=[(lambda: F.selu(SHAPE_23, inplace="True"), TypeError, "selu: inplace must be True or False")]),
    OpCase("celu", "activation", call=F.celu, reference=celu_reference,
           inputs=activation_inputs(-3.0, 3.0, [dict(alpha=a) for a in (1.0, 0.5, 2.0, -1.5)]),
           torch=lambda torch, x, alpha: torch.nn.functional.celu(x, alpha),
           bad=[(lambda: F.celu(SHAPE_23, alpha=0.0), ValueError, "celu: alpha must be nonzero"),
                (lambda: F.celu(SHAPE_23, alpha=None), TypeError, "celu: alpha must be a real number")]),
    OpCase("logsigmoid", "activation", call=F.logsigmoid, reference=logsigmoid_reference,
           inputs=activation_inputs(-10.0, 10.0), torch=lambda torch, x: torch.nn.functional.logsigmoid(x),
           bad=[(lambda: F.logsigmoid(np.zeros(2, np.int32)), TypeError, r"logsigmoid: input must be float32.*int32")]),
    OpCase("softsign", "activation", call=F.softsign, reference=softsign_reference,
           inputs=activation_inputs(-4.0, 4.0), torch=lambda torch, x: torch.nn.functional.softsign(x),
           bad=[(lambda: F.softsign(object()), TypeError, "softsign: input must be a Tensor or array")]),
    OpCase("threshold", "activation", call=F.threshold, reference=threshold_reference,
           inputs=activation_inputs(-2.0, 2.0, THRESHOLD_PARAMS, kinks=lambda threshold, value: (threshold,)),
           torch=lambda torch, x, threshold, value: torch.nn.functional.threshold(x, threshold, value),
           bad=[(lambda: F.threshold(SHAPE_23, "0", 1.0), TypeError, "threshold: threshold must be a real number"),
                (lambda: F.threshold(SHAPE_23, 0.0, float("nan")), ValueError, "threshold: value must be a finite"),
                (lambda: F.threshold(SHAPE_23, 0.0), TypeError, "missing 1 required positional argument: 'value'")]),
    OpCase("prelu", "activation", call=F.prelu, reference=prelu_reference, inputs=prelu_inputs,
           torch=lambda torch, x, w: torch.nn.functional.prelu(x, w),
           bad=[(lambda: F.prelu(SHAPE_23, Tensor(np.zeros(2))), ValueError,
                 r"prelu: weight must have 1 entry or 3 \(one per channel, axis 1\) for input \(2, 3\), "
                 r"got shape \(2,\)"),
                (lambda: F.prelu(Tensor(np.zeros(3)), Tensor(np.zeros(3))), ValueError,
                 r"prelu: weight must have 1 entry \(one channel\) for input \(3,\), got shape \(3,\)"),
                (lambda: F.prelu(SHAPE_23, Tensor(np.zeros((1, 3)))), ValueError,
                 r"prelu: weight must be a scalar or 1-D tensor, got 2-D shape \(1, 3\)"),
                (lambda: F.prelu(SHAPE_23, Tensor(np.zeros(3, np.float32))), TypeError,
                 "prelu: input is float64 but weight is float32"),
                (lambda: F.prelu(SHAPE_23, "w"), TypeError, "prelu: weight must be a Tensor or array")]),
    OpCase("tanhshrink", "activation", call=F.tanhshrink, reference=tanhshrink_reference,
           inputs=activation_inputs(-3.0, 3.0), torch=lambda torch, x: torch.nn.functional.tanhshrink(x),
           bad=[(lambda: F.tanhshrink(Tensor(np.zeros(2, np.int64))), TypeError, "tanhshrink: input must be float32")]),
    OpCase("softshrink", "activation", call=F.softshrink, reference=softshrink_reference,
           inputs=activation_inputs(-3.0, 3.0, [dict(lambd=v) for v in (0.5, 0.0, 1.2)],
                                    kinks=lambda lambd: (-lambd, lambd)),
           torch=lambda torch, x, lambd: torch.nn.functional.softshrink(x, lambd),
           bad=[(lambda: F.softshrink(SHAPE_23, -0.5), ValueError, r"softshrink: lambd must lie in \[0, inf\)"),
                (lambda: F.softshrink(SHAPE_23, "0.5"), TypeError, "softshrink: lambd must be a real number")]),
    OpCase("hardshrink", "activation", call=F.hardshrink, reference=hardshrink_reference,
           inputs=activation_inputs(-3.0, 3.0, [dict(lambd=v) for v in (0.5, 0.0, 1.2, -0.5)],
                                    kinks=lambda lambd: (-lambd, lambd)),
           torch=lambda torch, x, lambd: torch.nn.functional.hardshrink(x, lambd),
           bad=[(lambda: F.hardshrink(SHAPE_23, None), TypeError, "hardshrink: lambd must be a real number"),
                (lambda: F.hardshrink(SHAPE_23, float("inf")), ValueError, "hardshrink: lambd must be a finite")]),
    OpCase("softmax_dim", "activation", call=lambda x, axis: F.softmax(x, dim=axis), reference=_softmax,
           inputs=axis_inputs, torch=lambda torch, x, axis: torch.nn.functional.softmax(x, dim=axis),
           bad=[(lambda: F.softmax(SHAPE_23, dim=0, axis=1), ValueError, "disagree"),
                (lambda: F.log_softmax(SHAPE_23, dim=2), ValueError, r"axis 2.*\(2, 3\)")]),
    # ---- dropout family: ops/dropout.py (mask from the package generator; reference redraws it from the seed)
    OpCase("dropout", "dropout", call=_seeded(F.dropout), reference=_dropout_ref(False),
           inputs=dropout_inputs, torch=_dropout_torch("dropout", False),
           bad=[(lambda: F.dropout(SHAPE_23, p=1.5), ValueError, r"dropout: p must lie in \[0, 1\]"),
                (lambda: F.dropout(SHAPE_23, p=-0.1), ValueError, "p must lie in"),
                (lambda: F.dropout(SHAPE_23, p="0.5"), TypeError, "p must be a real number"),
                (lambda: F.dropout(SHAPE_23, training=1), TypeError, "training must be True or False"),
                (lambda: F.dropout(Tensor(np.zeros(3, np.int64))), TypeError, "x must be float32 or float64")]),
    OpCase("dropout2d", "dropout", call=_seeded(F.dropout2d), reference=_dropout_ref(True),
           inputs=lambda draw, contiguous: dropout_inputs(draw, contiguous, channels=True),
           torch=_dropout_torch("dropout2d", True),
           bad=[(lambda: F.dropout2d(SHAPE_23), ValueError, r"dropout2d: x must be \(N, C, H, W\).*\(2, 3\)"),
                (lambda: F.dropout2d(BN_X, p=2), ValueError, "p must lie in")]),
    # ---- normalization family: ops/normalization.py
    OpCase("batch_norm", "normalization", call=_batch_norm_call,
           reference=lambda x, *wb, running_mean, running_var, training, eps: batch_norm_reference(
               x, *wb, running_mean=running_mean, running_var=running_var, training=training, eps=eps),
           inputs=batch_norm_inputs, torch=_batch_norm_torch,
           bad=[(lambda: F.batch_norm(BN_X, Tensor(np.zeros(2)), Tensor(np.ones(3))), ValueError,
                 r"running_mean must have shape \(3,\) for 3 channels, got \(2,\)"),
                (lambda: F.batch_norm(BN_X, None, None), ValueError, "needed when training=False"),
                (lambda: F.batch_norm(BN_X, Tensor(np.zeros(3)), None, training=True), ValueError, "both"),
                (lambda: F.batch_norm(Tensor(np.zeros((1, 3))), None, None, training=True), ValueError,
                 r"more than 1 value per channel.*\(1, 3\)"),
                (lambda: F.batch_norm(Tensor(np.zeros(3)), None, None, training=True), ValueError, r"1-D shape \(3,\)"),
                (lambda: F.batch_norm(BN_X, **BN_STATS, weight=Tensor(np.ones(3, np.float32))), TypeError,
                 "input is float64 but weight is float32"),
                (lambda: F.batch_norm(BN_X, **BN_STATS, training=True, momentum=1.5), ValueError,
                 r"momentum must lie in \[0, 1\]"),
                (lambda: F.batch_norm(BN_X, **BN_STATS, training=True, momentum=None), TypeError,
                 "momentum must be a real number"),
                (lambda: F.batch_norm(BN_X, **BN_STATS, eps=0), ValueError, r"eps must lie in \(0, inf\)")]),
    # ---- pad (constant mode): ops/shape.py
    OpCase("pad", "shape", call=F.pad, reference=pad_reference, inputs=pad_inputs,
           torch=lambda torch, x, pad, value: torch.nn.functional.pad(x, pad, value=value),
           bad=[(lambda: F.pad(SHAPE_23, (1,)), ValueError, r"even number of ints.*\(2, 3\)"),
                (lambda: F.pad(SHAPE_23, (1, 1) * 3), ValueError, "at most 2 per dimension"),
                (lambda: F.pad(SHAPE_23, (1.0, 1)), TypeError, "pad must be a tuple of ints"),
                (lambda: F.pad(SHAPE_23, (-2, -2)), ValueError, r"dimension 1 of \(2, 3\) a size of -1"),
                (lambda: F.pad(SHAPE_23, (1, 1), mode="symmetric"), ValueError,
                 "mode must be one of 'constant', 'reflect', 'replicate', 'circular'")]),
    # ---- pad in the modes that repeat the input: ops/shape.py, kernels/pad.py
    *[OpCase(f"pad_{mode}", "shape", call=F.pad, reference=pad_mode_reference, inputs=pad_mode_inputs(mode),
             torch=lambda torch, x, pad, mode: torch.nn.functional.pad(x, pad, mode=mode),
             bad=pad_mode_bad(mode))
      for mode in ("reflect", "replicate", "circular")],
    # ---- linear: ops/linear.py
    OpCase("linear", "linear", call=F.linear, reference=linear_reference, inputs=linear_inputs,
           torch=lambda torch, x, w, *b: torch.nn.functional.linear(x, w, *b),
           bad=[(lambda: F.linear(SHAPE_23, Tensor(np.zeros((4, 2)))), ValueError, r"2 features.*\(4, 2\).*\(2, 3\)"),
                (lambda: F.linear(SHAPE_23, Tensor(np.zeros(3))), ValueError, r"weight must be \(out_features"),
                (lambda: F.linear(SHAPE_23, Tensor(np.zeros((4, 3))), Tensor(np.zeros(3))), ValueError,
                 r"bias must have shape \(4,\)"),
                (lambda: F.linear(SHAPE_23, "w"), TypeError, "weight must be a Tensor or array")]),
    # ---- loss family: ops/loss.py
    OpCase("mse_loss", "loss", call=F.mse_loss, reference=lambda p, t, reduction: _reduce_np((p - t) ** 2, reduction),
           inputs=pointwise_loss_inputs, torch=lambda torch, p, t, **kw: torch.nn.functional.mse_loss(p, t, **kw),
           bad=[(lambda: F.mse_loss(SHAPE_23, Tensor(np.zeros(3))), ValueError, r"\(2, 3\).*\(3,\)"),
                (lambda: F.mse_loss(SHAPE_23, SHAPE_23, reduction="avg"), ValueError, "reduction must be one of")]),
    OpCase("l1_loss", "loss", call=F.l1_loss, reference=lambda p, t, reduction: _reduce_np(np.abs(p - t), reduction),
           inputs=pointwise_loss_inputs, torch=lambda torch, p, t, **kw: torch.nn.functional.l1_loss(p, t, **kw),
           bad=[(lambda: F.l1_loss(SHAPE_23, Tensor(np.zeros((3, 2)))), ValueError, r"\(2, 3\).*\(3, 2\)"),
                (lambda: F.l1_loss(SHAPE_23, SHAPE_23, reduction=1), TypeError, "reduction must be a str")]),
    OpCase("cross_entropy_options", "loss", call=F.cross_entropy, reference=cross_entropy_reference,
           inputs=classification_inputs, torch=_torch_cross_entropy, bad=CE_BAD),
    OpCase("cross_entropy_probabilities", "loss",
           call=lambda x, **p: F.cross_entropy(x, **p), reference=cross_entropy_reference,
           inputs=lambda draw, contiguous: classification_inputs(draw, contiguous, probabilities=True),
           torch=_torch_cross_entropy),
    OpCase("nll_loss", "loss", call=F.nll_loss, reference=nll_loss_reference,
           inputs=lambda draw, contiguous: classification_inputs(draw, contiguous, log_probs=True),
           torch=_torch_nll, bad=NLL_BAD),
    OpCase("binary_cross_entropy_with_logits", "loss", call=F.binary_cross_entropy_with_logits,
           reference=bce_with_logits_reference, inputs=bce_inputs, torch=_torch_bce, bad=BCE_BAD),
    OpCase("cross_entropy", "loss", call=F.cross_entropy, reference=_cross_entropy,
           inputs=lambda draw, contiguous: loss_inputs(draw, contiguous, labels=True),
           torch=lambda torch, x, target: torch.nn.functional.cross_entropy(x, torch.from_numpy(target)),
           bad=[(lambda: F.cross_entropy(SHAPE_23, np.array([0, 3])), ValueError, r"\[0, 2\].*\[3\]"),
                (lambda: F.cross_entropy(SHAPE_23, np.array([-1, 0])), ValueError, r"\[0, 2\].*\[-1\]"),
                (lambda: F.cross_entropy(SHAPE_23, np.array([0.0, 1.0])), TypeError, "integer.*float64"),
                (lambda: F.cross_entropy(SHAPE_23, np.array([0, 1, 1])), ValueError, r"\(2,\).*\(2, 3\).*\(3,\)"),
                (lambda: F.cross_entropy(SHAPE_23, np.array([[0, 1]])), ValueError, r"\(2,\).*\(1, 2\)"),
                (lambda: F.cross_entropy(Tensor(np.zeros(3)), np.array([0])), ValueError, r"logits.*\(3,\)"),
                (lambda: F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, np.int64)), ValueError, "empty batch")]),
    # ---- elementwise family: ops/elementwise.py (numpy broadcasting)
    OpCase("mul", "elementwise", call=lambda a, b: a * b, reference=np.multiply, inputs=pair_inputs,
           torch=lambda torch, a, b: a * b),
    OpCase("div", "elementwise", call=lambda a, b: a / b, reference=np.divide,
           inputs=lambda draw, contiguous: pair_inputs(draw, contiguous, low_b=0.5),
           torch=lambda torch, a, b: a / b),
    OpCase("matmul", "elementwise", call=lambda a, b: a @ b, reference=np.matmul,
           inputs=matmul_inputs,
           torch=lambda torch, a, b: a @ b,
           bad=[(lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), ValueError, r"\(2, 3\).*\(4, 5\)"),
                (lambda: Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 4))), ValueError,
                 r"batch.*\(2, 2, 3\).*\(3, 3, 4\)"),
                (lambda: Tensor(np.ones(3)) @ Tensor(np.array(2.0)), ValueError, "at least 1 dimension")]),
    # ---- reduce family: ops/reduce.py
    OpCase("sum", "reduce", call=lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
           reference=lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), inputs=reduce_inputs,
           torch=lambda torch, x, axis, keepdims: _torch_reduce(torch, x, axis, keepdims, "sum"),
           bad=[(lambda: SHAPE_23.sum(axis=3), ValueError, "axis 3")]),
    OpCase("max", "reduce", call=lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
           reference=lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), inputs=reduce_inputs,
           torch=lambda torch, x, axis, keepdims: _torch_reduce(torch, x, axis, keepdims, "amax")),
    # ---- movement family: ops/movement.py
    OpCase("transpose", "movement", call=lambda x, axes: x.transpose(tuple(axes)),  # a tuple: a full permutation, numpy style
           reference=lambda x, axes: np.transpose(x, axes), inputs=transpose_inputs,
           torch=lambda torch, x, axes: x.permute(*axes),
           bad=[(lambda: SHAPE_23.reshape(4), ValueError, r"\(2, 3\).*\(4,\)")]),
    OpCase("index", "movement", call=lambda x, index: x[index], reference=lambda x, index: x[index],
           inputs=index_inputs, torch=lambda torch, x, index: x[torch.from_numpy(index)],
           bad=[(lambda: Tensor(np.zeros(3))[np.array([0.0, 1.0])], TypeError, "integer")]),
]

from op_cases_unary import UNARY_CASES  # noqa: E402  (its rows use OpCase, defined above)

CASES += UNARY_CASES
BY_NAME = {case.name: case for case in CASES}
