"""tinygrad_cnn: a small autograd tensor framework for convolutional networks.

Each backward rule is written by hand from the lecture's equations
(conv ⊛, the rot180 full correlation, dW = dZ ⋆ V, pooling, vec), and the
hot loops are compiled by Numba.
"""

from .checkpoint import load, save
from .gradcheck import GradcheckError, gradcheck
from .tensor import Function, Tensor, is_grad_enabled, no_grad

__version__ = "0.1.0"

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError", "save", "load"]
