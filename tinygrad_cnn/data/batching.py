"""Mini-batches with reproducible shuffling."""

from __future__ import annotations

import numpy as np

from .resize import _check_int

__all__ = ["batches"]


def batches(x, y, batch_size, shuffle=True, seed=None, rng=None):
    """Iterate over ``(xb, yb)`` mini-batches of numpy arrays.

    Every sample appears exactly once per pass; the last batch may be smaller. With
    ``shuffle`` the order is a permutation drawn from ``rng`` (a ``numpy.random.Generator``)
    or, if not given, from ``numpy.random.default_rng(seed)`` (reproducible for a fixed seed).
    Arguments are validated immediately, not on the first ``next()``.
    """
    x = np.asarray(getattr(x, "data", x)) if not isinstance(x, np.ndarray) else x
    y = np.asarray(getattr(y, "data", y)) if not isinstance(y, np.ndarray) else y
    batch_size = _check_int("batch_size", batch_size)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must have a leading sample axis, got shapes x {x.shape} "
                         f"and y {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, got shapes "
                         f"x {x.shape} and y {y.shape}")
    if rng is not None and seed is not None:
        raise ValueError("pass either seed or rng, not both")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n = len(x)
    if shuffle:
        gen = rng if rng is not None else np.random.default_rng(seed)
        order = gen.permutation(n)
    else:
        order = None

    def _gen():
        for start in range(0, n, batch_size):
            if order is None:
                sl = slice(start, start + batch_size)
                yield x[sl], y[sl]
            else:
                idx = order[start:start + batch_size]
                yield x[idx], y[idx]

    return _gen()
