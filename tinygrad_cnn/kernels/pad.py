"""Padding that repeats the input's own values: PyTorch's ``'reflect'``, ``'replicate'`` and
``'circular'`` modes, and the fold that is their backward.

Each padded axis of size n with pads (b, a) gets a source index for every output
position j = 0 … n+b+a−1, with p = j − b its position in the input's coordinates::

    reflect     src(j) = |p|, mirrored again at the far edge: 2(n−1) − |p| when |p| ≥ n
    replicate   src(j) = min(max(p, 0), n − 1)
    circular    src(j) = c + (j − max(b, 0)) mod n'   (c = max(−b, 0) cells cropped in front,
                                                   n' the size left after cropping)

(negative pads crop: ``'circular'`` wraps around what is left, as PyTorch does).  The forward gathers,
y[..., j_d, j_h, j_w] = x[..., src_d(j_d), src_h(j_h), src_w(j_w)]; its backward is the
adjoint, the fold: every dy lands on the input cell it was copied from and the copies
of one cell add up, dx[..., s_d, s_h, s_w] = Σ over the j with src(j) = s of dy[..., j].
The fold adds them in the order PyTorch does, so both give the same bits: ``'reflect'``
and ``'replicate'`` in the output's row-major order (:func:`pad_fold`); ``'circular'``,
which PyTorch builds from slab copies (the last axis first, its left pad, then its
right), by undoing those copies in reverse (:func:`circular_fold`).
"""
import numpy as np
from numba import njit, prange

from ._parallel import run_kernel

__all__ = ["source_index", "pad_gather", "pad_fold", "circular_fold", "pad_mode_reference"]


def source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """The input index each output position of one padded axis copies (int64, length n+before+after)."""
    p = np.arange(n + before + after, dtype=np.int64) - before
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    if mode == "reflect":
        p = np.abs(p)
        return np.where(p >= n, 2 * (n - 1) - p, p)
    front = max(-before, 0)  # circular: wrap around what negative pads leave
    kept = n - front - max(-after, 0)
    return front + (p + before - max(before, 0)) % kept if kept else p


def pad_gather(x: np.ndarray, sources) -> np.ndarray:
    """y = x with its last ``len(sources)`` axes gathered through the source indices (a new array)."""
    return x[(Ellipsis,) + np.ix_(*sources)]


def pad_fold(grad: np.ndarray, sources, in_shape: tuple) -> np.ndarray:
    """dx of :func:`pad_gather`: ``grad`` folded back onto ``in_shape`` through the source indices."""
    k = len(sources)
    lead = in_shape[:len(in_shape) - k]
    inner = (1,) * (3 - k) + tuple(in_shape[len(in_shape) - k:])
    outer = (1,) * (3 - k) + grad.shape[len(grad.shape) - k:]
    planes = int(np.prod(lead, dtype=np.int64))
    g = np.ascontiguousarray(grad).reshape((planes,) + outer)
    zero = np.zeros(1, dtype=np.int64)
    src_d, src_h, src_w = (zero,) * (3 - k) + tuple(np.ascontiguousarray(s, dtype=np.int64) for s in sources)
    dx = run_kernel(_fold, g.size, g, src_d, src_h, src_w, *inner)
    return dx.reshape(in_shape)


@njit(parallel=True, cache=True)
def _fold(g, src_d, src_h, src_w, D, H, W):
    """Compiled body of :func:`pad_fold`: one parallel iteration per plane of the leading axes,
    each adding its output cells, in row-major order, into the input cells they came from."""
    P, Do, Ho, Wo = g.shape
    dx = np.empty((P, D, H, W), dtype=g.dtype)
    for p in prange(P):
        dx[p] = 0
        for a in range(Do):
            sa = src_d[a]
            for i in range(Ho):
                si = src_h[i]
                for j in range(Wo):
                    dx[p, sa, si, src_w[j]] += g[p, a, i, j]
    return dx


def circular_fold(grad: np.ndarray, widths, in_shape: tuple) -> np.ndarray:
    """dx of circular padding with pads ``widths`` ((before, after) for each of the last axes):
    the forward's slab copies undone in reverse order.

    Forward, for each padded axis from the last: the input (cropped by negative pads) is
    written in the middle, then the left pad copies the middle's last ``before`` cells, then
    the right pad its first ``after``.  Backward, from the first padded axis and its right
    pad: each pad's gradient is added onto the slab it copied; the middle's is dx.
    """
    g = np.array(grad, copy=True)
    k = len(widths)
    axes = range(g.ndim - k, g.ndim)
    for axis, (before, after) in zip(axes, widths):
        m, b, a = g.shape[axis], max(before, 0), max(after, 0)

        def part(lo, hi, axis=axis):
            index = [slice(None)] * g.ndim
            index[axis] = slice(lo, hi)
            return tuple(index)

        if a:
            g[part(b, b + a)] += g[part(m - a, m)]
        if b:
            g[part(m - b - a, m - a)] += g[part(0, b)]
    dx = np.zeros(in_shape, dtype=g.dtype)
    kept = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(in_shape[len(in_shape) - k:], widths))
    middle = tuple(slice(max(b, 0), m - max(a, 0)) for m, (b, a) in zip(g.shape[g.ndim - k:], widths))
    dx[(Ellipsis,) + kept] = g[(Ellipsis,) + middle]
    return dx


def pad_mode_reference(x, pad, mode):
    """Naive padding in PyTorch's pad order (last axis first): each output element finds its source
    one axis at a time by walking (reflect: bouncing off the edges; replicate: stopping at them;
    circular: going round), float64."""
    x = np.asarray(x, dtype=np.float64)
    k = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * (x.ndim - 1 - axis)], pad[2 * (x.ndim - 1 - axis) + 1])
                                         for axis in range(x.ndim - k, x.ndim)]
    out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    out = np.empty(out_shape)
    for idx in np.ndindex(out_shape):
        src = []
        for j, n, (b, a) in zip(idx, x.shape, widths):
            p = j - b
            if mode == "replicate":
                p = 0 if p < 0 else n - 1 if p >= n else p
            elif mode == "reflect":
                while p < 0 or p >= n:
                    p = -p if p < 0 else 2 * (n - 1) - p
            else:  # go round what negative pads leave: [front, n - back)
                front, back = max(-b, 0), max(-a, 0)
                while p < front:
                    p += n - front - back
                while p >= n - back:
                    p -= n - front - back
            src.append(p)
        out[idx] = x[tuple(src)]
    return out
