"""Op-table rows of the unary maths and friends (``ops/unary.py``, ``ops/reduce_extra.py``, the
package functions): sin … erf, the step functions, prod, logsumexp, tril/triu, outer, dot, bmm.
``op_cases.CASES`` includes them, so ``test_op_table`` runs its five checks on each."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn.ops.unary import unary_reference
from helpers import arrays, shapes
from op_cases import OpCase

#: the domain each function is drawn from (away from poles and jumps, where central
#: differences cannot see the derivative)
DOMAINS = {"sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "log1p": (-0.5, 3), "expm1": (-2, 2),
           "log2": (0.2, 3), "log10": (0.2, 3), "exp2": (-2, 2), "rsqrt": (0.2, 3), "reciprocal": (0.3, 3),
           "erf": (-2, 2)}
STEPS = ("sign", "floor", "ceil", "round", "trunc")


def _unary_inputs(name):
    low, high = DOMAINS.get(name, (-3, 3))

    def inputs(draw, contiguous):
        x = draw(arrays(draw(shapes(min_dims=0, max_dims=3)), low=low, high=high, contiguous=contiguous))
        if name in STEPS:  # keep clear of the jumps (and of round's halves)
            x = np.where(np.abs(x - np.round(x)) < 0.05, x + 0.2, x)
            x = np.where(np.abs(x - np.round(x * 2) / 2) < 0.05, x + 0.1, x)
        return [x], {}
    return inputs


def _reduce_inputs(draw, contiguous):
    shape = draw(shapes(min_dims=1, max_dims=3))
    x = draw(arrays(shape, low=0.5, high=1.5, contiguous=contiguous))
    if draw(st.booleans()):  # zeros: the product of the others, not 0/0
        x = x.copy()
        x.flat[draw(st.integers(0, x.size - 1))] = 0.0
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return [x], dict(dim=dim, keepdim=draw(st.booleans()))


def _prod_reference(x, dim, keepdim):
    out = np.ones(np.delete(np.array(x.shape), dim % x.ndim))
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), dim, -1)
    for idx in np.ndindex(out.shape):
        p = 1.0
        for v in moved[idx]:
            p *= float(v)
        out[idx] = p
    return np.expand_dims(out, dim % x.ndim) if keepdim else out


def _logsumexp_reference(x, dim, keepdim):
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), dim, -1)
    out = np.empty(moved.shape[:-1])
    for idx in np.ndindex(out.shape):
        m = max(float(v) for v in moved[idx])
        out[idx] = m + math.log(sum(math.exp(float(v) - m) for v in moved[idx]))
    return np.expand_dims(out, dim % x.ndim) if keepdim else out


def _triangle_inputs(draw, contiguous):
    shape = draw(shapes(min_dims=2, max_dims=3))
    return [draw(arrays(shape, contiguous=contiguous))], dict(diagonal=draw(st.integers(-2, 2)))


def _triangle_reference(upper):
    def reference(x, diagonal):
        out = np.array(x, dtype=np.float64)
        for idx in np.ndindex(out.shape):
            i, j = idx[-2:]
            if (j - i < diagonal) if upper else (j - i > diagonal):
                out[idx] = 0.0
        return out
    return reference


def _pair_inputs(kind):
    def inputs(draw, contiguous):
        n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        if kind == "outer":
            return [draw(arrays((n,), contiguous=contiguous)), draw(arrays((m,), contiguous=contiguous))], {}
        if kind == "dot":
            return [draw(arrays((n,), contiguous=contiguous)), draw(arrays((n,), contiguous=contiguous))], {}
        b, p = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return [draw(arrays((b, n, m), contiguous=contiguous)), draw(arrays((b, m, p), contiguous=contiguous))], {}
    return inputs


def _loops_bmm(a, b):
    out = np.zeros((a.shape[0], a.shape[1], b.shape[2]))
    for k in range(a.shape[0]):
        for i in range(a.shape[1]):
            for j in range(b.shape[2]):
                out[k, i, j] = sum(float(a[k, i, t]) * float(b[k, t, j]) for t in range(a.shape[2]))
    return out


UNARY_CASES = (
    [OpCase(name, "unary", call=getattr(tc, name), reference=lambda x, name=name: unary_reference(name, x),
            inputs=_unary_inputs(name), torch=lambda torch, x, name=name: getattr(torch, name)(x))
     for name in list(DOMAINS) + list(STEPS)]
    + [OpCase("prod", "reduce", call=lambda x, dim, keepdim: tc.prod(x, dim, keepdim), reference=_prod_reference,
              inputs=_reduce_inputs, torch=lambda torch, x, dim, keepdim: torch.prod(x, dim, keepdim)),
       OpCase("logsumexp", "reduce", call=lambda x, dim, keepdim: tc.logsumexp(x, dim, keepdim),
              reference=_logsumexp_reference, inputs=_reduce_inputs,
              torch=lambda torch, x, dim, keepdim: torch.logsumexp(x, dim, keepdim)),
       OpCase("tril", "shape", call=lambda x, diagonal: tc.tril(x, diagonal), reference=_triangle_reference(False),
              inputs=_triangle_inputs, torch=lambda torch, x, diagonal: torch.tril(x, diagonal)),
       OpCase("triu", "shape", call=lambda x, diagonal: tc.triu(x, diagonal), reference=_triangle_reference(True),
              inputs=_triangle_inputs, torch=lambda torch, x, diagonal: torch.triu(x, diagonal)),
       OpCase("outer", "linear", call=tc.outer, reference=lambda a, b: np.array([[x * y for y in b] for x in a]),
              inputs=_pair_inputs("outer"), torch=lambda torch, a, b: torch.outer(a, b)),
       OpCase("dot", "linear", call=tc.dot, reference=lambda a, b: np.float64(sum(float(x) * float(y) for x, y in zip(a, b))),
              inputs=_pair_inputs("dot"), torch=lambda torch, a, b: torch.dot(a, b)),
       OpCase("bmm", "linear", call=tc.bmm, reference=_loops_bmm, inputs=_pair_inputs("bmm"),
              torch=lambda torch, a, b: torch.bmm(a, b))]
)
