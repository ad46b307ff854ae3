"""Numerical gradient check: analytic backward against central differences."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the central difference."""

    def __init__(self, input_index, element, analytic, numeric):
        self.input_index, self.element = input_index, element
        self.analytic, self.numeric = analytic, numeric
        super().__init__(
            f"gradcheck failed for input {input_index} at element {element}: "
            f"analytic {analytic!r} vs numeric {numeric!r} (difference {abs(analytic - numeric):.3g})"
        )


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check ``fn``'s backward against central differences on float64 inputs.

    ``fn(*inputs)`` returns a Tensor.  Its output is contracted with a fixed
    random upstream gradient r (not all ones, which would hide transposition
    errors): the analytic d<fn, r>/dx from ``backward(r)`` must equal
    (<fn(x + eps·e_k), r> − <fn(x − eps·e_k), r>) / (2 eps) for every element k
    of every input that requires grad, within ``atol + rtol·|numeric|``.
    Returns ``True`` or raises :class:`GradcheckError`.
    """
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; central differences need float64")

    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    r = np.random.default_rng(seed).standard_normal(out.shape)

    saved = [inputs[i].grad for i in checked]
    for i in checked:
        inputs[i].grad = None
    try:
        if out.requires_grad:
            out.backward(r)
        analytic = [
            np.zeros(inputs[i].shape) if inputs[i].grad is None else np.asarray(inputs[i].grad, dtype=np.float64)
            for i in checked
        ]
    finally:
        for i, g in zip(checked, saved):
            inputs[i].grad = g

    def objective() -> float:
        with no_grad():
            return float(np.sum(np.asarray(fn(*inputs).data, dtype=np.float64) * r))

    for i, a in zip(checked, analytic):
        x = inputs[i].data
        for k in np.ndindex(x.shape):
            orig = x[k]
            x[k] = orig + eps
            plus = objective()
            x[k] = orig - eps
            minus = objective()
            x[k] = orig
            numeric = (plus - minus) / (2 * eps)
            if not abs(a[k] - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(i, k, float(a[k]), numeric)
    return True
