"""``f(x, ...)`` = ``x.f(...)``: PyTorch's package-level twins of Tensor methods.

``torch.sum(x, dim=1)``, ``torch.exp(x)``, ``torch.max(x, 1)`` and the like, each
forwarding to the Tensor method of the same name.  They live in a module of their
own because several of them (``sum``, ``max``, ``min``, ``abs``) share a name with a
Python builtin.
"""

from __future__ import annotations

import builtins

import numpy as np

from . import _checks

__all__ = []


def _method_function(name: str):
    def f(input, *args, **kwargs):
        return getattr(_checks.tensor(input, "input"), name)(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``{name}(x, ...)`` is ``x.{name}(...)``."
    return f


_METHOD_FUNCTIONS = (
    "abs", "sqrt", "exp", "log", "tanh", "sigmoid", "relu", "clamp", "clip", "sum", "mean", "max", "min",
    "amax", "amin", "argmax", "argmin", "var", "std", "norm", "softmax", "log_softmax", "matmul", "mm",
    "add", "sub", "mul", "div", "pow", "neg", "square", "reshape", "transpose", "permute", "squeeze",
    "unsqueeze", "flatten", "flip", "t", "clone", "eq", "ne", "lt", "le", "gt", "ge", "topk", "split",
    "chunk", "masked_fill", "gather", "index_select", "roll", "cumsum", "sort", "argsort", "isnan", "isinf", "isfinite", "any", "all",
)
for _name in _METHOD_FUNCTIONS:
    globals()[_name] = _method_function(_name)
# Names that are also Python builtins (sum, max, min, abs, pow) stay attributes only, so that
# ``from tinygrad_cnn import *`` does not replace the builtins.
__all__ += [n for n in _METHOD_FUNCTIONS if not hasattr(builtins, n)]


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(np.asarray(input), np.asarray(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when both have the same shape and elements."""
    a, b = np.asarray(input), np.asarray(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


__all__ += ["allclose", "equal"]
