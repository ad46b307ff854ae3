"""The engine's checks on gradients, kept out of ``tensor.py`` so that the engine reads on one screen.

The engine hands every backward a gradient of its output's recorded shape and
dtype and checks every gradient a backward returns: the compiled kernels index
memory by these shapes, so a wrong one must stop here, in Python.  The fast
path in ``Tensor.backward`` is one comparison per node; the helpers below run
only on a mismatch, when something was changed in place (``_versions.py``), or
when a user assigns ``t.grad``.
"""

from __future__ import annotations

import numpy as np

from . import _versions
from . import tensor as _tensor  # partly initialised at import time; used only inside calls


def root_grad(grad, root: "_tensor.Tensor") -> np.ndarray:
    """The ``grad`` passed to ``backward()``: real numbers of the root's shape, in its dtype."""
    arr = grad.data if isinstance(grad, _tensor.Tensor) else np.asarray(grad)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        dtype = getattr(arr, "dtype", type(arr).__name__)
        shape = getattr(arr, "shape", None)
        raise TypeError(
            f"backward(): grad must hold real numbers, got dtype {dtype} with shape {shape}"
            + (" (a complex gradient would lose its imaginary part)" if getattr(dtype, "kind", "") == "c" else "")
        )
    if arr.shape != root.shape:
        raise ValueError(f"backward(): grad has shape {arr.shape} but the tensor has shape {root.shape}")
    return arr.astype(root.dtype, copy=False)


def incoming_grad(ctx, g) -> np.ndarray:
    """The gradient about to enter ``ctx.backward``, checked against the output recorded at apply time."""
    name = type(ctx).__name__
    if g.shape != ctx.out_shape:
        raise RuntimeError(
            f"{name}.backward would receive a gradient of shape {g.shape}, but its output had shape "
            f"{ctx.out_shape}; was the output's .data replaced after the forward pass?"
        )
    if g.dtype.kind != "f":
        raise RuntimeError(
            f"{name}.backward would receive a gradient of dtype {g.dtype} (shape {g.shape}); "
            f"its output is {ctx.out_dtype}"
        )
    return g.astype(ctx.out_dtype)


def check_grad_count(ctx, in_grads: tuple) -> None:
    """A backward returns one gradient per positional input; extra entries may only be None."""
    n = len(ctx.parents)
    name = type(ctx).__name__
    if len(in_grads) < n:
        raise RuntimeError(
            f"{name}.backward returned {len(in_grads)} gradient(s) for {n} input(s); "
            f"return one per input (None where there is none)"
        )
    if any(g is not None for g in in_grads[n:]):
        raise RuntimeError(f"{name}.backward returned {len(in_grads)} gradients for {n} input(s)")


def returned_grad(ctx, i: int, pg, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Gradient ``pg`` that ``ctx.backward`` returned for input ``i`` (of ``shape``/``dtype``), checked."""
    name = type(ctx).__name__
    if isinstance(pg, _tensor.Tensor):
        pg = pg.data
    elif isinstance(pg, np.generic):
        pg = np.asarray(pg)
    if not isinstance(pg, np.ndarray):
        raise RuntimeError(
            f"{name}.backward returned a {type(pg).__name__} for input {i} (shape {shape}); "
            f"return a numpy array, a Tensor or None"
        )
    if pg.shape != shape:
        raise RuntimeError(
            f"{name}.backward returned a gradient of shape {pg.shape} for input {i}, "
            f"which has shape {shape}"
        )
    if pg.dtype.kind != "f":
        raise RuntimeError(
            f"{name}.backward returned a gradient of dtype {pg.dtype} for input {i} "
            f"(shape {shape}); it must be a float array ({dtype})"
        )
    return np.asarray(pg, dtype=dtype)


def check_saved_versions(ctx) -> None:
    """Refuse to run ``ctx.backward`` when something it saved was changed in place since."""
    saved, recorded = ctx.saved_tensors or (), ctx._saved_versions
    for k, value in enumerate(saved):
        arr = _tensor._array_of(value)
        if arr is None:
            continue
        now, then = _versions.version(arr), 0 if recorded is None else recorded[k]
        if now != then:
            raise RuntimeError(
                f"{type(ctx).__name__}.backward needs saved value {k} (shape {arr.shape}, dtype {arr.dtype}), "
                f"which was modified by an in-place operation after the forward pass (version {now}, "
                f"expected {then}); change a clone() instead, or change it after backward()"
            )


def assigned_grad(t, value):
    """What ``t.grad = value`` stores: None, or a Tensor without a graph of ``t``'s shape and dtype."""
    if value is None:
        return None
    if isinstance(value, _tensor.Tensor):
        arr = value.data
    elif isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
    else:
        raise TypeError(f"grad must be None, a Tensor or a numpy array, got {type(value).__name__}")
    if arr.shape != t.shape:
        raise ValueError(f"assigned grad has shape {arr.shape}, but the tensor has shape {t.shape}")
    if arr.dtype != t.dtype:
        raise TypeError(f"assigned grad has dtype {arr.dtype}, but the tensor has dtype {t.dtype} "
                        f"(shape {t.shape}); convert it with .astype({t.dtype})")
    if isinstance(value, _tensor.Tensor) and not value.requires_grad:
        return value  # stored as given, as PyTorch does (t.grad is value)
    return _tensor._plain_tensor(arr)
