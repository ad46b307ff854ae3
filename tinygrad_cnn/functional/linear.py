"""The affine map of a fully connected layer, ``F.linear(x, weight, bias)`` = x Wᵀ + b."""

from __future__ import annotations

from .. import _checks as check
from ..ops import linear as _linear
from ..tensor import Tensor

__all__ = ["linear"]


def linear(x, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b: x ``(*, in_features)``, weight ``(out_features, in_features)``, bias ``(out_features,)``.

    Mixed float32/float64 operands promote to float64, as ``x @ W.T + b`` does here
    (PyTorch refuses them); each gradient comes back in its input's dtype.
    """
    x = check.float_tensor(x, "x")
    weight = check.float_tensor(weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be (out_features, in_features), got {weight.ndim}-D shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: x must have {weight.shape[1]} features in its last axis to match weight {weight.shape}, "
            f"got shape {x.shape}"
        )
    if bias is not None:
        bias = check.channel_vector(bias, weight.shape[0], "bias", "linear")
    return _linear.Linear.apply(x, weight, bias)
