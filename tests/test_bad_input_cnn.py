"""Bad input to the CNN ops is refused in Python, naming the argument and shapes, before any kernel runs."""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

X = Tensor(np.zeros((2, 3, 8, 8), np.float32))
W = Tensor(np.zeros((4, 3, 3, 3), np.float32))


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        (dict(weight=Tensor(np.zeros((4, 2, 3, 3), np.float32))), ValueError, r"2 input channels.*\(2, 3, 8, 8\) has 3"),
        (dict(weight=Tensor(np.zeros((4, 3, 9, 3), np.float32))), ValueError, r"kernel \(9, 3\).*padded input \(8, 8\)"),
        (dict(weight=Tensor(np.zeros((4, 3, 11, 3), np.float32)), padding=1), ValueError, r"kernel \(11, 3\).*\(10, 10\)"),
        (dict(stride=0), ValueError, "stride must be >= 1"),
        (dict(stride=(1, -2)), ValueError, "stride must be >= 1"),
        (dict(stride=1.5), TypeError, "stride must be an int"),
        (dict(padding=-1), ValueError, "padding must be >= 0"),
        (dict(padding="bogus"), ValueError, "padding must be"),
        (dict(padding="same", stride=2), ValueError, "'same' needs stride 1"),
        (dict(bias=Tensor(np.zeros(3, np.float32))), ValueError, r"bias must have shape \(4,\).*\(3,\)"),
        (dict(connection=np.ones((3, 4))), ValueError, r"connection must have shape \(O, C\) = \(4, 3\), got \(3, 4\)"),
        (dict(connection=np.full((4, 3), 2)), ValueError, "only 0 and 1"),
        (dict(weight=Tensor(np.zeros((4, 3, 3), np.float32))), ValueError, r"weight must be \(O, C, kh, kw\)"),
        (dict(weight=Tensor(np.zeros((4, 3, 3, 3)))), TypeError, "float32 but weight is float64"),
        (dict(x=Tensor(np.zeros((1, 2, 3, 8, 8), np.float32))), ValueError, r"5-D shape \(1, 2, 3, 8, 8\)"),
        (dict(x=Tensor(np.zeros((2, 3, 8, 8), np.int64))), TypeError, "x must be float32 or float64"),
    ],
)
def test_conv2d_bad_input(kwargs, exc, pattern):
    args = dict(x=X, weight=W)
    args.update(kwargs)
    with pytest.raises(exc, match=pattern):
        F.conv2d(**args)


def test_conv2d_single_matrix_needs_2d_kernel():
    with pytest.raises(ValueError, match=r"2-D \(kh, kw\) weight"):
        F.conv2d(Tensor(np.zeros((5, 5))), Tensor(np.zeros((1, 1, 2, 2))))
    with pytest.raises(ValueError, match="scalar bias"):
        F.conv2d(Tensor(np.zeros((5, 5))), Tensor(np.zeros((2, 2))), Tensor(np.zeros(2)))


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        (dict(kernel_size=9), ValueError, r"kernel_size \(9, 9\) is larger.*\(8, 8\)"),
        (dict(kernel_size=(2, 10)), ValueError, "larger than the input"),
        (dict(kernel_size=0), ValueError, "kernel_size must be >= 1"),
        (dict(kernel_size=2, stride=0), ValueError, "stride must be >= 1"),
        (dict(kernel_size=2.0), TypeError, "kernel_size must be an int"),
    ],
)
def test_pool_bad_input(pool, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        pool(X, **kwargs)


def test_pool_5d_input():
    with pytest.raises(ValueError, match="5-D"):
        F.max_pool2d(Tensor(np.zeros((1, 1, 1, 4, 4))), 2)


def test_avg_pool_weight_shape_and_dtype():
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\).*got \(4,\)"):
        F.avg_pool2d(X, 2, weight=Tensor(np.ones(4, np.float32)))
    with pytest.raises(TypeError, match="weight is float64 but x is float32"):
        F.avg_pool2d(X, 2, weight=Tensor(np.ones(3)))


def test_unvec_bad_size():
    v = Tensor(np.zeros((2, 12)))
    with pytest.raises(ValueError, match=r"\(2, 12\).*C\*H\*W = 18"):
        F.unvec(v, (2, 3, 3))
    with pytest.raises(ValueError, match="positive ints"):
        F.unvec(v, (2, 6))
    with pytest.raises(ValueError, match=r"\(N, C\*H\*W\)"):
        F.unvec(Tensor(np.zeros((1, 2, 12))), (2, 2, 3))


def test_vec_bad_rank_and_rot180_bad_rank():
    with pytest.raises(ValueError, match=r"vec: x must be.*\(4, 4\)"):
        F.vec(Tensor(np.zeros((4, 4))))
    with pytest.raises(ValueError, match=r"rot180.*\(4,\)"):
        F.rot180(Tensor(np.zeros(4)))
