"""``nn.utils``: gradient clipping and parameters as one vector, as PyTorch's ``torch.nn.utils``.

Each works on the gradients the last backward pass left in ``p.grad`` (parameters without
one are skipped) and writes them in place, outside the graph.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks
from .._versions import bump
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _params(parameters, op: str) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters[{k}] must be a Tensor/Parameter, got {type(p).__name__}")
    return params


def _grads(params) -> list:
    """The gradient arrays of the parameters that have one (written in place by the callers)."""
    return [p.grad.data if isinstance(p.grad, Tensor) else p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm is at most ``max_norm``.

    The total norm is the norm of the vector of every gradient element (``inf``: the largest
    magnitude); when it exceeds ``max_norm`` every gradient is multiplied by
    ``max_norm / (total + 1e-6)``, as PyTorch.  Returns the total norm (before clipping) as a
    0-d float Tensor; ``error_if_nonfinite`` raises ``RuntimeError`` when it is NaN or infinite.
    """
    params = _params(parameters, "clip_grad_norm_")
    max_norm = _checks.real(max_norm, "clip_grad_norm_: max_norm", 0.0)
    norm_type = float(norm_type) if norm_type in ("inf", float("inf")) else \
        _checks.real(norm_type, "clip_grad_norm_: norm_type", 0.0, low_open=True)
    grads = _grads(params)
    dtype = grads[0].dtype if grads else np.float32
    if not grads:
        return Tensor(np.zeros((), dtype))
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max(initial=0.0)) for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}")
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= g.dtype.type(scale)
            bump(g)
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    params = _params(parameters, "clip_grad_value_")
    clip_value = _checks.real(clip_value, "clip_grad_value_: clip_value", 0.0)
    for g in _grads(params):
        np.clip(g, -clip_value, clip_value, out=g)
        bump(g)


def parameters_to_vector(parameters) -> Tensor:
    """Every parameter flattened and joined into one 1-D Tensor (a copy, outside the graph)."""
    params = _params(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: no parameters")
    return Tensor(np.concatenate([p.data.reshape(-1) for p in params]))


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    params = _params(parameters, "vector_to_parameters")
    v = _checks.tensor(vec, "vec").data
    total = sum(p.data.size for p in params)
    if v.ndim != 1 or v.size != total:
        raise ValueError(f"vector_to_parameters: vec must be 1-D with {total} elements for these "
                         f"parameters, got shape {v.shape}")
    start = 0
    for p in params:
        n = p.data.size
        np.copyto(p.data, v[start:start + n].reshape(p.data.shape), casting="same_kind")
        bump(p.data)
        start += n
