"""tinygrad_cnn against PyTorch's own OpInfo samples (see ``tests/torch_samples.py``).

Every op listed in ``torch_samples.SPECS`` must agree with PyTorch on every sample it
accepts, forward and backward: no disagreement, no crash, and at most 5 % of the samples
refused as unsupported.  ``python tests/torch_samples.py`` prints the table.
"""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch.testing._internal needs it to import op_db

import torch_samples as ts  # noqa: E402  (tests/ is on sys.path under pytest)

from tinygrad_cnn import Function  # noqa: E402

MAX_UNSUPPORTED = 0.05


@pytest.fixture(scope="module")
def report():
    return ts.run()


def _offenders(report, label, outcomes):
    return [o for o in report.offenders if o[0] == label and o[3] in outcomes]


@pytest.mark.parametrize("label", [s.label for s in ts.SPECS])
def test_op_agrees_with_pytorch_samples(report, label):
    counts = report.counts[label]
    bad = _offenders(report, label, ("disagree", "crash"))
    assert not bad, f"{label}: {len(bad)} samples disagree or crash\n" + "\n".join(
        f"{dt} #{i} {outcome}: {desc} -> {detail}" for _, dt, i, outcome, desc, detail in bad)
    assert sum(counts[k] for k in ts.OUTCOMES) > 0, f"{label}: no sample was compared"


def test_unsupported_at_most_5_percent(report):
    total = report.totals()
    compared = sum(total[k] for k in ts.OUTCOMES)
    assert compared > 1500  # the run really replayed the op database
    share = total["unsupported"] / compared
    assert share <= MAX_UNSUPPORTED, (
        f"{total['unsupported']} of {compared} samples unsupported ({share:.1%})\n"
        + ts.table(report) + "\n" + ts.offenders_text(report, ("unsupported",)))


def test_table_lists_every_op(report):
    text = ts.table(report)
    for spec in ts.SPECS:
        assert spec.label in text
    assert "capped: F.max_pool2d" in text


# ----------------------------------------------------------------- the harness can fail
def _relu_with_wrong_backward(tg, F):
    class Leaky(Function):  # right forward, backward lets every gradient through
        @staticmethod
        def forward(ctx, x):
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, grad):
            return grad

    return lambda x, *a, **k: Leaky.apply(x)


def _raises(exc):
    def make(tg, F):
        def call(x, *a, **k):
            raise exc

        return call

    return make


@pytest.mark.parametrize("ours, expected", [
    (lambda tg, F: F.sigmoid, "disagree"),  # torch's relu replayed on our sigmoid
    (_relu_with_wrong_backward, "disagree"),  # forward agrees, the gradient does not
    (lambda tg, F: (lambda x, *a, **k: x.double()), "disagree"),  # right values, wrong dtype
    (_raises(IndexError("boom")), "crash"),  # not a clear refusal
    (lambda tg, F: (lambda x, *a, **k: F.relu(x, *a, **k).reshape(-1)[99]), "crash"),
    (lambda tg, F: (lambda x, *a, **k: F.max_pool2d(x, 2)), "unsupported"),  # our ValueError (rank)
])
def test_harness_classifies_a_wrong_implementation(ours, expected):
    spec = ts.Spec("nn.functional.relu", "", ours, dtypes=("float32",), label="probe")
    rep = ts.run(specs=[spec])
    counts = rep.counts["probe"]
    assert counts[expected] >= 1 and counts["agree"] <= 1, (expected, dict(counts))


def test_harness_agrees_on_a_right_implementation():
    spec = ts.Spec("nn.functional.relu", "", lambda tg, F: F.relu, label="probe")
    counts = ts.run(specs=[spec]).counts["probe"]
    assert counts["agree"] == sum(counts[k] for k in ts.OUTCOMES) and counts["with grads"] > 0
