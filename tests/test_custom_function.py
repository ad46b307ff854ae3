"""`Function` as the public way to add an op: the worked example of docs/extending.md, run as it
stands, and the engine's checks on what a user-written backward returns."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn import Function, Tensor, no_grad

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def _doc_blocks() -> list:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3, "docs/extending.md lost its code blocks"
    return blocks


def test_the_worked_example_runs_as_documented(capsys):
    namespace = {"__name__": "extending_md"}
    for i, block in enumerate(_doc_blocks()):
        exec(compile(block, f"{DOC.name} block {i}", "exec"), namespace)  # its asserts are the checks
    assert "loss" in capsys.readouterr().out
    for p in namespace["model"].parameters():
        assert p.grad is None or not np.any(p.grad.data)  # the hand-written loop ends by zeroing


def _swish():
    namespace = {"__name__": "extending_md"}
    exec(compile(_doc_blocks()[0], DOC.name, "exec"), namespace)
    return namespace["Swish"]


def test_needs_input_grad_skips_unwanted_work():
    Swish = _swish()
    seen = []

    class Spy(Swish):
        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            return Swish.backward(ctx, grad)

    x = Tensor(np.ones(3), requires_grad=True)
    Spy.apply(x, Tensor(np.array(1.0))).sum().backward()
    assert seen == [(True, False)]
    assert x.grad.shape == (3,)


# ------------------------------------------------------------------- what backward may return
def _op(backward, forward=lambda ctx, x, *rest: x * 2.0, name="Broken"):
    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def test_a_gradient_of_the_wrong_shape_names_the_op_and_both_shapes():
    Broken = _op(lambda ctx, grad: np.ones((2, 3)))
    x = Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Broken\.backward.*shape \(2, 3\).*shape \(3, 2\)"):
        Broken.apply(x).backward(np.ones((3, 2)))
    assert x.grad is None


def test_a_gradient_of_a_non_float_dtype_names_the_op():
    Broken = _op(lambda ctx, grad: np.ones(grad.shape, dtype=np.int64))
    x = Tensor(np.ones(4), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Broken\.backward.*int64.*shape \(4,\)"):
        Broken.apply(x).sum().backward()


def test_a_float_gradient_of_another_width_is_cast_to_the_inputs_dtype():
    Cast = _op(lambda ctx, grad: np.full(grad.shape, 2.0, dtype=np.float64))
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    Cast.apply(x).sum().backward()
    assert x.grad.dtype == np.float32


def test_backward_gets_the_outputs_shape_and_dtype():
    seen = []

    def backward(ctx, grad):
        seen.append((grad.shape, grad.dtype))
        return grad * 2.0

    x = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    _op(backward).apply(x).sum().backward()
    assert seen == [((2, 2), np.dtype(np.float32))]


def test_non_tensor_arguments_are_constants():
    seen = {}

    def forward(ctx, x, scale, offsets):
        seen["types"] = (type(x), type(scale), type(offsets))
        seen["needs"] = ctx.needs_input_grad
        return x * scale + offsets

    Scale = _op(lambda ctx, grad: (grad * 3.0, None, None), forward)
    x = Tensor(np.ones(2), requires_grad=True)
    Scale.apply(x, 3.0, np.array([1.0, 2.0])).sum().backward()
    assert seen == {"types": (np.ndarray, float, np.ndarray), "needs": (True, False, False)}
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])

    Greedy = _op(lambda ctx, grad: (grad, grad), lambda ctx, x, scale: x * scale, "Greedy")
    with pytest.raises(RuntimeError, match=r"Greedy\.backward returned a gradient for input 1, which is not a Tensor"):
        Greedy.apply(x, 2.0).sum().backward()


def test_too_few_gradients_and_a_forward_that_returns_no_array():
    Short = _op(lambda ctx, grad: (grad,), lambda ctx, a, b: a + b, "Short")
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Short\.backward returned 1 gradient\(s\) for 2 input"):
        Short.apply(a, b).sum().backward()
    Listy = _op(lambda ctx, grad: grad, lambda ctx, x: x.tolist(), "Listy")
    with pytest.raises(TypeError, match=r"Listy\.forward must return a numpy array"):
        Listy.apply(a)


# ------------------------------------------------------------------- ctx
def test_saved_tensors_may_hold_tensors_and_arrays():
    def forward(ctx, x):
        ctx.save_for_backward(Tensor(x * 2.0), x, None)
        return x * x

    def backward(ctx, grad):
        twice, x, nothing = ctx.saved_tensors
        assert isinstance(twice, Tensor) and isinstance(x, np.ndarray) and nothing is None
        return grad * twice.data

    x = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    _op(backward, forward).apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 6.0])
    assert Function().saved_tensors == ()  # nothing saved: an empty tuple


def test_a_saved_array_changed_in_place_is_caught():
    Swish = _swish()
    x, beta = Tensor(np.array([0.5, -1.0]), requires_grad=True), Tensor(np.array(1.0))
    y = Swish.apply(x, beta).sum()
    beta.fill_(2.0)  # beta is saved by forward
    with pytest.raises(RuntimeError, match=r"Swish\.backward needs saved value 1"):
        y.backward()


def test_mark_non_differentiable():
    def forward(ctx, x):
        out = (x > 0).astype(x.dtype)
        ctx.mark_non_differentiable(out)
        return out

    Step = _op(lambda ctx, grad: grad, forward)
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = Step.apply(x)
    assert not y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(y.data, [0.0, 1.0])

    def marks_input(ctx, x):
        ctx.mark_non_differentiable(x)
        return x * 2.0

    with pytest.raises(RuntimeError, match="mark_non_differentiable takes the array forward returns"):
        _op(lambda ctx, grad: grad, marks_input).apply(x)


def test_no_graph_under_no_grad():
    Swish = _swish()
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = Swish.apply(x, Tensor(np.array(1.0)))
    assert not y.requires_grad and y.is_leaf
