"""tinygrad_cnn.viz: DOT text and matplotlib drawings of the computation graph."""

from __future__ import annotations

import re
import struct
import sys

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Function, Tensor, nn, viz
from tinygrad_cnn.models import LeNet5


def lenet_loss(batch=4, seed=0):
    nn.manual_seed(seed)
    model = LeNet5()
    x = Tensor(np.random.default_rng(seed).standard_normal((batch, 1, 32, 32)).astype(np.float32))
    loss = F.cross_entropy(model(x), np.arange(batch) % 10)
    return model, loss


def labels(dot: str) -> list:
    return re.findall(r'\[label="((?:[^"\\]|\\.)*)"', dot)


def test_to_dot_of_lenet_loss_names_ops_symbols_shapes_and_parameters():
    model, loss = lenet_loss()
    params = dict(model.named_parameters())
    dot = viz.to_dot(loss, params=params)
    found = labels(dot)
    for expected in [
        r"conv2d ⊛\n4×6×28×28", r"conv2d ⊛\n4×16×10×10", r"conv2d ⊛\n4×120×1×1",
        r"avg_pool2d w⊞\n4×6×14×14", r"avg_pool2d w⊞\n4×16×5×5",
        r"scaled_tanh f\n4×84", r"scaled_tanh f\n4×120×1×1", r"scaled_tanh f\n4×6×14×14",
        r"vec\n4×120", r"linear Wp+b\n4×84", r"linear Wp+b\n4×10",
        r"cross_entropy F̂\nscalar", r"input\n4×1×32×32",
    ]:
        assert expected in found, expected
    for name, p in params.items():
        assert f"{name}\\n{viz.format_shape(p.shape)}" in found, name
    # one node per op and per distinct leaf, one edge per Function input (the scaled tanh is one op)
    # (S2 and S4 add their bias inside the pooling op: w, b and the maps are its three inputs;
    # F6 and the output layer are one linear op each, n = W p + b, with three inputs too)
    assert len(found) == 29
    assert dot.count(" -> ") == 28
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert "peripheries=2" in dot  # the loss is marked

    plain = viz.to_dot(loss)
    assert "c1.weight" not in plain and r"leaf\n6×1×5×5" in labels(plain)


def test_to_dot_ids_are_stable():
    _, a = lenet_loss(seed=1)
    _, b = lenet_loss(seed=2)
    assert viz.to_dot(a) == viz.to_dot(b)


@pytest.mark.parametrize("make, label", [
    (lambda x, w: F.max_pool2d(x, 2), r"max_pool2d max\n2×3×2×2"),
    (lambda x, w: F.avg_pool2d(x, 2), r"avg_pool2d ⊞ave\n2×3×2×2"),
    (lambda x, w: F.rot180(x), r"rot180\n2×3×4×4"),
    (lambda x, w: F.unvec(F.vec(x), (3, 4, 4)), r"unvec vec⁻¹\n2×3×4×4"),
    (lambda x, w: F.relu(x), r"relu f\n2×3×4×4"),
    (lambda x, w: F.sigmoid(x), r"sigmoid f\n2×3×4×4"),
    (lambda x, w: x.sum(axis=1), r"sum Σ\n2×4×4"),
    (lambda x, w: x.mean(), r"mean\nscalar"),
    (lambda x, w: x - w, r"sub −\n2×3×4×4"),
    (lambda x, w: x / w, r"div ÷\n2×3×4×4"),
    (lambda x, w: x * w, r"mul ∘\n2×3×4×4"),
    (lambda x, w: F.tanh(x), r"tanh f\n2×3×4×4"),
    (lambda x, w: F.scaled_tanh(x), r"scaled_tanh f\n2×3×4×4"),
    (lambda x, w: x * 1.7159, r"1.7159\nscalar"),
    (lambda x, w: F.softmax(x.reshape(6, 16)), r"softmax\n6×16"),
    (lambda x, w: F.mse_loss(x, x * 0.5), r"mse_loss F̂\nscalar"),
    (lambda x, w: x[0], r"index [ ]\n3×4×4"),
])
def test_to_dot_labels_each_op_kind(make, label):
    x = Tensor(np.ones((2, 3, 4, 4), np.float32), requires_grad=True)
    w = Tensor(np.full((4,), 2.0, np.float32), requires_grad=True)
    assert label in labels(viz.to_dot(make(x, w)))


def test_function_class_symbol_wins_over_the_table():
    class Double(Function):
        symbol = "★"

        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Double.apply(Tensor(np.ones(3, np.float32), requires_grad=True))
    assert r"double ★\n3" in labels(viz.to_dot(y))


def test_to_dot_escapes_names():
    w = Tensor(np.ones(2, np.float32), requires_grad=True)
    dot = viz.to_dot(w * 3.0, params={'odd "name"\\x': w})
    assert r'label="odd \"name\"\\x\n2"' in dot


def test_released_graph_raises_and_retained_graph_works():
    _, loss = lenet_loss()
    loss.backward(retain_graph=True)
    assert "conv2d ⊛" in viz.to_dot(loss)
    loss.backward()
    with pytest.raises(RuntimeError, match="released by backward"):
        viz.to_dot(loss)
    with pytest.raises(RuntimeError, match="released by backward"):
        viz.draw(loss)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot(np.ones(3))
    t = Tensor(np.ones(3, np.float32), requires_grad=True) * 2.0
    with pytest.raises(TypeError, match="params must be a dict"):
        viz.to_dot(t, params=[("a", t)])
    for bad in ("graph.jpg", "graph", "graph.png.txt"):
        with pytest.raises(ValueError, match=r"\.png or \.svg"):
            viz.draw(t, bad)


def test_draw_writes_png_and_svg_without_graphviz(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` binary reachable
    model, loss = lenet_loss()
    params = dict(model.named_parameters())
    png = tmp_path / "lenet.png"
    assert viz.draw(loss, png, params=params) is None
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    assert 500 < width < 16001 and 1000 < height < 16001  # sized to a 26-layer graph
    svg = tmp_path / "lenet.svg"
    viz.draw(loss, str(svg), params=params)
    text = svg.read_text()
    assert "<svg" in text and "c3.weight" in text


def test_draw_returns_a_figure_sized_to_the_graph():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    _, loss = lenet_loss()
    big = viz.draw(loss)
    small = viz.draw(F.relu(Tensor(np.ones(3, np.float32), requires_grad=True)))
    assert isinstance(big, Figure) and isinstance(small, Figure)
    assert big.get_size_inches()[1] > 4 * small.get_size_inches()[1]


def test_draw_without_matplotlib_says_how_to_install(monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.patches"):
        monkeypatch.setitem(sys.modules, name, None)
    t = Tensor(np.ones(3, np.float32), requires_grad=True) * 2.0
    with pytest.raises(ImportError, match="pip install matplotlib"):
        viz.draw(t)
