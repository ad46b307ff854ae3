"""Bad input to the core ops raises a clear ValueError/TypeError naming the argument and shapes."""

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


def test_matmul_shape_mismatch():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        a @ b


def test_matmul_batch_mismatch():
    with pytest.raises(ValueError, match=r"batch.*\(2, 2, 3\).*\(3, 3, 4\)"):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 4)))


def test_matmul_scalar_operand():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Tensor(np.ones(3)) @ Tensor(np.array(2.0))


def test_requires_grad_on_integers():
    with pytest.raises(TypeError, match="int"):
        Tensor(np.array([1, 2]), requires_grad=True)


@pytest.mark.parametrize(
    "labels, exc, pattern",
    [
        (np.array([0, 3]), ValueError, r"\[0, 2\].*\[3\]"),
        (np.array([-1, 0]), ValueError, r"\[0, 2\].*\[-1\]"),
        (np.array([0.0, 1.0]), TypeError, "integer.*float64"),
        (np.array([0, 1, 1]), ValueError, r"\(2,\).*\(2, 3\).*\(3,\)"),
        (np.array([[0, 1]]), ValueError, r"\(2,\).*\(1, 2\)"),
    ],
)
def test_cross_entropy_bad_labels(labels, exc, pattern):
    with pytest.raises(exc, match=pattern):
        F.cross_entropy(Tensor(np.zeros((2, 3)), requires_grad=True), labels)


def test_cross_entropy_logits_must_be_2d():
    with pytest.raises(ValueError, match=r"logits.*\(3,\)"):
        F.cross_entropy(Tensor(np.zeros(3)), np.array([0]))


def test_mse_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        F.mse_loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros(3)))


def test_softmax_axis_out_of_range():
    with pytest.raises(ValueError, match=r"axis 2.*\(2, 3\)"):
        F.softmax(Tensor(np.zeros((2, 3))), axis=2)


def test_reshape_and_reduce_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.zeros((2, 3))).reshape(4)
    with pytest.raises(ValueError, match="axis 3"):
        Tensor(np.zeros((2, 3))).sum(axis=3)


def test_float_index_array_rejected():
    with pytest.raises(TypeError, match="integer"):
        Tensor(np.zeros(3))[np.array([0.0, 1.0])]


def test_ragged_data_rejected():
    with pytest.raises((TypeError, ValueError)):
        Tensor([[1, 2], [3]])
