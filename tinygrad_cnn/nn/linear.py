"""The fully connected part of a network: vec (feature maps to a vector) and ``Linear``."""

from __future__ import annotations

import math

from .. import _checks as check
from .. import functional as F
from .module import Module, Parameter, _uniform

__all__ = ["Vec", "Linear"]


class Vec(Module):
    """Feature maps to one column-stacked vector per example (``F.vec``): (N, C, H, W) → (N, C·H·W)."""

    def forward(self, x):
        return F.vec(x)


class Linear(Module):
    """Fully connected layer n = W p + b, batched as y = x @ Wᵀ + b.

    ``weight`` ``(out_features, in_features)``, ``bias`` ``(out_features,)``, both
    initialised U(−1/√in_features, 1/√in_features) as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = check.positive_int(in_features, "in_features")
        self.out_features = check.positive_int(out_features, "out_features")
        check.boolean(bias, "bias")
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(_uniform(bound, (self.out_features, self.in_features)))
        self.bias = Parameter(_uniform(bound, (self.out_features,))) if bias else None

    def forward(self, x):
        x = check.float_tensor(x, "Linear: input")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input must have {self.in_features} features in its last axis, got shape {x.shape}"
            )
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
