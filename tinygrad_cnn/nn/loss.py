"""Loss modules: PyTorch's constructor arguments, ``forward(input, target)`` calls ``functional``.

``size_average`` and ``reduce`` are PyTorch's deprecated spellings of
``reduction``; when either is given it decides, as in PyTorch.
"""

from __future__ import annotations

from .. import _checks as check
from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss",
           "SmoothL1Loss", "HuberLoss", "BCELoss", "KLDivLoss", "SoftMarginLoss", "CosineSimilarity",
           "PairwiseDistance", "MarginRankingLoss", "HingeEmbeddingLoss", "GaussianNLLLoss", "PoissonNLLLoss",
           "TripletMarginLoss"]


def _legacy_reduction(size_average, reduce, reduction, choices=check.REDUCTIONS) -> str:
    """``reduction`` from PyTorch's deprecated ``size_average`` / ``reduce`` when either is given."""
    if size_average is None and reduce is None:
        return check.one_of(reduction, "reduction", choices)
    size_average = True if size_average is None else check.boolean(size_average, "size_average")
    reduce = True if reduce is None else check.boolean(reduce, "reduce")
    return "none" if not reduce else ("mean" if size_average else "sum")


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean", choices=check.REDUCTIONS):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction, choices)

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


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above it (``F.smooth_l1_loss``)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = check.real(beta, "SmoothL1Loss: beta", 0.0)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta`` times the absolute error above it (``F.huber_loss``)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = check.real(delta, "HuberLoss: delta", 0.0, low_open=True)

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (``F.binary_cross_entropy``)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight  # a constant, not a Parameter: it is not trained

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback–Leibler divergence of log-probabilities from a target (``F.kl_div``); ``reduction``
    also takes ``'batchmean'``, the divergence per example."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction, choices=check.KL_REDUCTIONS)
        self.log_target = check.boolean(log_target, "KLDivLoss: log_target")

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    """Logistic loss log(1 + exp(−y x)) for labels ±1 (``F.soft_margin_loss``)."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineSimilarity(Module):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (``F.cosine_similarity``)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = check.integer(dim, "CosineSimilarity: dim")
        self.eps = check.real(eps, "CosineSimilarity: eps", 0.0)

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 − x2 + eps‖_p over the last dimension (``F.pairwise_distance``)."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = check.norm_order(p, "PairwiseDistance: p")  # PyTorch's attribute name
        self.eps = check.real(eps, "PairwiseDistance: eps")
        self.keepdim = check.boolean(keepdim, "PairwiseDistance: keepdim")

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class MarginRankingLoss(_Loss):
    """max(0, −y (x1 − x2) + margin) for a ranking y = ±1 (``F.margin_ranking_loss``)."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = check.real(margin, "MarginRankingLoss: margin")

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x for similar pairs (y = 1), max(0, margin − x) for dissimilar ones (``F.hinge_embedding_loss``)."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = check.real(margin, "HingeEmbeddingLoss: margin")

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood under N(input, var) (``F.gaussian_nll_loss``)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full = check.boolean(full, "GaussianNLLLoss: full")
        self.eps = check.real(eps, "GaussianNLLLoss: eps", 0.0)

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of counts under Poisson(rate) (``F.poisson_nll_loss``)."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = check.boolean(log_input, "PoissonNLLLoss: log_input")
        self.full = check.boolean(full, "PoissonNLLLoss: full")
        self.eps = check.real(eps, "PoissonNLLLoss: eps", 0.0)

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, margin + d(anchor, positive) − d(anchor, negative)) (``F.triplet_margin_loss``)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = check.real(margin, "TripletMarginLoss: margin", 0.0, low_open=True)
        self.p = check.norm_order(p, "TripletMarginLoss: p")
        self.eps = check.real(eps, "TripletMarginLoss: eps")
        self.swap = check.boolean(swap, "TripletMarginLoss: swap")

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)
