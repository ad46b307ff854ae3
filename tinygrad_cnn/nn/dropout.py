"""Dropout layers: active in training mode only (``model.train()``), the identity after ``model.eval()``."""

from __future__ import annotations

from .. import _checks as check
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class Dropout(Module):
    """Inverted dropout (``F.dropout``): in training each element is zeroed with probability ``p``
    and the rest scaled by 1/(1 − p); in eval mode the input passes unchanged."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = check.real(p, f"{type(self).__name__}: p", 0.0, 1.0)
        self.inplace = check.boolean(inplace, "inplace")  # accepted, ignored: the result is a new tensor

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout (``F.dropout2d``): whole feature maps x[n, c] are zeroed with probability ``p``."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)


class Dropout1d(Dropout):
    """Channel dropout of ``(N, C, L)`` (``F.dropout1d``)."""

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training)


class Dropout3d(Dropout):
    """Channel dropout of ``(N, C, D, H, W)`` (``F.dropout3d``)."""

    def forward(self, x):
        return F.dropout3d(x, self.p, self.training)
