"""Losses against PyTorch where a row of the op table cannot say it: differentiable probability
targets, stability at ±1000, all targets ignored, unbatched input, the loss modules."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn
from tinygrad_cnn import Tensor, gradcheck
from helpers import random_grad

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _t(a):
    return torch.tensor(np.asarray(a))  # a copy; 0-d stays 0-d


def _both(ours, theirs, arrays, grad_shape_from_out=True):
    """Forward values and gradients of every array, ours against PyTorch's, random upstream gradient."""
    leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    tleaves = [_t(a).requires_grad_() for a in arrays]
    out, tout = ours(*leaves), theirs(*tleaves)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = random_grad(out.shape)
    out.backward(g)
    tout.backward(_t(g))
    for a, b in zip(leaves, tleaves):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    return out


def test_probability_targets_are_differentiable_as_in_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 2))
    y = rng.dirichlet(np.ones(4), (3, 2)).transpose(0, 2, 1)
    w = rng.uniform(0.5, 2.0, 4)
    for red in ("mean", "sum", "none"):
        _both(lambda a, b: F.cross_entropy(a, b, weight=w, reduction=red, label_smoothing=0.2),
              lambda a, b: TF.cross_entropy(a, b, weight=_t(w), reduction=red, label_smoothing=0.2), [x, y])
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.2),
                     [Tensor(x.copy(), requires_grad=True), Tensor(y.copy(), requires_grad=True)])


def test_losses_are_finite_and_exact_at_logits_of_a_thousand():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0]])
    w = np.array([0.5, 2.0, 1.0])
    _both(lambda a: F.cross_entropy(a, np.array([1, 2]), weight=w, label_smoothing=0.1),
          lambda a: TF.cross_entropy(a, torch.tensor([1, 2]), weight=_t(w), label_smoothing=0.1), [x])
    out = _both(lambda a: F.cross_entropy(a, np.full((2, 3), 1 / 3)),
                lambda a: TF.cross_entropy(a, torch.full((2, 3), 1 / 3, dtype=torch.float64)), [x])
    assert np.isfinite(out.data)
    _both(lambda a: F.nll_loss(F.log_softmax(a, axis=1), np.array([1, 0])),
          lambda a: TF.nll_loss(TF.log_softmax(a, dim=1), torch.tensor([1, 0])), [x])
    out = _both(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=w, reduction="none"),
                lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=_t(w), reduction="none"),
                [x, np.full((2, 3), 0.25)])
    assert np.all(np.isfinite(out.data))
    f32 = F.cross_entropy(Tensor(x.astype(np.float32)), np.array([0, 1]))
    assert f32.dtype == np.float32 and f32.item() == 0.0


def test_every_target_ignored_gives_nan_and_zero_gradient_as_torch():
    x = np.random.default_rng(1).standard_normal((3, 4))
    t = Tensor(x.copy(), requires_grad=True)
    loss = F.cross_entropy(t, np.full(3, -100))
    tx = _t(x).requires_grad_()
    tloss = TF.cross_entropy(tx, torch.full((3,), -100))
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    loss.backward()
    tloss.backward()
    np.testing.assert_array_equal(t.grad.data, tx.grad.numpy())


def test_unbatched_logits_and_spatial_logits():
    x = np.random.default_rng(2).standard_normal(5)
    for red in ("mean", "none"):
        out = _both(lambda a: F.cross_entropy(a, np.array(3), reduction=red),
                    lambda a: TF.cross_entropy(a, torch.tensor(3), reduction=red), [x])
        assert out.shape == ()
    x4 = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    t4 = np.random.default_rng(4).integers(0, 3, (2, 4, 5))
    out = _both(lambda a: F.cross_entropy(a, t4, reduction="none", ignore_index=1),
                lambda a: TF.cross_entropy(a, _t(t4), reduction="none", ignore_index=1), [x4])
    assert out.shape == (2, 4, 5)


def test_the_lecture_calls_still_work():
    logits = Tensor(np.random.default_rng(5).standard_normal((4, 10)).astype(np.float32), requires_grad=True)
    labels = Tensor(np.array([0, 3, 7, 9]))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    assert loss.shape == () and logits.grad.shape == (4, 10)
    assert F.mse_loss(logits, np.zeros((4, 10), np.float32)).dtype == np.float32


def test_loss_modules_take_torch_arguments():
    rng = np.random.default_rng(6)
    x, t, w = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2]), np.array([1.0, 2.0, 0.5])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=2, reduction="sum", label_smoothing=0.1)
    ref = TF.cross_entropy(_t(x), _t(t), weight=_t(w), ignore_index=2, reduction="sum", label_smoothing=0.1)
    np.testing.assert_allclose(ce(Tensor(x), t).item(), ref.item(), rtol=1e-12)
    assert repr(ce) == "CrossEntropyLoss(reduction='sum')"
    assert nn.NLLLoss(size_average=False).reduction == "sum"  # PyTorch's deprecated spelling
    assert nn.MSELoss(reduce=False).reduction == "none"
    assert repr(nn.MSELoss()) == "MSELoss()"
    np.testing.assert_allclose(nn.L1Loss()(Tensor(x), np.zeros((4, 3))).item(), np.abs(x).mean())
    y = rng.uniform(0, 1, (4, 3))
    bce = nn.BCEWithLogitsLoss(pos_weight=w)
    np.testing.assert_allclose(bce(Tensor(x), y).item(),
                               TF.binary_cross_entropy_with_logits(_t(x), _t(y), pos_weight=_t(w)).item(), rtol=1e-12)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")
