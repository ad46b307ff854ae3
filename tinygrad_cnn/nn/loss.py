"""Loss modules: PyTorch's constructor arguments, ``forward(input, target)`` calls ``functional``.

``size_average`` and ``reduce`` are PyTorch's deprecated spellings of
``reduction``; when either is given it decides, as in PyTorch.
"""

from __future__ import annotations

from .. import _checks as check
from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss"]


def _legacy_reduction(size_average, reduce, reduction) -> str:
    """``reduction`` from PyTorch's deprecated ``size_average`` / ``reduce`` when either is given."""
    if size_average is None and reduce is None:
        return check.one_of(reduction, "reduction", check.REDUCTIONS)
    size_average = True if size_average is None else check.boolean(size_average, "size_average")
    reduce = True if reduce is None else check.boolean(reduce, "reduce")
    return "none" if not reduce else ("mean" if size_average else "sum")


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """Squared error (``F.mse_loss``)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Absolute error (``F.l1_loss``)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (``F.nll_loss``)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight  # a constant, not a Parameter: it is not trained
        self.ignore_index = check.integer(ignore_index, "ignore_index")

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(NLLLoss):
    """Softmax cross-entropy on logits (``F.cross_entropy``): class indices or class probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = check.real(label_smoothing, "label_smoothing", 0.0, 1.0)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (``F.binary_cross_entropy_with_logits``)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
