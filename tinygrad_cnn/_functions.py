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
    "sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "erf", "sign",
    "floor", "ceil", "round", "trunc", "fix", "clamp_min", "clamp_max", "tril", "triu", "prod", "logsumexp",
    "narrow", "tile", "movedim", "moveaxis", "swapaxes", "swapdims", "broadcast_to", "rot90", "diagonal",
    "trace", "diag", "lerp", "hypot", "masked_select", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isclose", "nonzero", "argwhere", "count_nonzero", "remainder", "fmod", "atan2", "arctan2",
    "scatter", "scatter_add", "cumprod",
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


def outer(input, vec2):
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] · vec2[j]``."""
    a, b = _checks.tensor(input, "input"), _checks.tensor(vec2, "vec2")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: input and vec2 must be 1-D, got shapes {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def dot(input, tensor):
    """The inner product of two 1-D tensors of the same length."""
    a, b = _checks.tensor(input, "input"), _checks.tensor(tensor, "tensor")
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: input and tensor must be 1-D of the same length, got shapes {a.shape} and {b.shape}")
    return a @ b


def bmm(input, mat2):
    """Batched matrix product of ``(b, n, m)`` and ``(b, m, p)`` tensors: ``(b, n, p)``."""
    a, b = _checks.tensor(input, "input"), _checks.tensor(mat2, "mat2")
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm: expected (b, n, m) and (b, m, p) tensors, got shapes {a.shape} and {b.shape}")
    return a @ b


__all__ += ["outer", "ger", "dot", "bmm"]


def einsum(equation, *operands):
    """Einstein summation, PyTorch's ``einsum``: ``einsum('bij,bjk->bik', a, b)``; the operands
    may also come as one list.  An ellipsis ``...`` stands for the leading axes, and without
    ``->`` the output keeps the letters appearing once, in alphabetical order."""
    from .ops import einsum as _einsum

    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a str, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [_checks.tensor(t, f"operands[{k}]") for k, t in enumerate(operands)]
    inputs, output = _einsum.parse_einsum(equation, [t.shape for t in tensors])
    return _einsum.Einsum.apply(*tensors, inputs=inputs, output=output)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` grid k varies along axis k
    (``'xy'``: the first two axes swapped, as numpy's)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_checks.tensor(t, f"tensors[{k}]") for k, t in enumerate(tensors)]
    for k, t in enumerate(ts):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: tensors[{k}] must be 0-D or 1-D, got shape {t.shape}")
    _checks.one_of(indexing, "meshgrid: indexing", ("ij", "xy"))
    ts = [t.reshape(-1) for t in ts]
    shape = tuple(t.shape[0] for t in ts)
    grids = [t.reshape(tuple(-1 if i == k else 1 for i in range(len(ts)))).expand(*shape)
             for k, t in enumerate(ts)]
    if indexing == "xy" and len(ts) >= 2:  # the first two axes swapped: x along columns, y along rows
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


__all__ += ["einsum", "meshgrid"]
