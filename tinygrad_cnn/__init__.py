"""tinygrad_cnn: a small autograd tensor framework for convolutional networks.

Each backward rule is written by hand from the lecture's equations
(conv ⊛, the rot180 full correlation, dW = dZ ⋆ V, pooling, vec), and the
hot loops are compiled by Numba.
"""

# First: the runtime picks Numba's threading layer before any kernel runs.
from .runtime import get_num_threads, set_num_threads  # noqa: I001
from .checkpoint import load, save
from .gradcheck import GradcheckError, gradcheck
from .tensor import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__version__ = "0.1.0"

__all__ = ["Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "gradcheck", "GradcheckError", "save", "load", "set_num_threads", "get_num_threads"]
