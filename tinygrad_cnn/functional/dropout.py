"""Dropout: inverted dropout of elements (``dropout``) or whole channels (``dropout1d``,
``dropout2d``, ``dropout3d``).

The mask comes from the package generator (``tinygrad_cnn._random.get_rng()``), so
``manual_seed`` makes a run repeatable.  Outside training both return ``x`` itself.
"""

from __future__ import annotations

from .. import _checks as check
from .._random import get_rng
from ..ops import dropout as _drop
from ..tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


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


def _channel_dropout(x, p, training, inplace, op, ranks, layout):
    x, p = _args(x, p, training, inplace, op)
    check.rank(x, ranks, "x", op, layout)
    if not training:
        return x
    unbatched = x.ndim == ranks[0]
    lead = (1,) + x.shape[:1] if unbatched else x.shape[:2]
    mask = _drop.dropout_mask(get_rng(), lead, p, x.dtype).reshape(x.shape[:1 if unbatched else 2]
                                                                   + (1,) * (x.ndim - (1 if unbatched else 2)))
    return _drop.Dropout.apply(x, mask)


def dropout1d(x, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` with probability ``p``, scale the others."""
    return _channel_dropout(x, p, training, inplace, "dropout1d", (2, 3), "(N, C, L) or (C, L)")


def dropout3d(x, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` with probability ``p``."""
    return _channel_dropout(x, p, training, inplace, "dropout3d", (4, 5), "(N, C, D, H, W) or (C, D, H, W)")
