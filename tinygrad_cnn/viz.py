"""Pictures of the computation graph: Graphviz DOT text and a matplotlib drawing.

Every non-leaf Tensor keeps the Function that made it (``tensor._ctx``) and that
Function keeps its inputs (``ctx.parents``); walking those links from a loss
back to the leaves is the whole graph.  Each op is labelled with its name, the
lecture's symbol (``conv2d ⊛``, ``max_pool2d max``, ``avg_pool2d w⊞``, ``vec``,
``tanh f``, ``mul ∘`` ...) and its output shape; each leaf with its shape and,
when ``params=dict(model.named_parameters())`` is given, its parameter name.

Draw the graph BEFORE ``loss.backward()``: backward releases the graph (each
Function forgets its inputs) unless it is called with ``retain_graph=True``,
and a released graph raises a RuntimeError here.

>>> loss = F.cross_entropy(model(x), labels)
>>> print(viz.to_dot(loss, params=dict(model.named_parameters())))
>>> viz.draw(loss, "lenet.png", params=dict(model.named_parameters()))
>>> loss.backward()

:func:`draw` needs matplotlib but no Graphviz binary: it lays the graph out
itself in layers (longest path from the leaves, barycentre ordering against
crossings) and draws boxes for ops and rounded boxes for leaves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from .tensor import Tensor

__all__ = ["to_dot", "draw"]

#: Function class name -> (op name, the lecture's symbol or "").  A Function
#: class may carry its own ``symbol`` (and ``op_name``) attribute, which wins.
OP_LABELS = {
    "Conv2d": ("conv2d", "⊛"),
    "Rot180": ("rot180", ""),
    "MaxPool2d": ("max_pool2d", "max"),
    "AvgPool2d": ("avg_pool2d", "⊞ave"),
    "WeightedAvgPool2d": ("avg_pool2d", "w⊞"),
    "Vec": ("vec", ""),
    "Unvec": ("unvec", "vec⁻¹"),
    "Add": ("add", "+"),
    "Sub": ("sub", "−"),
    "Mul": ("mul", "∘"),
    "Div": ("div", "÷"),
    "Pow": ("pow", "^"),
    "Neg": ("neg", "−"),
    "MatMul": ("matmul", "@"),
    "Linear": ("linear", "Wp+b"),
    "Exp": ("exp", ""),
    "Log": ("log", ""),
    "Cast": ("cast", ""),
    "Tanh": ("tanh", "f"),
    "Sigmoid": ("sigmoid", "f"),
    "ReLU": ("relu", "f"),
    "ScaledTanh": ("scaled_tanh", "f"),
    "Softmax": ("softmax", ""),
    "LogSoftmax": ("log_softmax", ""),
    "CrossEntropy": ("cross_entropy", "F̂"),
    "MSELoss": ("mse_loss", "F̂"),
    "Sum": ("sum", "Σ"),
    "Mean": ("mean", ""),
    "Max": ("max", ""),
    "Reshape": ("reshape", ""),
    "Transpose": ("transpose", "ᵀ"),
    "Index": ("index", "[ ]"),
}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def op_label(ctx) -> str:
    """``"conv2d ⊛"``: the op's name and the lecture's symbol (the name alone when it has none)."""
    cls = type(ctx)
    name, symbol = OP_LABELS.get(cls.__name__, (_snake(cls.__name__), ""))
    name = getattr(cls, "op_name", None) or name
    symbol = getattr(cls, "symbol", None) or symbol
    return f"{name} {symbol}" if symbol and symbol != name else name


def format_shape(shape: tuple) -> str:
    """``(8, 6, 28, 28)`` -> ``"8×6×28×28"``; a 0-d array is ``"scalar"``."""
    return "×".join(str(n) for n in shape) if shape else "scalar"


# --------------------------------------------------------------- the graph
class _Node:
    __slots__ = ("id", "tensor", "is_op", "title", "param", "inputs", "constant")

    def __init__(self, nid, tensor, is_op, title, param=None, constant=None):
        self.id, self.tensor, self.is_op, self.title = nid, tensor, is_op, title
        self.param, self.constant = param, constant
        self.inputs = []  # node ids, one per Function input (repeats kept)

    @property
    def shape_text(self) -> str:
        return format_shape(self.tensor.shape)


def _released_error() -> RuntimeError:
    return RuntimeError(
        "viz: the graph behind this tensor was released by backward(); draw it before calling "
        "loss.backward(), or call backward(retain_graph=True)"
    )


def _leaf_title(t: Tensor, name) -> tuple:
    """(title, constant value or None) of a leaf."""
    if name is not None:
        return name, None
    if not t.requires_grad and t.data.size == 1 and t.dtype.kind == "f":
        value = float(t.data.reshape(-1)[0])
        return f"{value:.5g}", value
    if t.dtype.kind in "iub":
        return f"tensor {t.dtype}", None
    return ("leaf" if t.requires_grad else "input"), None


def build_graph(tensor, params=None) -> list:
    """The nodes behind ``tensor`` in topological order (inputs before the op using them).

    Node ids are ``n0, n1, ...`` in that order, so the same computation gives the
    same ids every time.  Raises RuntimeError when backward already released it.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz: expected a Tensor, got {type(tensor).__name__}")
    if params is None:
        names = {}
    elif isinstance(params, Mapping):
        names = {}
        for key, p in params.items():
            if not isinstance(p, Tensor):
                raise TypeError(f"viz: params[{key!r}] must be a Tensor (a Parameter), got {type(p).__name__}")
            names.setdefault(id(p), str(key))
    else:
        raise TypeError(
            f"viz: params must be a dict of name -> Parameter, e.g. dict(model.named_parameters()), "
            f"got {type(params).__name__}"
        )

    # iterative post-order walk: a 10,000-op chain needs no recursion
    order, seen, stack = [], set(), [(tensor, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        ctx = t._ctx
        if ctx is not None:
            if getattr(ctx, "parents", None) is None:
                raise _released_error()
            for parent in reversed(ctx.parents):
                if id(parent) not in seen:
                    stack.append((parent, False))

    nodes, index = [], {}
    for t in order:
        nid = f"n{len(nodes)}"
        index[id(t)] = nid
        if t._ctx is not None:
            node = _Node(nid, t, True, op_label(t._ctx))
            node.inputs = [index[id(p)] for p in t._ctx.parents]
        else:
            name = names.get(id(t))
            title, constant = _leaf_title(t, name)
            node = _Node(nid, t, False, title, param=name, constant=constant)
        nodes.append(node)
    return nodes


# --------------------------------------------------------------- DOT text
def _dot_quote(text: str) -> str:
    """A DOT double-quoted string; real newlines become the ``\\n`` escape."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(tensor, params=None) -> str:
    """Graphviz DOT text of the graph that produced ``tensor`` (call it before backward).

    One box per op (``"conv2d ⊛\\n8×6×28×28"``: name, the lecture's symbol, output
    shape), one rounded box per leaf (its shape, and its name when it is one of
    ``params``, matched by identity), edges from each input to the op using it.
    Render with ``dot -Tpng`` or use :func:`draw`, which needs no Graphviz.
    """
    nodes = build_graph(tensor, params)
    lines = [
        "digraph tinygrad_cnn {",
        '  graph [rankdir=TB, fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [arrowsize=0.6];',
    ]
    root = nodes[-1].id
    for node in nodes:
        label = f"{node.title}\n{node.shape_text}"
        if node.is_op:
            style = 'shape=box, style=filled, fillcolor="#dbe8f6"'
        elif node.param is not None:
            style = 'shape=box, style="rounded,filled", fillcolor="#fde9c8"'
        else:
            style = 'shape=box, style="rounded,filled", fillcolor="#eeeeee"'
        if node.id == root:
            style += ", peripheries=2"
        lines.append(f"  {node.id} [label={_dot_quote(label)}, {style}];")
    for node in nodes:
        for src in node.inputs:
            lines.append(f"  {src} -> {node.id};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------- drawing
def draw(tensor, path=None, params=None):
    """Draw the graph behind ``tensor`` with matplotlib (no Graphviz binary needed).

    ``path`` ending in ``.png`` or ``.svg`` writes that file; without ``path``
    the matplotlib Figure is returned (a notebook shows it).  Scalar constants
    (LeCun's 1.7159 and 2/3, say) are folded into the label of the op that uses
    them, so the picture stays small; :func:`to_dot` keeps them as nodes.
    """
    fmt = None
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"draw: path must be a str or os.PathLike, got {type(path).__name__}")
        fmt = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise ValueError(f"draw: path must end in .png or .svg, got {os.fspath(path)!r}")
    nodes = build_graph(tensor, params)
    from ._graph_layout import render  # needs matplotlib

    fig = render(nodes)
    if path is None:
        return fig
    fig.savefig(path, format=fmt, dpi=fig.dpi)
    return None
