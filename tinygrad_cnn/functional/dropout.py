"""Dropout: inverted dropout of elements (``dropout``) or whole channels (``dropout2d``).

The mask comes from the package generator (``tinygrad_cnn._random.get_rng()``), so
``manual_seed`` makes a run repeatable.  Outside training both return ``x`` itself.
"""

from __future__ import annotations

from .. import _checks as check
from .._random import get_rng
from ..ops import dropout as _drop
from ..tensor import Tensor

__all__ = ["dropout", "dropout2d"]


def _args(x, p, training, inplace, op):
    x = check.float_tensor(x, "x")
    p = check.real(p, f"{op}: p", 0.0, 1.0)
    check.boolean(training, f"{op}: training")
    check.boolean(inplace, f"{op}: inplace")
    return x, p


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by 1/(1 − p) (when ``training``).

    ``p`` in [0, 1]; p = 1 gives zeros.  ``inplace`` is accepted and ignored (a new tensor).
    """
    x, p = _args(x, p, training, inplace, "dropout")
    if not training:
        return x
    return _drop.Dropout.apply(x, _drop.dropout_mask(get_rng(), x.shape, p, x.dtype))


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels x[n, c] with probability ``p``, scale the others by 1/(1 − p).

    ``(N, C, H, W)``; a 3-D input is taken as ``(N, C, L)``, as PyTorch does today.
    """
    x, p = _args(x, p, training, inplace, "dropout2d")
    check.rank(x, (3, 4), "x", "dropout2d", "(N, C, H, W) or (N, C, L)")
    if not training:
        return x
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
    return _drop.Dropout.apply(x, _drop.dropout_mask(get_rng(), mask_shape, p, x.dtype))
