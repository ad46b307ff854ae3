"""tinygrad_cnn: a small autograd tensor framework for convolutional networks.

Each backward rule is written by hand from the lecture's equations
(conv ⊛, the rot180 full correlation, dW = dZ ⋆ V, pooling, vec), and the
hot loops are compiled by Numba.
"""

# First: the runtime picks Numba's threading layer before any kernel runs.
from .runtime import get_num_threads, set_num_threads  # noqa: I001
from .checkpoint import load, save
from .explain import explain
from .gradcheck import GradcheckError, gradcheck
from .tensor import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import _dtypes
from ._dtypes import (accelerator, backends, cuda, device, float32, float64, get_default_dtype, int32, int64,
                      set_default_dtype)
from ._factories import *  # noqa: F401,F403  tensor, zeros, randn, cat, stack, where, ...
from ._factories import __all__ as _factory_names
from ._functions import *  # noqa: F401,F403  exp, transpose, softmax, ... as f(x, ...)
from ._functions import __all__ as _function_names
from ._tensor_math import MaxResult, MinResult
from ._tensor_methods import Size

__version__ = "0.1.0"

__all__ = ["Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "gradcheck", "GradcheckError", "save", "load", "set_num_threads", "get_num_threads",
           "explain"]
__all__ += ["device", "cuda", "backends", "accelerator", "float32", "float64", "int32", "int64", "set_default_dtype", "get_default_dtype",
            "Size", "MaxResult", "MinResult", *_factory_names, *_function_names]

# PyTorch's dtype aliases (torch.long, torch.float, ...) as attributes only: kept out of __all__ so
# that ``from tinygrad_cnn import *`` does not hide Python's float, int and bool.
globals().update({name: dtype for name, dtype in _dtypes.ALIASES.items() if name in ("float", "double", "long", "int", "bool")})
# torch.sum, torch.max, ... likewise: attributes, not in __all__ (they share names with builtins).
from ._functions import abs, all, any, max, min, pow, round, sum  # noqa: E402,F401,A004

# ``torch.nn``, ``torch.optim``, ``torch.nn.functional`` and ``torch.utils.data`` reached as
# attributes after a bare ``import tinygrad_cnn as torch``, as PyTorch code writes them.
from . import data, functional, nn, optim, utils  # noqa: E402,F401
