"""Tensor methods under PyTorch's names: sizes, views, dtypes, devices, conversions.

``Tensor`` inherits :class:`TensorMethods`, which gathers these shape and
conversion methods with the arithmetic and reductions of ``_tensor_math.py``.
Every method here that moves elements is a ``Reshape``, ``Transpose`` or one of
the ops in ``ops/shape.py``, so gradients flow through all of them.

Where numpy and PyTorch disagree on a name, PyTorch wins and numpy's spelling
stays available where the old API used it: ``transpose(d0, d1)`` swaps two
dimensions (``transpose()`` and ``transpose(perm)`` with a full permutation keep
numpy's meaning), ``size()`` is a method (``numel()`` counts the elements).
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import _dtypes
from ._tensor_extra import ExtraMethods
from ._tensor_inplace import InplaceMethods
from ._tensor_math import MathMethods


class Size(tuple):
    """The shape as PyTorch reports it: a tuple (``Size([2, 3]) == (2, 3)``) with ``numel()``."""

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self) -> str:
        return f"Size({list(self)})"


# PyTorch's legacy type names, for t.type() and t.type('torch.FloatTensor').
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
               "int32": "IntTensor", "bool": "BoolTensor", "uint8": "ByteTensor", "int16": "ShortTensor"}


class ShapeMethods:
    """Sizes, views and conversions; see the module docstring."""

    __slots__ = ()

    # ----------------------------------------------------------- sizes
    def size(self, dim=None):
        """The shape as a tuple, or with ``dim`` the length of that dimension (an int)."""
        if dim is None:
            return Size(self.data.shape)
        if self.data.ndim == 0:
            raise ValueError(f"size: a 0-d tensor has no dimension {dim!r}; use size() or numel()")
        return self.data.shape[_checks.dim(dim, self.data.ndim, "size")]

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim

    def __float__(self) -> float:
        return float(self._one_element("float"))

    def __int__(self) -> int:
        return int(self._one_element("int"))

    def __index__(self) -> int:
        """A one-element integer tensor as an index (``classes[label]``, ``range(n)``), as PyTorch."""
        if self.data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of a single element can be used as an index, "
                            f"got dtype {self.dtype} with shape {self.shape}")
        return int(self._one_element("index"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's number; an empty spec gives ``str()``."""
        if self.data.size == 1 and spec:
            return format(self._one_element("format"), spec)
        if spec:
            raise TypeError(f"format: only a one-element tensor takes a format spec ({spec!r}), got shape {self.shape}")
        return str(self)

    def _one_element(self, what: str):
        if self.data.size != 1:
            raise ValueError(f"{what}(): only a one-element tensor converts to a Python number, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        """Nested Python lists of Python numbers (a plain number for a 0-d tensor)."""
        return self.data.tolist()

    # ----------------------------------------------------------- views
    def view(self, *shape):
        """The same elements in a new shape (one size may be -1); a view of the data when possible."""
        return M.Reshape.apply(self, shape=self._new_shape(shape, "view"))

    def view_as(self, other):
        return self.view(_checks.tensor(other, "other").shape)

    def _new_shape(self, shape, op: str) -> tuple:
        shape = _checks.size_args(shape, op, "shape", allow_infer=True)
        if shape.count(-1) > 1:
            raise ValueError(f"{op}: only one size may be -1, got {shape}")
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        n = self.data.size
        if (-1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known)):
            raise ValueError(f"{op}: shape {shape} is invalid for a tensor of shape {self.shape} ({n} elements)")
        return shape

    def permute(self, *dims):
        """Reorder the dimensions: ``permute(2, 0, 1)`` or ``permute((2, 0, 1))``."""
        order = self._permutation(dims, "permute")
        return M.Transpose.apply(self, axes=order)

    def _permutation(self, dims, op: str) -> tuple:
        items = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else tuple(dims)
        order = tuple(_checks.dim(d, self.ndim, op, "dims") for d in items)
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"{op}: dims {items} are not a permutation of the {self.ndim} dimensions of shape {self.shape}")
        return order

    def transpose(self, *dims):
        """``transpose(d0, d1)`` swaps two dimensions (PyTorch).  Kept from numpy: ``transpose()``
        reverses all dimensions and ``transpose(perm)`` / ``transpose(*perm)`` with a full
        permutation of three or more dimensions applies it."""
        if len(dims) == 2 and all(_checks.is_int(d) for d in dims):
            d0 = _checks.dim(dims[0], self.ndim, "transpose", "dim0")
            d1 = _checks.dim(dims[1], self.ndim, "transpose", "dim1")
            order = list(range(self.ndim))
            if self.ndim:
                order[d0], order[d1] = order[d1], order[d0]
            return M.Transpose.apply(self, axes=tuple(order))
        if not dims:
            return M.Transpose.apply(self, axes=None)
        return M.Transpose.apply(self, axes=self._permutation(dims, "transpose"))

    def t(self):
        """The transpose of a matrix (0-D and 1-D tensors come back as they are)."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with at most 2 dimensions, got shape {self.shape}; use transpose(d0, d1)")
        return M.Transpose.apply(self, axes=None)

    def unsqueeze(self, dim):
        """Insert a dimension of size 1 at ``dim`` (``-1`` appends one)."""
        d = _checks.dim(dim, self.ndim, "unsqueeze", extra=1)
        return M.Reshape.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        """Drop dimensions of size 1 (only those in ``dim`` when given; others are left alone)."""
        chosen = _checks.dims(dim, self.ndim, "squeeze")
        chosen = range(self.ndim) if chosen is None else chosen
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in chosen and n == 1))
        return M.Reshape.apply(self, shape=shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge dimensions ``start_dim..end_dim`` (inclusive) into one, row by row (C order)."""
        start = _checks.dim(start_dim, self.ndim, "flatten", "start_dim")
        end = _checks.dim(end_dim, self.ndim, "flatten", "end_dim")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        if self.ndim == 0:
            return M.Reshape.apply(self, shape=(1,))
        merged = int(np.prod(self.shape[start:end + 1], dtype=np.int64))
        return M.Reshape.apply(self, shape=self.shape[:start] + (merged,) + self.shape[end + 1:])

    def expand(self, *sizes):
        """Broadcast to ``sizes`` without copying (-1 keeps a size; new dimensions go in front)."""
        sizes = _checks.size_args(sizes, "expand", "sizes", allow_infer=True)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: sizes {sizes} have fewer dimensions than the tensor's shape {self.shape}")
        target = []
        for i, s in enumerate(sizes):
            old = self.shape[i - lead] if i >= lead else None
            if s == -1:
                if old is None:
                    raise ValueError(f"expand: -1 is not allowed for a new leading dimension, got sizes {sizes}")
                s = old
            elif old is not None and old != 1 and old != s:
                raise ValueError(f"expand: the size {old} of dimension {i - lead} of shape {self.shape} "
                                 f"cannot expand to {s} (sizes {sizes}); only size-1 dimensions expand")
            target.append(s)
        return S.Expand.apply(self, shape=tuple(target))

    def expand_as(self, other):
        return self.expand(_checks.tensor(other, "other").shape)

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the listed
        sizes (which must add up to the dimension's size), as PyTorch; views through indexing,
        so each piece's gradient flows back to its slice."""
        d = _checks.dim(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = [_checks.nonneg_int(s, "split: a section size") for s in split_size_or_sections]
            if sum(sizes) != n:
                raise ValueError(f"split: sections {list(sizes)} add up to {sum(sizes)}, not to the size {n} "
                                 f"of dimension {dim} (shape {self.shape})")
        else:
            size = _checks.positive_int(split_size_or_sections, "split: split_size")
            sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
        pieces, start = [], 0
        for s in sizes:
            pieces.append(self[(slice(None),) * d + (slice(start, start + s),)])
            start += s
        return tuple(pieces)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces of ⌈size/chunks⌉ along ``dim`` (fewer when they run out), as PyTorch."""
        chunks = _checks.positive_int(chunks, "chunk: chunks")
        d = _checks.dim(dim, self.ndim, "chunk")
        n = self.shape[d]
        return self.split(max(1, -(-n // chunks)), d)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype (or ``dtype``), as PyTorch's."""
        from . import _factories
        return _factories.zeros(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        from . import _factories
        return _factories.ones(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        from . import _factories
        return _factories.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                               requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new tensor of ``data`` with this tensor's dtype (or ``dtype``)."""
        from . import _factories
        return _factories.tensor(data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def gather(self, dim, index):
        """PyTorch's ``gather``: out[i][j] = self[index[i][j]][j] for ``dim=0`` (and so on):
        ``index`` is an integer tensor with this tensor's number of dimensions, no larger along
        the others, and values in [0, size along ``dim``).  Differentiable with respect to self."""
        d = _checks.dim(dim, self.ndim, "gather")
        idx = self._positions(index, d, "gather", "an integer tensor")
        if idx.ndim != self.ndim or any(s > t for a, (s, t) in enumerate(zip(idx.shape, self.shape)) if a != d):
            raise ValueError(f"gather: index of shape {idx.shape} must have the {self.ndim} dimensions of "
                             f"the input {self.shape}, no larger except along dim {dim}")
        return M.Gather.apply(self, index=idx, axis=d)

    def index_select(self, dim, index):
        """The slices at the 1-D integer ``index`` along ``dim`` (repeats allowed; their gradients add)."""
        d = _checks.dim(dim, self.ndim, "index_select")
        idx = self._positions(index, d, "index_select", "a 1-D integer tensor", ndim=1)
        return self[(slice(None),) * d + (type(self)(idx),)]

    def _positions(self, index, d, op, what, ndim=None):
        """``index`` as a new int64 array of positions along axis ``d``, each in [0, size)."""
        idx = index.data if isinstance(index, type(self)) else np.asarray(index)
        if idx.dtype.kind not in "iu" or (ndim is not None and idx.ndim != ndim):
            raise TypeError(f"{op}: index must be {what}, got dtype {idx.dtype} with shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.shape[d]):
            raise ValueError(f"{op}: index values must lie in [0, {self.shape[d] - 1}] along dim {d} "
                             f"of shape {self.shape}, got {idx.min()} to {idx.max()}")
        return np.array(idx, dtype=np.int64)

    def roll(self, shifts, dims=None):
        """Elements shifted by ``shifts`` along ``dims``, wrapping around (``dims=None``: the
        flattened tensor, then the shape back), as PyTorch; the gradient is rolled back."""
        if dims is None:
            shift = _checks.integer(shifts, "roll: shifts")
            flat = self.reshape(-1)
            n = flat.shape[0]
            return flat.index_select(0, (np.arange(n) - shift) % n if n else np.arange(0)).reshape(self.shape)
        shifts = (shifts,) if _checks.is_int(shifts) else tuple(shifts)
        dims = (dims,) if _checks.is_int(dims) else tuple(dims)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        out = self
        for shift, dim in zip(shifts, dims):
            d = _checks.dim(dim, self.ndim, "roll")
            n = self.shape[d]
            out = out.index_select(d, (np.arange(n) - _checks.integer(shift, "roll: shifts")) % n)
        return out

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is True, this tensor elsewhere (mask broadcasting to its shape);
        the gradient flows where the mask is False."""
        from . import _factories
        m = mask.data if isinstance(mask, type(self)) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be boolean, got dtype {m.dtype} with shape {m.shape}")
        if np.broadcast_shapes(m.shape, self.shape) != self.shape:
            raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to {self.shape}")
        fill = value if isinstance(value, type(self)) else type(self)(np.asarray(value, dtype=self.dtype))
        return _factories.where(type(self)(m), fill, self)

    def repeat(self, *sizes):
        """Tile the tensor ``sizes[i]`` times along dimension i (PyTorch's ``repeat``, numpy's
        ``tile``): a copy of shape ``(sizes[i] · shape[i], ...)``; sizes beyond the tensor's
        dimensions add leading ones.  Made of reshape and expand, so its gradient is the
        sum of the copies' gradients."""
        sizes = _checks.size_args(sizes, "repeat", "sizes")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"repeat: sizes {sizes} have fewer dimensions than the tensor's shape {self.shape}")
        shape = (1,) * lead + self.shape
        spread = tuple(d for s in shape for d in (1, s))        # a new axis before each one
        copies = tuple(d for r, s in zip(sizes, shape) for d in (r, s))
        return self.reshape(spread).expand(copies).reshape(tuple(r * s for r, s in zip(sizes, shape)))

    def flip(self, *args, dims=None):
        """Reverse the order of elements along ``dims`` (``flip(0)``, ``flip(0, 1)``, ``flip((0, 1))``
        or ``flip(dims=[0, 1])``)."""
        if dims is not None and args:
            raise TypeError(f"flip: give the dims positionally or as dims=, not both (got {args!r} and {dims!r})")
        if dims is None and not args:
            raise TypeError("flip: missing the dims to reverse")
        items = dims if dims is not None else (args[0] if len(args) == 1 else args)
        axes = _checks.dims(items, self.ndim, "flip", "dims")
        return S.Flip.apply(self, axes=axes)

    def contiguous(self):
        """Itself when its data is already C-contiguous, else a differentiable contiguous copy."""
        return self if self.data.flags.c_contiguous else S.Clone.apply(self)

    def clone(self):
        """A copy of the data that stays in the graph (the gradient flows back unchanged)."""
        return S.Clone.apply(self)

    # ----------------------------------------------------------- dtypes and devices
    @property
    def device(self):
        return _dtypes.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        """There is no GPU: ``ValueError``, as ``to('cuda')`` (programs that ask
        ``cuda.is_available()`` first never call it)."""
        return self.to("cuda")

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """``to(dtype)``, ``to('cpu')``, ``to(device, dtype)``, ``to(other_tensor)`` (its dtype).

        Returns the tensor itself when nothing changes, as PyTorch does (``copy=True`` forces a copy).
        """
        dtype, _ = _dtypes.to_arguments(args, dtype, device)
        out = self if dtype is None else self._cast(_dtypes.as_dtype(dtype))
        return out.clone() if copy and out is self else out

    def _cast(self, dtype: np.dtype):
        """Float to float stays in the graph; anything else is a new tensor without a graph."""
        if dtype == self.data.dtype:
            return self
        if dtype.kind == "f" and self.data.dtype.kind == "f":
            return E.Cast.apply(self, dtype=dtype)
        return Tensor(self.data.astype(dtype))

    def type(self, dtype=None):
        """Without an argument PyTorch's type name ('tinygrad_cnn.FloatTensor'); with a dtype
        (or a name such as 'torch.LongTensor') the tensor cast to it."""
        if dtype is None:
            return f"tinygrad_cnn.{_TYPE_NAMES.get(self.data.dtype.name, self.data.dtype.name)}"
        if isinstance(dtype, str) and dtype.rpartition(".")[2] in _TYPE_NAMES.values():
            short = dtype.rpartition(".")[2]
            dtype = next(k for k, v in _TYPE_NAMES.items() if v == short)
        return self._cast(_dtypes.as_dtype(dtype))

    def float(self):
        return self._cast(_dtypes.float32)

    def double(self):
        return self._cast(_dtypes.float64)

    def long(self):
        return self._cast(_dtypes.int64)

    def int(self):
        return self._cast(_dtypes.int32)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording for this leaf on (or off); returns the tensor itself."""
        requires_grad = _checks.boolean(requires_grad, "requires_grad")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only float tensors can require grad, got dtype {self.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False): only a leaf can stop requiring grad; use detach()")
        self.requires_grad = requires_grad
        return self

    # ----------------------------------------------------------- comparisons (no gradient)
    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    # ----------------------------------------------------------- factories (numpy-era static methods)
    @staticmethod
    def zeros(*shape, dtype=None, requires_grad=False):
        return _factories.zeros(*shape, dtype=dtype, requires_grad=requires_grad)

    @staticmethod
    def ones(*shape, dtype=None, requires_grad=False):
        return _factories.ones(*shape, dtype=dtype, requires_grad=requires_grad)

    @staticmethod
    def randn(*shape, dtype=None, requires_grad=False, seed=None):
        """Standard normal draws from the package generator (``manual_seed``), or from a fresh
        generator seeded with ``seed`` when one is given."""
        return _factories.randn(*shape, dtype=dtype, requires_grad=requires_grad, generator=seed)

    # Defined last: inside the class body the name ``bool`` is this method from here on.
    def bool(self):
        return self._cast(_dtypes.bool_)


class TensorMethods(ShapeMethods, MathMethods, ExtraMethods, InplaceMethods):
    """Everything ``Tensor`` has under PyTorch's names (shape and conversion here, maths in
    ``_tensor_math.py``, more rearrangements and searches in ``_tensor_extra.py``, in-place
    updates in ``_tensor_inplace.py``)."""

    __slots__ = ()


def _bind_late() -> None:
    """Import what the methods call; ``tensor.py`` runs this once ``Tensor`` exists, because the
    op modules import ``Tensor`` and ``Function`` from it (a cycle at import time otherwise)."""
    global Tensor, M, E, S, _factories
    from . import _factories
    from .ops import elementwise as E
    from .ops import movement as M
    from .ops import shape as S
    from .tensor import Tensor
    from . import _tensor_math

    _tensor_math._bind_late()


Tensor = M = E = S = _factories = None  # bound by _bind_late
