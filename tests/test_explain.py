"""tinygrad_cnn.explain: the backward pass as the lecture's rules, one line per rule applied."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string

import numpy as np
import pytest

import tinygrad_cnn
import tinygrad_cnn.functional as F
from tinygrad_cnn import Function, Tensor, explain, nn
from tinygrad_cnn.models import LeNet5
from tinygrad_cnn.tensor import _backward_hook

BATCH = 4


def lenet_loss(seed=0):
    """LeNet-5's loss on a random batch whose input also wants a gradient (so c1 passes dA)."""
    nn.manual_seed(seed)
    model = LeNet5()
    x = Tensor(np.random.default_rng(seed).standard_normal((BATCH, 1, 32, 32)).astype(np.float32),
               requires_grad=True)
    loss = F.cross_entropy(model(x), np.arange(BATCH) % 10)
    return model, x, loss


def lines_of(lines, prefix):
    return [line for line in lines if line.startswith(prefix + ":")]


def test_lenet5_lines_state_the_lecture_rules_with_layers_and_shapes():
    model, _, loss = lenet_loss()
    lines = explain(loss, model=model)
    N = BATCH
    conv = {"c1": ((6, 1, 5, 5), (N, 6, 28, 28), (N, 1, 32, 32)),
            "c3": ((16, 6, 5, 5), (N, 16, 10, 10), (N, 6, 14, 14)),
            "c5": ((120, 16, 5, 5), (N, 120, 1, 1), (N, 16, 5, 5))}
    for layer, (w, dz, v) in conv.items():
        assert lines_of(lines, f"conv2d {layer}") == [
            f"conv2d {layer}: db ({w[0]},) = Σ dN {dz}",
            f"conv2d {layer}: dW {w} = dZ {dz} ⋆ V {v}",
            f"conv2d {layer}: dA {v} = Σ rot180(W {w}) ⋆ dZ {dz}",
        ]
    # the brief's worked example, verbatim
    assert f"conv2d c3: dW (16, 6, 5, 5) = dZ ({N}, 16, 10, 10) ⋆ V ({N}, 6, 14, 14)" in lines
    for layer, (a, z) in {"s2": ((N, 6, 28, 28), (N, 6, 14, 14)), "s4": ((N, 16, 10, 10), (N, 16, 5, 5))}.items():
        c = a[1]
        assert lines_of(lines, f"avg_pool2d {layer}") == [
            f"avg_pool2d {layer}: db ({c},) = Σ dZ {z}",
            f"avg_pool2d {layer}: dw ({c},) = Σ dZ {z} ∘ ⊞A {a}",
            f"avg_pool2d {layer}: dA {a} = w ({c},) ⊠ dZ {z}",
        ]
    # the squashing after S2, S4, C5 and F6: dN = Ḟ ∘ dA with the scaled tanh's Ḟ
    for layer, shape in {"s2": (N, 6, 14, 14), "s4": (N, 16, 5, 5), "c5": (N, 120, 1, 1), "f6": (N, 84)}.items():
        assert lines_of(lines, f"scaled_tanh {layer}") == [
            f"scaled_tanh {layer}: dN {shape} = Ḟ ∘ dA {shape}, Ḟ = A·S·(1 − t²), t = tanh(S·n)"]
    assert lines_of(lines, "vec") == [f"vec: dA ({N}, 120, 1, 1) = vec⁻¹(dv ({N}, 120))"]
    for layer, (w, p) in {"f6": ((84, 120), (N, 120)), "output": ((10, 84), (N, 84))}.items():
        dn = (N, w[0])
        assert lines_of(lines, f"linear {layer}") == [
            f"linear {layer}: db ({w[0]},) = Σ dn {dn}",
            f"linear {layer}: dW {w} = dnᵀ {dn} · p {p}",
            f"linear {layer}: dp {p} = dn {dn} · W {w}",
        ]
    assert lines[0] == f"cross_entropy: dn ({N}, 10) = (softmax(n) − onehot(t)) / batch · dF̂ ()"


def test_lines_follow_the_backward_order_from_the_loss_to_the_input():
    model, _, loss = lenet_loss()
    lines = explain(loss, model=model)
    firsts = []
    for line in lines:
        m = re.match(r"(conv2d|avg_pool2d|linear) (\w+):", line)
        if m and m.group(2) not in firsts:
            firsts.append(m.group(2))
    assert firsts == ["output", "f6", "c5", "s4", "c3", "s2", "c1"]
    # inside a layer: the parameters' gradients first, then the one passed down
    c3 = lines_of(lines, "conv2d c3")
    assert [line.split(": ")[1][:2] for line in c3] == ["db", "dW", "dA"]
    # the transfer function of s2 comes after c3 (it is reached from c3's dA) and before s2's pool
    tanh_s2 = lines.index(lines_of(lines, "scaled_tanh s2")[0])
    assert lines.index(c3[-1]) < tanh_s2 < lines.index(lines_of(lines, "avg_pool2d s2")[0])


def test_gradients_are_exactly_those_of_backward():
    model_a, x_a, loss_a = lenet_loss(seed=3)
    model_b, x_b, loss_b = lenet_loss(seed=3)
    explain(loss_a, model=model_a)
    loss_b.backward()
    grads_a = {n: p.grad for n, p in model_a.named_parameters()}
    grads_b = {n: p.grad for n, p in model_b.named_parameters()}
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert grads_a[name] is not None
        assert grads_a[name].dtype == grads_b[name].dtype
        assert np.array_equal(grads_a[name], grads_b[name]), name
    assert np.array_equal(x_a.grad, x_b.grad)


def test_without_names_lines_start_with_the_op_and_params_name_layers_like_model():
    model, _, loss = lenet_loss()
    plain = explain(loss)
    assert any(line.startswith("conv2d: dW (16, 6, 5, 5)") for line in plain)
    assert not any(line.startswith("conv2d c3") for line in plain)
    model, _, loss = lenet_loss()
    named = explain(loss, params=dict(model.named_parameters()))
    model, _, loss = lenet_loss()
    assert named == explain(loss, model=model)


def test_conv_without_bias_and_stride_padding_lines():
    x = Tensor(np.ones((2, 3, 7, 7), np.float32), requires_grad=True)
    w = Tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    z = F.conv2d(x, w, stride=2, padding=1)
    lines = explain(F.max_pool2d(F.relu(z), 2).sum())
    assert lines == [
        "sum: dX (2, 4, 2, 2) = dY () copied over the summed axes",
        "max_pool2d: dA (2, 4, 4, 4) = dZ (2, 4, 2, 2) routed to each window's maximum, 0 elsewhere",
        "relu: dN (2, 4, 4, 4) = Ḟ ∘ dA (2, 4, 4, 4), Ḟ = 1 where n > 0, else 0",
        "conv2d: dW (4, 3, 3, 3) = dZ (2, 4, 4, 4) ⋆ V (2, 3, 7, 7)",
        "conv2d: dA (2, 3, 7, 7) = Σ rot180(W (4, 3, 3, 3)) ⋆ dZ (2, 4, 4, 4)",
    ]


def test_only_the_inputs_that_want_a_gradient_get_a_line():
    a = Tensor(np.ones((3, 4)), requires_grad=True)
    b = Tensor(np.ones(4))  # a constant: no line for it
    lines = explain((a * b).mean())
    assert lines == ["mean: dX (3, 4) = dY () / count copied over the averaged axes",
                     "mul: dA (3, 4) = dC (3, 4) ∘ B (4,)"]
    b = Tensor(np.ones(4), requires_grad=True)
    lines = explain((Tensor(np.ones((3, 4))) + b).sum())
    assert lines[-1] == "add: dB (4,) = dC (3, 4) summed over the broadcast axes"


# --------------------------------------------------------------- every op states its rule
FIELDS = {"x", "i", "g", "sum", "ctx"}


def package_functions() -> list:
    """Every Function subclass defined in the package (all its modules imported first)."""
    for info in pkgutil.walk_packages(tinygrad_cnn.__path__, "tinygrad_cnn."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # a module needing an optional extra (torch, onnx)
            pass
    found, todo = [], [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("tinygrad_cnn."):
                found.append(sub)
    return found


def rule_problems(cls) -> list:
    """What is wrong with the rule a Function class states (empty when all is well)."""
    if "backward" not in vars(cls):
        return []  # an abstract base: its subclasses write backward, and the rule with it
    if "explain" in vars(cls):
        return []
    if "rule" not in vars(cls):
        return [f"{cls.__module__}.{cls.__name__} has a backward but no rule"]
    rule = cls.rule
    templates = [rule] if isinstance(rule, str) else list(rule.values()) if isinstance(rule, dict) else None
    if templates is None:
        return [f"{cls.__name__}.rule must be a str or a dict, got {type(rule).__name__}"]
    problems = []
    for template in templates:
        for _, field, _, _ in string.Formatter().parse(template):
            if field is None:
                continue
            head = re.split(r"[.\[]", field)[0]
            if not (head.isdigit() or head in FIELDS):
                problems.append(f"{cls.__name__}.rule: unknown field {{{field}}} in {template!r}")
    return problems


def test_every_function_in_the_package_states_its_rule():
    classes = package_functions()
    names = {c.__name__ for c in classes}
    assert {"Conv2d", "WeightedAvgPool2d", "MaxPool2d", "Vec", "Tanh", "MatMul", "CrossEntropy"} <= names
    problems = [p for cls in classes for p in rule_problems(cls)]
    assert not problems, "\n".join(problems)


class Double(Function):
    """A user's op without a rule: explain still reads it."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


def test_the_rule_check_catches_a_missing_or_misspelt_rule_and_explain_falls_back():
    assert rule_problems(Double) == [f"{__name__}.Double has a backward but no rule"]

    class Typo(Double):
        rule = "dX {shape} = 2 dY {g}"

        @staticmethod
        def backward(ctx, grad):
            return 2 * grad

    assert "unknown field {shape}" in rule_problems(Typo)[0]
    x = Tensor(np.ones(3), requires_grad=True)
    lines = explain(Double.apply(x).sum())
    assert lines == ["sum: dX (3,) = dY () copied over the summed axes", "double: grad passed back"]
    assert np.array_equal(x.grad, np.full(3, 2.0))


def test_a_function_may_word_its_rule_itself():
    class Halve(Double):
        @staticmethod
        def forward(ctx, x):
            return x / 2

        @staticmethod
        def explain(ctx, grad):
            return [f"dX = dY {grad.shape} / 2"]

        @staticmethod
        def backward(ctx, grad):
            return grad / 2

    x = Tensor(np.ones(2), requires_grad=True)
    assert explain(Halve.apply(x).sum())[-1] == "halve: dX = dY (2,) / 2"


# --------------------------------------------------------------- errors and the hook
def test_explain_on_a_released_graph_is_a_clear_error():
    model, _, loss = lenet_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="released by an earlier backward"):
        explain(loss, model=model)


def test_explain_with_retain_graph_can_run_twice_and_the_hook_is_removed():
    model, _, loss = lenet_loss()
    first = explain(loss, model=model, retain_graph=True)
    assert _backward_hook.fn is None
    assert explain(loss, model=model) == first
    with pytest.raises(RuntimeError, match="released"):
        explain(loss)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        explain(np.ones(1))
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain(Tensor(np.ones(())))
    _, _, loss = lenet_loss()
    with pytest.raises(TypeError, match="model must be a Module"):
        explain(loss, model=object())
    with pytest.raises(TypeError, match="params must be a dict"):
        explain(loss, params=[1])
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):  # backward's own error passes through
        explain(x * 2)
    assert _backward_hook.fn is None
