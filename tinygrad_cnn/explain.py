"""The backward pass, read aloud: one line per backward rule applied, in the lecture's notation.

>>> loss = F.cross_entropy(model(x), labels)
>>> for line in explain(loss, model=model):
...     print(line)
cross_entropy: dn (64, 10) = (softmax(n) − onehot(t)) / batch · dF̂ ()
linear output: db (10,) = Σ dn (64, 10)
...
conv2d c3: dW (16, 6, 5, 5) = dZ (64, 16, 10, 10) ⋆ V (64, 6, 14, 14)
conv2d c3: dA (64, 6, 14, 14) = Σ rot180(W (16, 6, 5, 5)) ⋆ dZ (64, 16, 10, 10)
...

:func:`explain` runs ``loss.backward()`` itself (the gradients it leaves are exactly
those of a plain ``backward()``), with a hook that the engine calls before each
Function's backward.  The words come from the Function: each states its rule next
to its ``backward`` as a class attribute ``rule``, a template in which

* ``{0}``, ``{1}``, ... are the shapes of the inputs, ``{x}`` the shape of the input the
  line is about and ``{i}`` its position,
* ``{g}`` is the shape of the incoming gradient (the op's output),
* ``{sum}`` reads " summed over the broadcast axes" when the line's input is smaller than
  ``{g}`` (an input numpy broadcast in the forward pass), and nothing otherwise,
* ``{ctx}`` is the Function instance (``{ctx.window}``, say).

``rule`` is either one template, written once for every input that receives a
gradient, or a dict ``{input position: template}`` whose order is the order of the
lines (the conv gives db, dW then dA, as the lecture does).  A Function whose words
depend on more than shapes defines ``explain(ctx, grad) -> list[str]`` instead.
A Function with neither (a user's own) reads ``"<OpName>: grad passed back"``.

Layer names: with ``model=`` (a Module) or ``params=dict(model.named_parameters())``
an op that uses a parameter, directly or through a transpose or reshape of it, is
named after the parameter's module (``c3.weight`` -> ``c3``), and an op that keeps
the shape of its input (a transfer function, the scaling around it) belongs to the
layer that made that input.  Other ops go by their op name alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from . import tensor as _tensor
from .tensor import Tensor

__all__ = ["explain", "rule_lines"]

_BROADCAST = " summed over the broadcast axes"


def _op_name(ctx) -> str:
    from .viz import OP_LABELS  # the same op names as the graph pictures

    name = type(ctx).__name__
    known = OP_LABELS.get(name)
    return known[0] if known else re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _shape(t) -> tuple:
    """The shape of a Function input: a Tensor's, or ``()`` for a constant stand-in."""
    if t is _tensor._CONSTANT:
        return ()
    return tuple(t.shape)


def rule_lines(ctx, grad) -> list[str]:
    """The rule text of ``ctx`` (a Function in a recorded graph) for the incoming ``grad``,
    one string per gradient it is about to compute, without the op and layer prefix."""
    cls = type(ctx)
    custom = getattr(cls, "explain", None)
    if custom is not None:
        return list(custom(ctx, grad))
    rule = getattr(cls, "rule", None)
    if rule is None:
        return ["grad passed back"]
    parents = ctx.parents
    shapes = [_shape(p) for p in parents]
    needs = ctx.needs_input_grad
    if isinstance(rule, str):
        items = [(i, rule) for i in range(len(parents))]
    else:
        items = list(rule.items())
    g = tuple(grad.shape)
    lines = []
    for i, template in items:
        if i >= len(parents) or not needs[i]:
            continue
        x = shapes[i]
        lines.append(template.format(*shapes, x=x, i=i, g=g, ctx=ctx,
                                     sum=_BROADCAST if x != g else ""))
    return lines


# --------------------------------------------------------------- layer names
def _param_names(model, params) -> dict:
    """id(parameter) -> its dotted name, from ``model`` and/or ``params``."""
    names = {}
    if model is not None:
        named = getattr(model, "named_parameters", None)
        if named is None:
            raise TypeError(f"explain: model must be a Module, got {type(model).__name__}")
        for name, p in named():
            names.setdefault(id(p), name)
    if params is not None:
        if not isinstance(params, Mapping):
            raise TypeError("explain: params must be a dict of name -> Parameter, e.g. "
                            f"dict(model.named_parameters()), got {type(params).__name__}")
        for name, p in params.items():
            if not isinstance(p, Tensor):
                raise TypeError(f"explain: params[{name!r}] must be a Tensor, got {type(p).__name__}")
            names.setdefault(id(p), str(name))
    return names


def _layer_of(name: str) -> str:
    """``"c3.weight"`` -> ``"c3"``; a bare name stays itself."""
    return name.rsplit(".", 1)[0] if "." in name else name


def _layers(order: list, names: dict) -> dict:
    """id(ctx) -> layer name for every op of the graph that belongs to a named layer."""
    owner = {}   # id(tensor) -> layer of the parameter it is (or is a transpose/reshape of)
    layer = {}   # id(ctx) -> layer
    made = {}    # id(tensor) -> layer of the op that made it
    for t in order:  # inputs before the ops using them
        ctx = t._ctx
        if ctx is None:
            if id(t) in names:
                owner[id(t)] = _layer_of(names[id(t)])
            continue
        live = [p for p in ctx.parents if p.requires_grad]
        owned = [owner[id(p)] for p in live if id(p) in owner]
        if owned and len(ctx.parents) == 1:
            owner[id(t)] = owned[0]  # a transpose or reshape of a parameter stands for it
        name = owned[0] if owned else None
        if name is None and live and live[0].shape == t.shape:
            name = made.get(id(live[0]))  # shape kept: a transfer function of that layer
        if name is not None:
            layer[id(ctx)] = made[id(t)] = name
    return layer


# --------------------------------------------------------------- explain
def explain(loss, model=None, params=None, retain_graph: bool = False) -> list[str]:
    """Run ``loss.backward()`` and return one line per backward rule applied, in order.

    Each line is ``"<op> [<layer>]: <rule with shapes>"``, e.g.
    ``"conv2d c3: dW (16, 6, 5, 5) = dZ (64, 16, 10, 10) ⋆ V (64, 6, 14, 14)"``.
    ``model`` (a Module) or ``params`` (name -> Parameter) name the layers; without
    them each line starts with the op name alone.  The gradients left in ``.grad`` are
    exactly those of ``loss.backward(retain_graph=retain_graph)``, which this calls.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(loss).__name__}")
    names = _param_names(model, params)
    if not loss.requires_grad:
        raise RuntimeError("explain: this tensor does not require grad and has no graph; "
                           "create the inputs or parameters with requires_grad=True")
    if loss._ctx is not None and loss._ctx.parents is None:
        raise RuntimeError("explain: the graph behind this tensor was released by an earlier "
                           "backward(); compute the loss again (or call backward(retain_graph=True) "
                           "the first time) and explain that")
    layers = _layers(_tensor._topological_order(loss), names)
    lines = []

    def hook(ctx, grad):
        op = _op_name(ctx)
        layer = layers.get(id(ctx))
        prefix = f"{op} {layer}" if layer else op
        lines.extend(f"{prefix}: {text}" for text in rule_lines(ctx, grad))

    hooks = _tensor._backward_hook
    previous, hooks.fn = hooks.fn, hook
    try:
        loss.backward(retain_graph=retain_graph)
    finally:
        hooks.fn = previous
    return lines
