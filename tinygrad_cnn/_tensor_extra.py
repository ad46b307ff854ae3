"""More Tensor methods under PyTorch's names: ``narrow``, ``tile``, ``movedim``/``moveaxis``,
``swapaxes``/``swapdims``, ``broadcast_to``, ``rot90``, ``diagonal``, ``trace``, ``diag``,
``lerp``, ``hypot``, ``masked_select`` (made of ops that already have backward rules);
``remainder``/``%``, ``fmod``, ``atan2``, ``scatter``, ``scatter_add``, ``cumprod`` (Functions of
their own); and the comparisons and searches that carry no gradient (``logical_and`` …,
``isclose``, ``nonzero``, ``argwhere``, ``count_nonzero``).
"""

from __future__ import annotations

import numpy as np

from . import _checks


class ExtraMethods:
    """See the module docstring; ``Tensor`` inherits these through ``TensorMethods``."""

    __slots__ = ()

    # ----------------------------------------------------------- views and rearrangements
    def narrow(self, dim, start, length):
        """``length`` elements of ``dim`` from ``start`` (a negative ``start`` counts from the end)."""
        d = _checks.axis(self, dim, "narrow")
        n = self.shape[d]
        if hasattr(start, "item") and getattr(start, "ndim", 1) == 0:  # a 0-d integer tensor, as PyTorch takes
            start = start.item()
        start = _checks.integer(start, "narrow: start", -n, n)
        start %= max(n, 1) if start < 0 else n + 1
        length = _checks.integer(length, "narrow: length", 0)
        if start + length > n:
            raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dimension {d} of size {n} "
                             f"(shape {self.shape})")
        index = [slice(None)] * self.ndim
        index[d] = slice(start, start + length)
        return self[tuple(index)]

    def tile(self, *dims):
        """Repeat the whole tensor ``dims`` times along each axis (ones prepended as needed)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        dims = tuple(_checks.integer(d, "tile: dims", 0) for d in dims)
        if len(dims) < self.ndim:
            dims = (1,) * (self.ndim - len(dims)) + dims
        return self.repeat(*dims)

    def movedim(self, source, destination):
        """Move axes ``source`` to ``destination`` (ints or tuples of them), the others in order."""
        src = (source,) if _checks.is_int(source) else tuple(source)
        dst = (destination,) if _checks.is_int(destination) else tuple(destination)
        if len(src) != len(dst):
            raise ValueError(f"movedim: source {source} and destination {destination} must have the same length")
        src = [_checks.axis(self, s, "movedim") for s in src]
        dst = [_checks.axis(self, d, "movedim") for d in dst]
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise ValueError(f"movedim: repeated dimension in source {source} or destination {destination}")
        order = [a for a in range(self.ndim) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return self.permute(*order)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def broadcast_to(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self.expand(*shape)

    def rot90(self, k=1, dims=(0, 1)):
        """Rotate by 90° ``k`` times in the plane of ``dims``, from the first axis towards the second."""
        k = _checks.integer(k, "rot90: k") % 4
        if not isinstance(dims, (tuple, list)) or len(dims) != 2:
            raise ValueError(f"rot90: dims must be two dimensions, got {dims!r}")
        a, b = (_checks.axis(self, d, "rot90") for d in dims)
        if a == b:
            raise ValueError(f"rot90: dims must differ, got {tuple(dims)}")
        if k == 0:
            return self.clone()
        if k == 2:
            return self.flip((a, b))
        if k == 1:
            return self.flip(b).transpose(a, b)
        return self.transpose(a, b).flip(b)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The ``offset``-th diagonal of the plane (dim1, dim2), as the last axis."""
        offset = _checks.integer(offset, "diagonal: offset")
        a, b = (_checks.axis(self, d, "diagonal") for d in (dim1, dim2))
        if a == b:
            raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
        moved = self.movedim((a, b), (-2, -1))
        n, m = moved.shape[-2:]
        rows = np.arange(max(0, -offset), max(0, min(n, m - offset)), dtype=np.int64)
        from .tensor import Tensor
        return moved[..., Tensor(rows), Tensor(rows + offset)]

    def trace(self):
        """The sum of the main diagonal of a 2-D tensor."""
        if self.ndim != 2:
            raise ValueError(f"trace: expected a 2-D tensor, got shape {self.shape}")
        return self.diagonal().sum()

    def diag(self, diagonal=0):
        """1-D: the square matrix with it on the ``diagonal``-th diagonal; 2-D: that diagonal."""
        diagonal = _checks.integer(diagonal, "diag: diagonal")
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {self.shape}")
        from .functional import pad
        from .tensor import Tensor
        n = self.shape[0]
        square = self.reshape(n, 1) * Tensor(np.eye(n, dtype=self.dtype if self.dtype.kind == "f" else np.float64))
        k = abs(diagonal)
        return pad(square, (k, 0, 0, k) if diagonal > 0 else (0, k, k, 0)) if k else square

    # ----------------------------------------------------------- arithmetic made of ops
    def lerp(self, end, weight):
        """self + weight · (end − self)."""
        return self + (self._wrap(end) - self) * weight

    def hypot(self, other):
        """√(self² + other²)."""
        other = self._wrap(other)
        return (self * self + other * other).sqrt()

    def masked_select(self, mask):
        """The elements where the (broadcast) boolean ``mask`` is True, as a 1-D tensor."""
        m = mask.data if hasattr(mask, "data") and not isinstance(mask, np.ndarray) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_select: mask must be boolean, got dtype {m.dtype}")
        shape = np.broadcast_shapes(self.shape, m.shape)
        from .tensor import Tensor
        return self.expand(*shape)[Tensor(np.broadcast_to(m, shape).copy())]

    # ----------------------------------------------------------- Functions of their own
    def remainder(self, other):
        """self − ⌊self / other⌋·other: the sign of ``other`` (Python's ``%``, PyTorch's ``remainder``)."""
        from .ops import pointwise as P
        other = self._wrap(other)
        np.broadcast_shapes(self.shape, other.shape)
        return P.Remainder.apply(self, other, mode="floor")

    def fmod(self, other):
        """self − trunc(self / other)·other: the sign of ``self`` (C's ``fmod``)."""
        from .ops import pointwise as P
        other = self._wrap(other)
        np.broadcast_shapes(self.shape, other.shape)
        return P.Remainder.apply(self, other, mode="trunc")

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        return self._wrap(other).remainder(self)

    def atan2(self, other):
        """The angle of the point (other, self), in (−π, π]."""
        from .ops import pointwise as P
        other = self._wrap(other)
        np.broadcast_shapes(self.shape, other.shape)
        return P.Atan2.apply(self, other)

    arctan2 = atan2

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """A copy with ``src``'s elements (or the number ``value``) written at the places ``index``
        names along ``dim``: out[index[i][j]][j] = src[i][j] for ``dim=0``; ``src`` may also be a number."""
        return self._scatter("scatter", dim, index, src, value, reduce, add=False)

    def scatter_add(self, dim, index, src):
        """A copy with ``src``'s elements added at the places ``index`` names along ``dim``."""
        return self._scatter("scatter_add", dim, index, src, None, None, add=True)

    def _scatter(self, op, dim, index, src, value, reduce, add):
        from .ops import movement as M
        if reduce is not None:
            raise ValueError(f"{op}: reduce={reduce!r} is not supported; use scatter_add for sums")
        if self.ndim == 0:  # a scalar: its one element, as a 1-element vector
            _checks.axis(self, dim, op)
            if src is not None and (hasattr(src, "data") or np.ndim(src) > 0):
                src = self._wrap(src).reshape(1)
            index = index.reshape(1) if hasattr(index, "reshape") else np.reshape(index, 1)
            return self.reshape(1)._scatter(op, 0, index, src, value, None, add).reshape(())
        d = _checks.axis(self, dim, op)
        idx = self._positions(index, d, op, "an integer tensor")
        if idx.ndim != self.ndim or any(s > t for a, (s, t) in enumerate(zip(idx.shape, self.shape)) if a != d):
            raise ValueError(f"{op}: index of shape {idx.shape} must have the {self.ndim} dimensions of the "
                             f"input {self.shape}, no larger except along dim {d}")
        if src is not None and not hasattr(src, "data") and np.ndim(src) == 0:
            src, value = None, src  # a number given as src, as PyTorch allows
        if src is None:
            if value is None:
                raise TypeError(f"{op}: give src (a tensor) or value (a number)")
            return M.Scatter.apply(self, index=idx, axis=d, add=add, value=_checks.real(value, f"{op}: value"))
        src = self._wrap(src)
        if src.ndim != self.ndim or any(s > t for s, t in zip(idx.shape, src.shape)):
            raise ValueError(f"{op}: src of shape {src.shape} must have the {self.ndim} dimensions of the input "
                             f"and be at least as large as index {idx.shape}")
        if src.dtype != self.dtype:
            src = src.to(self.dtype)
        return M.Scatter.apply(self, src, index=idx, axis=d, add=add)

    def cumprod(self, dim, dtype=None):
        """The running product along ``dim``."""
        from .ops import reduce_extra as X
        x = self if dtype is None else self.to(dtype)
        d = _checks.axis(x, dim, "cumprod")
        if x.ndim == 0:
            return X.CumProd.apply(x.reshape(1), axis=0).reshape(())
        return X.CumProd.apply(x, axis=d)

    # ----------------------------------------------------------- no gradient
    def _plain(self, other):
        return other.data if hasattr(other, "data") and not isinstance(other, np.ndarray) else np.asarray(other)

    def logical_and(self, other):
        return self._bools(np.logical_and(self.data, self._plain(other)))

    def logical_or(self, other):
        return self._bools(np.logical_or(self.data, self._plain(other)))

    def logical_xor(self, other):
        return self._bools(np.logical_xor(self.data, self._plain(other)))

    def logical_not(self):
        return self._bools(np.logical_not(self.data))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return self._bools(np.isclose(self.data, self._plain(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def nonzero(self, *, as_tuple=False):
        """The indices of the non-zero elements: ``(n, ndim)`` int64, or one 1-D tensor per axis."""
        from .tensor import Tensor
        where = np.nonzero(np.atleast_1d(self.data))
        if self.ndim == 0 and not as_tuple:  # a scalar: one row per non-zero, no index columns
            return Tensor(np.zeros((len(where[0]), 0), np.int64))
        if as_tuple:
            return tuple(Tensor(w.astype(np.int64)) for w in where)
        return Tensor(np.stack(where, axis=1).astype(np.int64) if where else np.zeros((0, 0), np.int64))

    def argwhere(self):
        return self.nonzero()

    def count_nonzero(self, dim=None):
        from .tensor import Tensor
        axes = None if dim is None else tuple(_checks.axis(self, d, "count_nonzero")
                                               for d in ((dim,) if _checks.is_int(dim) else dim))
        data = self.data if self.ndim else self.data.reshape(1)
        if self.ndim == 0 and axes is not None:
            axes = None  # the one axis of a scalar
        return Tensor(np.asarray(np.count_nonzero(data, axis=axes), dtype=np.int64))

    def _bools(self, array):
        from .tensor import Tensor
        return Tensor(np.asarray(array, dtype=np.bool_))
