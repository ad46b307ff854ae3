"""Shared test helpers: hypothesis strategies for arrays (contiguous or not) and torch comparisons."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tinygrad_cnn import Tensor


@st.composite
def shapes(draw, min_dims=0, max_dims=4, min_side=1, max_side=5):
    nd = draw(st.integers(min_dims, max_dims))
    return tuple(draw(st.integers(min_side, max_side)) for _ in range(nd))


@st.composite
def arrays(draw, shape, dtype=np.float64, low=-2.0, high=2.0, contiguous=None):
    """A random array of ``shape``; sometimes a non-contiguous view with the same values layout."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if contiguous is None:
        contiguous = draw(st.booleans())
    if contiguous or len(shape) == 0:
        return rng.uniform(low, high, size=shape).astype(dtype)
    kind = draw(st.sampled_from(["transposed", "strided"]))
    if kind == "transposed" and len(shape) >= 2:
        base = rng.uniform(low, high, size=shape[::-1]).astype(dtype)
        view = base.transpose(tuple(range(len(shape)))[::-1])
    else:
        base = rng.uniform(low, high, size=tuple(2 * s for s in shape)).astype(dtype)
        view = base[tuple(slice(None, None, 2) for _ in shape)]
    assert view.shape == tuple(shape)
    return view


def random_grad(shape, dtype=np.float64, seed=0):
    """A non-uniform upstream gradient (catches transposition errors a sum() would hide)."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def leaf(arr, requires_grad=True):
    return Tensor(arr, requires_grad=requires_grad)


def torch_leaf(torch, arr):
    return torch.tensor(np.array(arr, order="C"), requires_grad=True)


def assert_close(actual, expected, rtol=1e-6, atol=1e-9):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)
