"""Einstein summation, PyTorch's ``einsum``: y = the products of the operands' elements summed over
every subscript the output does not keep.

Backward, for operand k: dX_k = einsum(dY and every other operand → X_k's subscripts).  The
rule is the same contraction with dY in the output's place; three cases need care:

* a subscript repeated inside X_k (a diagonal, ``'ii->i'``): its second occurrence gets a
  fresh letter and an identity matrix joins the contraction, putting dY on the diagonal;
* a subscript only X_k has, summed away in the forward: dX_k is constant along it
  (broadcast back);
* an ellipsis axis of size 1 that broadcast against a larger one: summed back to 1.
"""

from __future__ import annotations

import string

import numpy as np

from ..tensor import Function

__all__ = ["Einsum", "parse_einsum", "einsum_reference"]


def parse_einsum(equation: str, shapes: list) -> tuple:
    """``(input subscripts, output subscripts)`` with the ellipsis spelt out as letters, and no
    spaces; ``ValueError`` naming what is wrong (as PyTorch's messages do)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operand(s), got {len(shapes)} tensors")
    used = set(eq) - set(".,->")
    if not all(c in string.ascii_letters for c in used):
        raise ValueError(f"einsum: subscripts must be letters, got {equation!r}")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_dims = 0
    for term, shape in zip(terms, shapes):
        if term.count("...") > 1 or term.replace("...", "").count(".") or "." in term.replace("...", ""):
            raise ValueError(f"einsum: a term holds at most one ellipsis '...', got {term!r}")
        named = len(term.replace("...", ""))
        if ("..." in term and named > len(shape)) or ("..." not in term and named != len(shape)):
            raise ValueError(f"einsum: term {term!r} has {named} subscripts for an operand of shape {tuple(shape)}")
        if "..." in term:
            ell_dims = max(ell_dims, len(shape) - named)
    ell = "".join(spare[:ell_dims])
    inputs = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            k = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ell[ell_dims - k:])
        inputs.append(term)
    if arrow:
        if "..." in rhs:
            rhs = rhs.replace("...", ell)
        elif ell and any("..." in t for t in terms):
            pass  # an explicit output without '...': the ellipsis axes are summed
        for c in rhs:
            if c not in "".join(inputs):
                raise ValueError(f"einsum: output subscript {c!r} does not appear in an input of {equation!r}")
        if len(set(rhs)) != len(rhs):
            raise ValueError(f"einsum: output subscripts repeat in {equation!r}")
    else:  # implicit output: the ellipsis, then the letters appearing once, in alphabetical order
        counts = {c: "".join(inputs).count(c) for c in set("".join(inputs)) if c not in ell}
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    sizes = {}
    for term, shape in zip(inputs, shapes):
        for c, n in zip(term, shape):
            if c in sizes and sizes[c] != n and 1 not in (sizes[c], n):
                raise ValueError(f"einsum: subscript {c!r} has size {sizes[c]} and {n} in {equation!r}")
            sizes[c] = max(sizes.get(c, n), n)
    return inputs, rhs


class Einsum(Function):
    """y = einsum(equation, X_1, …, X_n); dX_k = einsum(dY, the other X → X_k's subscripts)."""

    fresh_grads = True

    @staticmethod
    def forward(ctx, *xs, inputs, output):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*xs)
        return np.asarray(np.einsum(",".join(inputs) + "->" + output, *xs))

    rule = "dX_k {x} = einsum(dY {g}, the other operands → X_k's subscripts)"

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        grads = []
        for k, x in enumerate(xs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            grads.append(_operand_grad(k, xs, ctx.inputs, ctx.output, grad))
        return tuple(grads)


def _operand_grad(k, xs, inputs, output, grad):
    term = inputs[k]
    taken = set("".join(inputs) + output)
    fresh = iter(c for c in string.ascii_letters if c not in taken)
    target, deltas, seen = "", [], set()
    for c, n in zip(term, xs[k].shape):
        if c in seen:  # a diagonal: a new letter tied to the first by an identity matrix
            d = next(fresh)
            deltas.append((c + d, np.eye(n, dtype=grad.dtype)))
            target += d
        else:
            target += c
            seen.add(c)
    others = [(inputs[j], xs[j]) for j in range(len(xs)) if j != k]
    available = set(output) | {c for t, _ in others for c in t} | {c for s, _ in deltas for c in s}
    kept = "".join(c for c in target if c in available)   # letters the contraction can produce
    subs = [output] + [t for t, _ in others] + [s for s, _ in deltas]
    arrays = [grad] + [a for _, a in others] + [a for _, a in deltas]
    g = np.einsum(",".join(subs) + "->" + kept, *arrays)
    # subscripts summed away inside X_k alone: the gradient is constant along them
    shape = []
    for c, n in zip(target, xs[k].shape):
        shape.append(g.shape[kept.index(c)] if c in kept else 1)
    g = g.transpose([kept.index(c) for c in target if c in kept]) if kept else g
    g = np.broadcast_to(g.reshape(shape), [max(a, b) for a, b in zip(shape, xs[k].shape)])
    # ellipsis axes of size 1 that broadcast: summed back
    axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, xs[k].shape)) if b == 1 and a != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return np.ascontiguousarray(np.broadcast_to(g, xs[k].shape), dtype=xs[k].dtype)


def einsum_reference(inputs, output, *xs):
    """Naive Einstein summation: every assignment of the subscripts' values, one product each."""
    sizes = {}
    for term, x in zip(inputs, xs):
        for c, n in zip(term, x.shape):
            sizes[c] = max(sizes.get(c, n), n)
    letters = sorted(sizes)
    out = np.zeros(tuple(sizes[c] for c in output))
    for values in np.ndindex(*[sizes[c] for c in letters]):
        at = dict(zip(letters, values))
        p = 1.0
        for term, x in zip(inputs, xs):
            p *= float(x[tuple(at[c] if x.shape[i] != 1 else 0 for i, c in enumerate(term))])
        out[tuple(at[c] for c in output)] += p
    return out
