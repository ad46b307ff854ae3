"""The regression, probability, margin and likelihood losses and the embedding distances:
smooth_l1_loss, huber_loss, binary_cross_entropy, kl_div, soft_margin_loss, cosine_similarity,
pairwise_distance, margin_ranking_loss, hinge_embedding_loss, gaussian_nll_loss, poisson_nll_loss
and triplet_margin_loss, with their modules.

Every case goes through the same checks for every reduction, on hypothesis-drawn shapes
(broadcast where PyTorch broadcasts, non-contiguous views included):

1. float64 forward against the naive reference of ``ops/loss_extra.py``;
2. float64 forward and backward against PyTorch, with a random upstream gradient;
3. float64 ``gradcheck`` of every input that receives a gradient;
4. float32 in, float32 out and float32 gradients.

Then the semantics PyTorch fixes at the edges (clamped logs, zero targets, ties, clamped
variances), the modules, the bad inputs, and a negative control: the same checks on a
deliberately wrong backward fail.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn
from tinygrad_cnn import GradcheckError, Tensor, explain, gradcheck
from tinygrad_cnn.ops import loss_extra as L
from helpers import arrays, random_grad, shapes

FEW = settings(max_examples=8, deadline=None)
REDUCTIONS = ("none", "mean", "sum")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------- the cases
@dataclass
class LossCase:
    """One loss: ``draw(draw, reduction) -> (arrays, params)``; ``grads`` are the positions of the
    arrays that get a gradient here (the others are labels, passed as constants), ``torch_grads``
    those PyTorch also differentiates."""

    name: str
    draw: Callable
    call: Callable
    reference: Callable
    torch: Callable
    grads: tuple
    torch_grads: tuple
    reductions: tuple = REDUCTIONS
    rtol: float = 1e-12
    grad_rtol: float = 1e-10
    notes: dict = field(default_factory=dict)

    def __repr__(self):
        return self.name


@st.composite
def partner(draw, shape, same_ndim=False):
    """A shape that broadcasts to ``shape`` without growing it: trailing dims, some set to 1."""
    nd = len(shape) if same_ndim else draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else s for s in shape[len(shape) - nd:])


@st.composite
def two_broadcasting(draw, min_dims=0, max_dims=3, same_ndim=False):
    """Two shapes that broadcast (either one may be the smaller)."""
    big = draw(shapes(min_dims=min_dims, max_dims=max_dims, max_side=4))
    small = draw(partner(big, same_ndim))
    return (big, small) if draw(st.booleans()) else (small, big)


def _apart(shape, by):
    """An offset of ``shape``, different in every element: it keeps equal draws (hypothesis likes
    repeating a seed) off the kinks and ties of |d|^p and max |d|."""
    return by * (1 + 0.37 * np.arange(math.prod(shape)).reshape(shape))


def _labels(draw, shape, values=(-1.0, 1.0)):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.choice(np.array(values), size=shape)


def draw_regression(draw, reduction, extra):
    shape = draw(shapes(max_dims=3, max_side=4))
    x, t = draw(arrays(shape)), draw(arrays(shape))
    return [x, t], dict(reduction=reduction, **{extra: draw(st.sampled_from(
        (0.0, 0.5, 1.0, 1.7) if extra == "beta" else (0.5, 1.0, 1.7)))})


def draw_bce(draw, reduction):
    shape = draw(shapes(max_dims=3, max_side=4))
    x = draw(arrays(shape, low=0.05, high=0.95))
    t = draw(arrays(shape, low=0.0, high=1.0))
    w = draw(st.one_of(st.none(), partner(shape).map(lambda s: np.linspace(0.5, 2.0, max(math.prod(s), 1))
                                                     [:math.prod(s)].reshape(s))))
    return [x, t], dict(weight=w, reduction=reduction)


def draw_kl(draw, reduction):
    xs, ts = draw(two_broadcasting())
    log_target = draw(st.booleans())
    x = draw(arrays(xs, low=-3.0, high=0.0))
    t = draw(arrays(ts, low=-3.0, high=0.5)) if log_target else draw(arrays(ts, low=0.05, high=1.0))
    return [x, t], dict(reduction=reduction, log_target=log_target)


def draw_soft_margin(draw, reduction):
    shape = draw(shapes(max_dims=3, max_side=4))
    return [draw(arrays(shape)), _labels(draw, draw(partner(shape)))], dict(reduction=reduction)


def draw_cosine(draw, reduction):
    # norms above eps: where eps clamps a norm PyTorch's rule is not the derivative (a test below
    # compares that regime with PyTorch alone)
    s1, s2 = draw(two_broadcasting(min_dims=1))
    dim = draw(st.integers(-max(len(s1), len(s2)), max(len(s1), len(s2)) - 1))
    eps = draw(st.sampled_from((1e-8, 1e-3)))
    return [draw(arrays(s1, low=0.1, high=2.0)) * _labels(draw, s1),
            draw(arrays(s2, low=0.1, high=2.0)) * _labels(draw, s2)], dict(dim=dim, eps=eps)


P_NORMS = (2.0, 1.0, 1.5, 3.0, 0.5, math.inf)


def draw_pairwise(draw, reduction):
    s1, s2 = draw(two_broadcasting())
    return [draw(arrays(s1)), draw(arrays(s2)) + _apart(s2, 0.125)], dict(p=draw(st.sampled_from(P_NORMS)),
                                                      eps=draw(st.sampled_from((1e-6, 0.0, -0.3))),
                                                      keepdim=draw(st.booleans()))


def draw_margin_ranking(draw, reduction):
    s1, s2 = draw(two_broadcasting(min_dims=0, same_ndim=True))
    both = tuple(np.broadcast_shapes(s1, s2))
    ts = draw(partner(both, same_ndim=True)) if draw(st.booleans()) else both
    # input2 shifted: equal draws would sit on the kink −y (x1 − x2) + margin = 0 (a test below has ties)
    return ([draw(arrays(s1)), draw(arrays(s2)) + 0.125, _labels(draw, ts)],
            dict(margin=draw(st.sampled_from((0.0, 0.5))), reduction=reduction))


def draw_hinge(draw, reduction):
    xs, ys = draw(two_broadcasting())
    return [draw(arrays(xs)), _labels(draw, ys)], dict(margin=draw(st.sampled_from((1.0, 0.3, -0.5))),
                                                       reduction=reduction)


def draw_gaussian(draw, reduction):
    xs = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    ts = draw(partner(xs)) if draw(st.booleans()) else xs
    kind = draw(st.sampled_from(("same", "rows", "shared")))
    shared = draw(st.integers(0, len(xs) - 1))
    vs = xs if kind == "same" else xs[:-1] if kind == "rows" else tuple(
        1 if i == shared else n for i, n in enumerate(xs))
    return ([draw(arrays(xs)), draw(arrays(ts)), draw(arrays(vs, low=0.1, high=2.0))],
            dict(full=draw(st.booleans()), eps=1e-6, reduction=reduction))


def draw_poisson(draw, reduction):
    xs, ts = draw(two_broadcasting())
    log_input = draw(st.booleans())
    x = draw(arrays(xs)) if log_input else draw(arrays(xs, low=0.1, high=3.0))
    return [x, draw(arrays(ts, low=0.2, high=4.0))], dict(log_input=log_input, full=draw(st.booleans()),
                                                          eps=1e-8, reduction=reduction)


def draw_triplet(draw, reduction):
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batched = draw(st.booleans())
    shape = (n, d) if batched else (d,)
    pick = [shape if draw(st.booleans()) else ((1, d) if batched else shape) for _ in range(3)]
    shifts = (0.0, 0.25, -0.375)  # equal draws apart (as for pairwise_distance)
    return ([draw(arrays(s)) + _apart(s, shift) for s, shift in zip(pick, shifts)],
            dict(margin=draw(st.sampled_from((1.0, 0.4))), p=draw(st.sampled_from(P_NORMS)), eps=1e-6,
                 swap=draw(st.booleans()), reduction=reduction))


def _no_reduction(fn):
    """A distance takes no ``reduction``; its cases run once."""
    return lambda *a, reduction=None, **k: fn(*a, **k)


CASES = [
    LossCase("smooth_l1_loss", lambda d, r: draw_regression(d, r, "beta"), F.smooth_l1_loss,
             L.smooth_l1_loss_reference,
             lambda torch, x, t, **k: torch.nn.functional.smooth_l1_loss(x, t, **k), (0, 1), (0, 1)),
    LossCase("huber_loss", lambda d, r: draw_regression(d, r, "delta"), F.huber_loss, L.huber_loss_reference,
             lambda torch, x, t, **k: torch.nn.functional.huber_loss(x, t, **k), (0, 1), (0, 1)),
    LossCase("binary_cross_entropy", draw_bce, F.binary_cross_entropy, L.binary_cross_entropy_reference,
             lambda torch, x, t, weight, **k: torch.nn.functional.binary_cross_entropy(
                 x, t, None if weight is None else torch.tensor(weight), **k), (0, 1), (0, 1)),
    LossCase("kl_div", draw_kl, F.kl_div, L.kl_div_reference,
             lambda torch, x, t, **k: torch.nn.functional.kl_div(x, t, **k), (0, 1), (0, 1),
             reductions=REDUCTIONS + ("batchmean",)),
    LossCase("soft_margin_loss", draw_soft_margin, F.soft_margin_loss, L.soft_margin_loss_reference,
             lambda torch, x, t, **k: torch.nn.functional.soft_margin_loss(x, t, **k), (0, 1), (0,)),
    LossCase("cosine_similarity", draw_cosine, _no_reduction(F.cosine_similarity),
             _no_reduction(L.cosine_similarity_reference),
             lambda torch, a, b, reduction=None, **k: torch.nn.functional.cosine_similarity(a, b, **k), (0, 1),
             (0, 1), reductions=(None,)),
    LossCase("pairwise_distance", draw_pairwise, _no_reduction(F.pairwise_distance),
             _no_reduction(L.pairwise_distance_reference),
             lambda torch, a, b, reduction=None, **k: torch.nn.functional.pairwise_distance(a, b, **k), (0, 1),
             (0, 1), reductions=(None,)),
    LossCase("margin_ranking_loss", draw_margin_ranking, F.margin_ranking_loss, L.margin_ranking_loss_reference,
             lambda torch, a, b, y, **k: torch.nn.functional.margin_ranking_loss(a, b, y, **k), (0, 1, 2),
             (0, 1, 2)),
    LossCase("hinge_embedding_loss", draw_hinge, F.hinge_embedding_loss, L.hinge_embedding_loss_reference,
             lambda torch, x, y, **k: torch.nn.functional.hinge_embedding_loss(x, y, **k), (0,), (0,)),
    LossCase("gaussian_nll_loss", draw_gaussian, F.gaussian_nll_loss, L.gaussian_nll_loss_reference,
             lambda torch, x, t, v, **k: torch.nn.functional.gaussian_nll_loss(x, t, v, **k), (0, 1, 2),
             (0, 1, 2)),
    LossCase("poisson_nll_loss", draw_poisson, F.poisson_nll_loss, L.poisson_nll_loss_reference,
             lambda torch, x, t, **k: torch.nn.functional.poisson_nll_loss(x, t, **k), (0, 1), (0, 1)),
    LossCase("triplet_margin_loss", draw_triplet, F.triplet_margin_loss, L.triplet_margin_loss_reference,
             lambda torch, a, pos, neg, **k: torch.nn.functional.triplet_margin_loss(a, pos, neg, **k), (0, 1, 2),
             (0, 1, 2)),
]

RUNS = [pytest.param(case, red, id=f"{case.name}-{red}" if red else case.name)
        for case in CASES for red in case.reductions]


def _gaussian_reference_args(case, arrays_, params):
    """gaussian_nll_loss's reference takes a ``var`` that already broadcasts (rows get their axis)."""
    if case.name == "gaussian_nll_loss" and arrays_[2].shape == arrays_[0].shape[:-1]:
        return [arrays_[0], arrays_[1], arrays_[2][..., None]]
    return arrays_


def _tensors(case, arrays_, dtype=None, grads=None):
    """The arrays as Tensors (the drawn views themselves, non-contiguous ones included, or float32
    copies); ``grads`` (the case's by default) want a gradient."""
    grads = case.grads if grads is None else grads
    return [Tensor(a if dtype is None else a.astype(dtype), requires_grad=i in grads) for i, a in enumerate(arrays_)]


# --------------------------------------------------------------- the checks, plain functions
def check_reference(case, arrays_, params):
    out = case.call(*_tensors(case, arrays_, grads=()), **params)
    expected = np.asarray(case.reference(*_gaussian_reference_args(case, arrays_, params), **params))
    assert out.shape == expected.shape, f"{case.name}: shape {out.shape} != reference {expected.shape}"
    np.testing.assert_allclose(out.data, expected, rtol=case.rtol, atol=1e-12)


def check_torch(case, torch, arrays_, params, seed=0):
    ours = _tensors(case, arrays_)
    theirs = [torch.tensor(np.array(a), requires_grad=i in case.torch_grads) for i, a in enumerate(arrays_)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's note on 'mean'
        expected = case.torch(torch, *theirs, **params)
    out = case.call(*ours, **params)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=case.rtol, atol=1e-12)
    g = random_grad(out.shape, seed=seed)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for i in case.torch_grads:
        theirs_grad = theirs[i].grad
        theirs_grad = np.zeros(arrays_[i].shape) if theirs_grad is None else theirs_grad.numpy()
        np.testing.assert_allclose(ours[i].grad.data, theirs_grad, rtol=case.grad_rtol, atol=1e-12,
                                   err_msg=f"{case.name}: gradient of input {i}")


def check_gradcheck(case, arrays_, params):
    leaves = _tensors(case, arrays_)
    assert gradcheck(lambda *t: case.call(*t, **params), leaves)


def check_float32(case, arrays_, params):
    out64 = case.call(*_tensors(case, arrays_), **params)
    leaves = _tensors(case, arrays_, dtype=np.float32)
    out = case.call(*leaves, **params)
    assert out.dtype == np.float32, f"{case.name}: float32 in gave {out.dtype} out"
    np.testing.assert_allclose(out.data, out64.data, rtol=2e-4, atol=1e-4)
    out.backward(random_grad(out.shape, dtype=np.float32))
    for i in case.grads:
        assert leaves[i].grad.dtype == np.float32, f"{case.name}: gradient of input {i} is {leaves[i].grad.dtype}"


# --------------------------------------------------------------- every case, every reduction
@pytest.mark.parametrize("case, reduction", RUNS)
@FEW
@given(st.data())
def test_forward_matches_the_naive_reference(case, reduction, data):
    arrays_, params = case.draw(data.draw, reduction)
    check_reference(case, arrays_, params)


@pytest.mark.parametrize("case, reduction", RUNS)
@FEW
@given(st.data())
def test_forward_and_backward_match_torch(torch, case, reduction, data):
    arrays_, params = case.draw(data.draw, reduction)
    check_torch(case, torch, arrays_, params, seed=data.draw(st.integers(0, 1000)))


@pytest.mark.parametrize("case, reduction", RUNS)
@FEW
@given(st.data())
def test_gradcheck(case, reduction, data):
    arrays_, params = case.draw(data.draw, reduction)
    check_gradcheck(case, arrays_, params)


@pytest.mark.parametrize("case, reduction", RUNS)
@settings(max_examples=4, deadline=None)
@given(st.data())
def test_float32_stays_float32(case, reduction, data):
    arrays_, params = case.draw(data.draw, reduction)
    check_float32(case, arrays_, params)


# --------------------------------------------------------------- PyTorch's semantics at the edges
def _both(torch, ours, theirs, arrays_, grads, torch_grads=None, rtol=1e-12):
    """Values and gradients (random upstream gradient) of ours against PyTorch's, NaN where it has NaN."""
    torch_grads = grads if torch_grads is None else torch_grads
    leaves = [Tensor(np.array(a, dtype=np.float64), requires_grad=i in grads) for i, a in enumerate(arrays_)]
    tleaves = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=i in torch_grads)
               for i, a in enumerate(arrays_)]
    out = ours(*leaves)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tout = theirs(*tleaves)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=1e-12)
    g = random_grad(out.shape, seed=3)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for i in torch_grads:
        np.testing.assert_allclose(leaves[i].grad.data, tleaves[i].grad.numpy(), rtol=rtol, atol=1e-12)
    return out, leaves


def test_binary_cross_entropy_clamps_the_log_at_minus_100_as_torch(torch):
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-50])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.7])
    TF = torch.nn.functional
    for red in REDUCTIONS:
        out, leaves = _both(torch, lambda a, b: F.binary_cross_entropy(a, b, reduction=red),
                            lambda a, b: TF.binary_cross_entropy(a, b, reduction=red), [x, t], (0, 1))
        assert np.all(np.isfinite(out.data))
    # the input's gradient divides by max(x (1 − x), 1e−12); the target's is −logit(x), infinite at 0 and 1
    assert leaves[0].grad.data[3] == pytest.approx(1e12 * random_grad((), seed=3))
    assert np.isinf(leaves[1].grad.data[:4]).all()


def test_kl_div_zero_targets_follow_torch_xlogy_including_its_nan_gradient(torch):
    x = np.log(np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]))
    t = np.array([[0.0, 0.7, 0.3], [0.5, 0.5, 0.0]])
    TF = torch.nn.functional
    for red in REDUCTIONS + ("batchmean",):
        out, leaves = _both(torch, lambda a, b: F.kl_div(a, b, reduction=red),
                            lambda a, b: TF.kl_div(a, b, reduction=red), [x, t], (0,))
    # the value is 0·log 0 = 0; the target's gradient at t = 0 is NaN in torch, and here
    tx, tt = torch.tensor(x), torch.tensor(t, requires_grad=True)
    TF.kl_div(tx, tt, reduction="sum").backward()
    tt_ours = Tensor(t, requires_grad=True)
    F.kl_div(Tensor(x), tt_ours, reduction="sum").backward()
    np.testing.assert_allclose(tt_ours.grad.data, tt.grad.numpy(), rtol=1e-12, equal_nan=True)
    assert np.isnan(tt_ours.grad.data[t == 0]).all() and np.isfinite(tt_ours.grad.data[t > 0]).all()
    # 'batchmean' divides by the first dimension of the input, even when the target broadcasts it
    xb = np.log(np.full((4, 3), 1 / 3))
    _both(torch, lambda a, b: F.kl_div(a, b, reduction="batchmean"),
          lambda a, b: TF.kl_div(a, b, reduction="batchmean"), [xb, t[1:]], (0, 1))
    assert F.kl_div(Tensor(np.array(-1.0)), np.array(0.5), reduction="batchmean").item() == pytest.approx(
        TF.kl_div(torch.tensor(-1.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64),
                  reduction="batchmean").item(), rel=1e-12)


def test_poisson_full_target_gradient_is_nan_at_zero_counts_as_torch(torch):
    x = np.array([[0.3, -1.2, 2.0, 0.1], [1.0, 0.0, -0.5, 0.7]])
    counts = np.array([[0.0, 1.0, 2.0, 5.0], [3.0, 0.0, 1.0, 0.5]])
    TF = torch.nn.functional
    for log_input in (True, False):
        inp = x if log_input else np.abs(x) + 0.1
        for red in REDUCTIONS:
            _both(torch, lambda a, b: F.poisson_nll_loss(a, b, log_input=log_input, full=True, reduction=red),
                  lambda a, b: TF.poisson_nll_loss(a, b, log_input=log_input, full=True, reduction=red),
                  [inp, counts], (0,))
        leaf = Tensor(counts, requires_grad=True)
        F.poisson_nll_loss(Tensor(inp), leaf, log_input=log_input, full=True).backward()
        tleaf = torch.tensor(counts, requires_grad=True)
        TF.poisson_nll_loss(torch.tensor(inp), tleaf, log_input=log_input, full=True).backward()
        np.testing.assert_allclose(leaf.grad.data, tleaf.grad.numpy(), rtol=1e-12, atol=1e-15, equal_nan=True)
        assert np.isnan(leaf.grad.data[counts == 0]).all()


def test_gaussian_variance_shapes_clamp_and_gradient_follow_torch(torch):
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    TF = torch.nn.functional
    # one per element with some below eps (clamped, yet the gradient reaches var), one per row,
    # one shared along an axis, and a 0-d variance
    for var in (np.array([[1e-8, 0.5, 2.0, 1e-3]] * 3), rng.uniform(0.1, 2, 3), rng.uniform(0.1, 2, (1, 4)),
                rng.uniform(0.1, 2, (3, 1))):
        for red in REDUCTIONS:
            _both(torch, lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True, eps=1e-2, reduction=red),
                  lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full=True, eps=1e-2, reduction=red),
                  [x, t, var], (0, 1, 2))
    _both(torch, lambda a, b: F.gaussian_nll_loss(a, b, 0.7), lambda a, b: TF.gaussian_nll_loss(a, b, 0.7),
          [x, t], (0, 1))
    v0 = np.array(0.4)
    _both(torch, lambda a, b, v: F.gaussian_nll_loss(a, b, v, reduction="none"),
          lambda a, b, v: TF.gaussian_nll_loss(a, b, v, reduction="none"), [x[0], t[0], v0], (0, 1, 2))


def test_ties_at_the_clamps_pass_the_gradient_as_torch(torch):
    TF = torch.nn.functional
    # margin − x = 0 for the first two, −y (x1 − x2) + margin = 0 for the next
    _both(torch, lambda a, y: F.hinge_embedding_loss(a, y, margin=1.0, reduction="none"),
          lambda a, y: TF.hinge_embedding_loss(a, y, margin=1.0, reduction="none"),
          [np.array([1.0, 1.0, 0.5, 2.0, 0.3]), np.array([-1.0, 1.0, 0.0, -1.0, 2.0])], (0,))
    _both(torch, lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.5, reduction="none"),
          lambda a, b, y: TF.margin_ranking_loss(a, b, y, margin=0.5, reduction="none"),
          [np.array([1.0, 0.0, 2.0]), np.array([0.5, 0.5, 0.0]), np.array([1.0, -1.0, 1.0])], (0, 1, 2))
    # p = inf with two entries of the largest magnitude share the gradient; a zero difference gets 0
    _both(torch, lambda a, b: F.pairwise_distance(a, b, p=math.inf, eps=0.0),
          lambda a, b: TF.pairwise_distance(a, b, p=math.inf, eps=0.0),
          [np.array([[2.0, -2.0, 1.0], [1.0, 1.0, 1.0]]), np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])], (0, 1))
    for p in (2.0, 3.0, 1.5, 0.5, 1.0):
        _both(torch, lambda a, b: F.pairwise_distance(a, b, p=p, eps=0.0),
              lambda a, b: TF.pairwise_distance(a, b, p=p, eps=0.0),
              [np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([[1.0, 0.0, 3.0], [4.0, 5.0, 6.0]])], (0, 1))
    # the swap's minimum with equal distances shares the gradient
    a, pos, neg = np.zeros((1, 2)), np.array([[3.0, 0.0]]), np.array([[0.0, 1.0]])
    _both(torch, lambda *t: F.triplet_margin_loss(*t, margin=3.0, swap=True, eps=0.0),
          lambda *t: TF.triplet_margin_loss(*t, margin=3.0, swap=True, eps=0.0),
          [a, pos, np.array([[1.5, -math.sqrt(1.75)]])], (0, 1, 2), rtol=1e-9)
    _both(torch, lambda *t: F.triplet_margin_loss(*t, swap=True), lambda *t: TF.triplet_margin_loss(*t, swap=True),
          [a, pos, neg], (0, 1, 2))


def test_cosine_similarity_of_a_zero_vector_and_of_numbers_as_torch(torch):
    TF = torch.nn.functional
    _both(torch, lambda a, b: F.cosine_similarity(a, b, dim=0), lambda a, b: TF.cosine_similarity(a, b, dim=0),
          [np.array([0.0, 0.0]), np.array([0.3, -0.1])], (0, 1))
    _both(torch, lambda a, b: F.cosine_similarity(a, b, dim=1, eps=0.5),
          lambda a, b: TF.cosine_similarity(a, b, dim=1, eps=0.5),
          [np.array([[0.1, 0.2], [1.0, 2.0]]), np.array([[0.3, -0.1], [3.0, 1.0]])], (0, 1))
    out, _ = _both(torch, lambda a, b: F.cosine_similarity(a, b, dim=0),
                   lambda a, b: TF.cosine_similarity(a, b, dim=0), [np.array(2.0), np.array(-3.0)], (0, 1))
    assert out.shape == () and out.item() == -1.0
    out, _ = _both(torch, lambda a, b: F.pairwise_distance(a, b, keepdim=True),
                   lambda a, b: TF.pairwise_distance(a, b, keepdim=True), [np.array(2.0), np.array(-3.0)], (0, 1))
    assert out.shape == ()


def test_soft_margin_loss_is_finite_where_torch_overflows(torch):
    x = Tensor(np.array([-1000.0, 1000.0, -30.0]), requires_grad=True)
    y = np.array([1.0, 1.0, 1.0])
    out = F.soft_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(out.data, [1000.0, 0.0, 30.0 + math.log1p(math.exp(-30.0))], rtol=1e-14)
    out.backward(np.ones(3))
    np.testing.assert_allclose(x.grad.data, [-1.0, 0.0, -1 / (1 + math.exp(-30.0))], rtol=1e-14)
    theirs = torch.nn.functional.soft_margin_loss(torch.tensor(x.data), torch.tensor(y), reduction="none")
    assert math.isinf(theirs[0].item())  # log(1 + exp(1000)) in PyTorch
    np.testing.assert_allclose(out.data[1:], theirs.numpy()[1:], rtol=1e-14)


def test_the_loss_rules_read_in_explain():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    lines = explain(F.huber_loss(x, np.zeros((2, 3)), delta=0.5))
    assert lines == ["huber_loss: dx (2, 3) = clip(x − t, −δ, δ) / count · dF̂ ()"]
    t = Tensor(np.full((2, 3), 0.5), requires_grad=True)
    lines = explain(F.binary_cross_entropy(Tensor(np.full((2, 3), 0.25), requires_grad=True), t, reduction="sum"))
    assert lines[1] == "binary_cross_entropy: dt (2, 3) = −w logit(x) / count · dF̂ ()"


# --------------------------------------------------------------- the modules
MODULES = [
    ("SmoothL1Loss", dict(beta=0.5, reduction="sum"), 2),
    ("HuberLoss", dict(delta=0.5, reduction="none"), 2),
    ("BCELoss", dict(reduction="sum"), 2),
    ("KLDivLoss", dict(reduction="batchmean", log_target=True), 2),
    ("SoftMarginLoss", dict(reduction="none"), 2),
    ("CosineSimilarity", dict(dim=0, eps=1e-6), 2),
    ("PairwiseDistance", dict(p=3.0, eps=0.0, keepdim=True), 2),
    ("MarginRankingLoss", dict(margin=0.2, reduction="sum"), 3),
    ("HingeEmbeddingLoss", dict(margin=0.5), 2),
    ("GaussianNLLLoss", dict(full=True, eps=1e-3, reduction="none"), 3),
    ("PoissonNLLLoss", dict(log_input=False, full=True), 2),
    ("TripletMarginLoss", dict(margin=0.5, p=1.0, swap=True, reduction="sum"), 3),
]


def _module_inputs(name, n):
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "BCELoss":
        return [rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))]
    if name in ("SoftMarginLoss", "HingeEmbeddingLoss"):
        return [rng.standard_normal((3, 4)), rng.choice([-1.0, 1.0], (3, 4))]
    if name == "MarginRankingLoss":
        return [rng.standard_normal(5), rng.standard_normal(5), rng.choice([-1.0, 1.0], 5)]
    if name == "GaussianNLLLoss":
        return [rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0.1, 2, (3, 4))]
    if name == "PoissonNLLLoss":
        return [rng.uniform(0.1, 3, (3, 4)), rng.integers(0, 6, (3, 4)).astype(float)]
    return [rng.standard_normal((3, 4)) for _ in range(n)]


@pytest.mark.parametrize("name, kwargs, n", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch_values_gradients_and_reprs(torch, name, kwargs, n):
    theirs_cls, ours_cls = getattr(torch.nn, name), getattr(nn, name)
    assert repr(ours_cls()) == repr(theirs_cls())
    ours, theirs = ours_cls(**kwargs), theirs_cls(**kwargs)
    grads = tuple(range(n)) if name not in ("SoftMarginLoss", "HingeEmbeddingLoss") else (0,)
    _both(torch, ours, theirs, _module_inputs(name, n), grads)


def test_module_reprs_and_torch_deprecated_reduction_arguments():
    assert repr(nn.KLDivLoss(reduction="sum")) == "KLDivLoss(reduction='sum')"  # as the other losses here
    assert nn.SmoothL1Loss(size_average=False).reduction == "sum"
    assert nn.KLDivLoss(reduce=False).reduction == "none"
    assert nn.TripletMarginLoss(size_average=True, reduce=True).reduction == "mean"
    assert nn.PairwiseDistance(p=math.inf).norm == math.inf
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)  # keyword-only, as PyTorch
    with pytest.raises(ValueError, match="reduction must be one of .*'batchmean'"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of 'none', 'mean', 'sum', got 'batchmean'"):
        nn.HuberLoss(reduction="batchmean")


# --------------------------------------------------------------- bad inputs
X = np.random.default_rng(9).uniform(0.1, 0.9, (3, 4))
X32 = X.astype(np.float32)
BAD = [
    (lambda: F.smooth_l1_loss(X, X[0]), ValueError, r"smooth_l1_loss: input of shape \(3, 4\), target of shape "
                                                     r"\(4,\) must have the same shape"),
    (lambda: F.smooth_l1_loss(X, X, beta=-1.0), ValueError, "beta must lie in"),
    (lambda: F.smooth_l1_loss(X, X, reduction="avg"), ValueError, "reduction must be one of"),
    (lambda: F.smooth_l1_loss(X, X, reduction=None), TypeError, "reduction must be a str"),
    (lambda: F.smooth_l1_loss(X.astype(int), X), TypeError, "smooth_l1_loss: input must be float32 or float64"),
    (lambda: F.smooth_l1_loss(X, np.array(["a"] * 12).reshape(3, 4)), TypeError, "target must hold real numbers"),
    (lambda: F.huber_loss(X, X, delta=0.0), ValueError, r"delta must lie in \(0, inf\)"),
    (lambda: F.huber_loss(X, X.T), ValueError, "target of shape"),
    (lambda: F.binary_cross_entropy(X * 2, X), ValueError, r"every element of input must lie in \[0, 1\]"),
    (lambda: F.binary_cross_entropy(np.array([np.nan]), np.zeros(1)), ValueError, "input must lie in"),
    (lambda: F.binary_cross_entropy(X, X[0]), ValueError, "must have the same shape"),
    (lambda: F.binary_cross_entropy(X, X, weight=np.ones(3)), ValueError, r"weight of shape \(3,\)"),
    (lambda: F.binary_cross_entropy(X, X, reduction="batchmean"), ValueError, "reduction must be one of"),
    (lambda: F.kl_div(X, X, reduction="avg"), ValueError, "kl_div: reduction must be one of"),
    (lambda: F.kl_div(X, X[:, :2]), ValueError, r"kl_div: input of shape \(3, 4\), target of shape \(3, 2\) do "
                                                 "not broadcast"),
    (lambda: F.kl_div(X, X, log_target=1), TypeError, "log_target must be True or False"),
    (lambda: F.soft_margin_loss(X[0], X), ValueError, "must broadcast to the shape of input"),
    (lambda: F.cosine_similarity(X, X[:, :2]), ValueError, "x1 of shape .* x2 of shape .* do not broadcast"),
    (lambda: F.cosine_similarity(X, X, dim=2), ValueError, "dim 2 is out of range"),
    (lambda: F.cosine_similarity(X, X, dim=1.0), TypeError, "dim must be an int"),
    (lambda: F.cosine_similarity(X32, X), TypeError, "x1 is float32 but x2 is float64"),
    (lambda: F.cosine_similarity(X, X, eps=-1.0), ValueError, "eps must lie in"),
    (lambda: F.pairwise_distance(X, X, p=-1.0), ValueError, r"p must lie in \[0, inf\)"),
    (lambda: F.pairwise_distance(X, X, p="fro"), TypeError, "p must be a real number"),
    (lambda: F.pairwise_distance(X, X, keepdim=1), TypeError, "keepdim must be True or False"),
    (lambda: F.margin_ranking_loss(X, X, X[0]), ValueError, "target of shape .* same number of dimensions"),
    (lambda: F.margin_ranking_loss(X, X[:, :2], X), ValueError, "do not broadcast"),
    (lambda: F.margin_ranking_loss(X, X, X, margin="1"), TypeError, "margin must be a real number"),
    (lambda: F.hinge_embedding_loss(X, X[:2]), ValueError, "do not broadcast"),
    (lambda: F.gaussian_nll_loss(X, X, np.ones(2)), ValueError, r"var of shape \(2,\) does not fit input of "
                                                                r"shape \(3, 4\)"),
    (lambda: F.gaussian_nll_loss(X, X, np.ones((1, 1))), ValueError, "var of shape"),
    (lambda: F.gaussian_nll_loss(X, X, -1.0), ValueError, "var must not be negative"),
    (lambda: F.gaussian_nll_loss(X, X, -np.ones((3, 4))), ValueError, "var must not be negative"),
    (lambda: F.gaussian_nll_loss(X, X, 1.0, reduction="batchmean"), ValueError, "reduction must be one of"),
    (lambda: F.gaussian_nll_loss(X, X, 1.0, eps=-1e-6), ValueError, "eps must lie in"),
    (lambda: F.poisson_nll_loss(X, X, full=None), TypeError, "full must be True or False"),
    (lambda: F.poisson_nll_loss(X, X[:2]), ValueError, "do not broadcast"),
    (lambda: F.triplet_margin_loss(X, X, X[0]), ValueError, r"negative of shape \(4,\) must have the same number"),
    (lambda: F.triplet_margin_loss(X, X, X, margin=0.0), ValueError, r"margin must lie in \(0, inf\)"),
    (lambda: F.triplet_margin_loss(X, X32, X), TypeError, "anchor is float64 but positive is float32"),
    (lambda: F.triplet_margin_loss(X, X, X, swap="no"), TypeError, "swap must be True or False"),
    (lambda: nn.SmoothL1Loss(beta=-0.1), ValueError, "beta must lie in"),
    (lambda: nn.HuberLoss(delta=-1.0), ValueError, "delta must lie in"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError, "margin must lie in"),
    (lambda: nn.PairwiseDistance(p=-2.0), ValueError, "p must lie in"),
    (lambda: nn.CosineSimilarity(dim=0.5), TypeError, "dim must be an int"),
    (lambda: nn.BCELoss()(Tensor(X + 1), X), ValueError, "every element of input must lie in"),
]


@pytest.mark.parametrize("thunk, exc, pattern", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_raises_naming_the_argument(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


# --------------------------------------------------------------- negative control
class _WrongHuber(L.HuberLoss):
    """The Huber loss with the derivative's cap left out: dX = d · g everywhere (right only where |d| < δ)."""

    rule = "dx {x} = (x − t) · dF̂ {g}"

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        from tinygrad_cnn.ops.loss import _upstream
        dx = d * _upstream(grad, ctx.reduction, d.size, d.dtype)
        return dx, -dx


WRONG = LossCase("wrong_huber", lambda d, r: None,
                 lambda x, t, reduction="mean", delta=1.0: _WrongHuber.apply(x, t, reduction=reduction, delta=delta),
                 L.huber_loss_reference, lambda torch, x, t, **k: torch.nn.functional.huber_loss(x, t, **k),
                 (0, 1), (0, 1))


def test_the_checks_catch_a_wrong_gradient():
    """The forward is right (the reference check passes) while gradcheck and PyTorch both fail."""
    x = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    t = np.zeros((3, 4))
    params = dict(reduction="none", delta=0.5)
    check_reference(WRONG, [x, t], params)
    with pytest.raises(GradcheckError):
        check_gradcheck(WRONG, [x, t], params)
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError):
        check_torch(WRONG, torch, [x, t], params)
    # and on the real op the same checks pass
    real = next(c for c in CASES if c.name == "huber_loss")
    check_gradcheck(real, [x, t], params)
    check_torch(real, torch, [x, t], params)
