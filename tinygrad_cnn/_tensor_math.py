"""Tensor methods under PyTorch's names: arithmetic, pointwise maths, reductions, softmax.

Reductions accept PyTorch's ``dim=``/``keepdim=`` and numpy's ``axis=``/``keepdims=``
(an int, a tuple of ints, or None for all dimensions).  ``max``/``min`` follow
both conventions: with an int ``dim`` (PyTorch) they return ``(values, indices)``
and the gradient goes to the index returned; with ``axis=``, a tuple, or no
dimension they return the values alone and ties share the gradient evenly
(PyTorch's ``amax``/``amin``, and this package's numpy-style ``max(axis=)``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import _checks

#: What ``max(dim)`` / ``min(dim)`` return, as ``torch.return_types.max``: ``.values``, ``.indices``.
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
SortResult = namedtuple("sort", ["values", "indices"])


class MathMethods:
    """Arithmetic, pointwise maths, reductions and softmax; see the module docstring."""

    __slots__ = ()

    # ----------------------------------------------------------- arithmetic
    def add(self, other, *, alpha=1):
        """self + alpha · other."""
        return self + self._scaled(other, alpha, "add")

    def sub(self, other, *, alpha=1):
        """self − alpha · other."""
        return self - self._scaled(other, alpha, "sub")

    subtract = sub

    def _scaled(self, other, alpha, op: str):
        if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)):
            raise TypeError(f"{op}: alpha must be a number, got {alpha!r}")
        return other if alpha == 1 else self._wrap(other) * alpha

    def mul(self, other):
        return self * other

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode='trunc'`` rounds toward zero, ``'floor'`` toward −∞
        (integer tensors then stay integer).  No gradient flows through the rounding (zeros)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        return P.RoundedDiv.apply(self, self._wrap(other), mode=rounding_mode)

    divide = true_divide = div

    def matmul(self, other):
        return self @ other

    mm = matmul

    def pow(self, exponent):
        return self**exponent

    def neg(self):
        return -self

    def square(self):
        return self * self

    # ----------------------------------------------------------- pointwise maths
    def abs(self):
        return P.Abs.apply(self)

    def sqrt(self):
        return P.Sqrt.apply(self)

    def clamp(self, min=None, max=None):
        """Limit every element to [min, max]; either bound may be left out.  Bounds are numbers,
        or Tensors broadcast against the input (the gradient then also flows to the bound
        that an element takes, as in PyTorch)."""
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        if isinstance(min, (MathMethods, np.ndarray)) or isinstance(max, (MathMethods, np.ndarray)):
            low, high = (None if b is None else self._wrap(b) for b in (min, max))
            if self.dtype.kind == "f":  # PyTorch's promotion: integer bounds take the input's float dtype
                low, high = (b if b is None or b.dtype.kind == "f" else b.to(self.dtype) for b in (low, high))
            shapes = [t.shape for t in (self, low, high) if t is not None]
            try:
                np.broadcast_shapes(*shapes)
            except ValueError:
                raise ValueError(f"clamp: input, min and max shapes {shapes} do not broadcast") from None
            return P.ClampTensor.apply(self, low, high)
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and (isinstance(bound, (bool, np.bool_)) or not isinstance(bound, (int, float, np.number))):
                raise TypeError(f"clamp: {name} must be a number or None, got {bound!r} ({type(bound).__name__})")
        return P.Clamp.apply(self, low=min, high=max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    # ----------------------------------------------------------- more pointwise maths: ops/unary.py
    def sin(self):
        return U.Sin.apply(self)

    def cos(self):
        return U.Cos.apply(self)

    def tan(self):
        return U.Tan.apply(self)

    def log1p(self):
        return U.Log1p.apply(self)

    def expm1(self):
        return U.Expm1.apply(self)

    def log2(self):
        return U.Log2.apply(self)

    def log10(self):
        return U.Log10.apply(self)

    def exp2(self):
        return U.Exp2.apply(self)

    def rsqrt(self):
        return U.Rsqrt.apply(self)

    def reciprocal(self):
        return U.Reciprocal.apply(self)

    def erf(self):
        return U.Erf.apply(self)

    def sign(self):
        return U.Sign.apply(self)

    def floor(self):
        return self._step(U.Floor)

    def ceil(self):
        return self._step(U.Ceil)

    def round(self, *, decimals=0):
        decimals = _checks.integer(decimals, "round: decimals")
        return self._step(U.Round, decimals=decimals) if decimals else self._step(U.Round)

    def trunc(self):
        return self._step(U.Trunc)

    fix = trunc

    def _step(self, function, **kwargs):
        """floor, ceil, round and trunc keep an integer tensor as it is (and its dtype), as PyTorch."""
        if self.dtype.kind in "iub":
            return self.clone()
        return function.apply(self, **kwargs)

    def tril(self, diagonal=0):
        """The lower triangle of the last two axes (elements above the ``diagonal``-th set to 0)."""
        return self._triangle(diagonal, upper=False)

    def triu(self, diagonal=0):
        """The upper triangle of the last two axes (elements below the ``diagonal``-th set to 0)."""
        return self._triangle(diagonal, upper=True)

    def _triangle(self, diagonal, upper):
        op = "triu" if upper else "tril"
        if self.ndim < 2:
            raise ValueError(f"{op}: input must have at least 2 dimensions, got shape {self.shape}")
        return X.Triangle.apply(self, diagonal=_checks.integer(diagonal, f"{op}: diagonal"), upper=upper)

    def maximum(self, other):
        """Elementwise larger of the two (broadcast); a tie sends half the gradient to each."""
        return P.Maximum.apply(self, _broadcastable(self, self._wrap(other), "maximum"))

    def minimum(self, other):
        """Elementwise smaller of the two (broadcast); a tie sends half the gradient to each."""
        return P.Minimum.apply(self, _broadcastable(self, self._wrap(other), "minimum"))

    # ----------------------------------------------------------- reductions
    def _reduce_args(self, op, dim, keepdim, axis, keepdims):
        """Merge PyTorch's (dim, keepdim) with numpy's (axis, keepdims); returns (axes or None, keep)."""
        name = "dim"
        if axis is not None:
            if dim is not None:
                raise TypeError(f"{op}: give dim or axis, not both")
            dim, name = axis, "axis"
        keep = _checks.boolean(keepdim, "keepdim")
        if keepdims is not None:
            keep = _checks.boolean(keepdims, "keepdims") or keep
        return _checks.dims(dim, self.ndim, op, name), keep

    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        axes, keep = self._reduce_args("sum", dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        return R.Sum.apply(x, axis=axes, keepdims=keep)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        axes, keep = self._reduce_args("mean", dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        return R.Mean.apply(x, axis=axes, keepdims=keep)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """The product of the elements (all, or along the int ``dim``)."""
        if dim is not None and not _checks.is_int(dim):
            raise TypeError(f"prod: dim must be an int or None, got {dim!r}")
        axes, keep = self._reduce_args("prod", dim, keepdim, None, None)
        x = self if dtype is None else self.to(dtype)
        return X.Prod.apply(x, axis=axes, keepdims=keep)

    def logsumexp(self, dim, keepdim=False):
        """log Σ exp(x) over ``dim`` (an int or a tuple of them), computed without overflow."""
        axes, keep = self._reduce_args("logsumexp", dim, keepdim, None, None)
        _checks.float_dtype(self.dtype, "logsumexp: input", self.shape)
        return X.LogSumExp.apply(self, axis=axes, keepdims=keep)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """``max()`` the largest element; ``max(dim)`` the namedtuple (values, indices) along an
        int dim; ``max(axis=..., keepdims=...)`` or a tuple of dims the values alone;
        ``max(other_tensor)`` the elementwise maximum."""
        if isinstance(dim, (MathMethods, np.ndarray)):
            return self.maximum(dim)
        return self._extreme("max", True, dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """As :meth:`max`, for the smallest elements."""
        if isinstance(dim, (MathMethods, np.ndarray)):
            return self.minimum(dim)
        return self._extreme("min", False, dim, keepdim, axis, keepdims)

    def amax(self, dim=None, keepdim=False):
        return self._extreme("amax", True, None, keepdim, dim, None)

    def amin(self, dim=None, keepdim=False):
        return self._extreme("amin", False, None, keepdim, dim, None)

    def _extreme(self, op, largest, dim, keepdim, axis, keepdims):
        with_indices = axis is None and keepdims is None and _checks.is_int(dim)
        axes, keep = self._reduce_args(op, dim, keepdim, axis, keepdims)
        if not with_indices:
            return (R.Max if largest else R.Min).apply(self, axis=axes, keepdims=keep)
        result = MaxResult if largest else MinResult
        if self.ndim == 0:
            return result(S.Clone.apply(self), Tensor(np.int64(0)))
        d = axes[0]
        if self.shape[d] == 0:
            raise ValueError(f"{op}: cannot reduce over dimension {dim} of size 0 (shape {self.shape})")
        idx = X.arg_extreme(self.data, d, largest)
        values = X.TakeAlong.apply(self, indices=idx, axis=d)
        if not keep:
            values, idx = values.squeeze(d), np.squeeze(idx, d)
        return result(values, Tensor(np.array(idx, dtype=np.int64)))  # not the array TakeAlong keeps

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The namedtuple (values, indices) of the ``k`` largest (``largest=False``: smallest)
        elements along ``dim``, the most extreme first (NaN counts as the largest, as PyTorch);
        ties keep their order.  The gradient goes to the picked elements.  ``sorted`` is
        accepted: the result is always sorted."""
        if self.ndim == 0:
            raise ValueError("topk: a 0-d tensor has no dimension to pick from")
        d = _checks.dim(dim, self.ndim, "topk")
        k = _checks.nonneg_int(k, f"topk: k (at most the size {self.shape[d]} of dimension {dim})", self.shape[d])
        _checks.boolean(sorted, "topk: sorted")
        x = self.data
        if x.dtype.kind == "f":  # NaN first when largest, last when smallest (argsort puts NaN last)
            key = np.where(np.isnan(x), -np.inf, -x) if largest else x
        else:
            key = -x.astype(np.int64) if largest else x
        order = np.argsort(key, axis=d, kind="stable")
        idx = np.take(order, np.arange(k), axis=d)
        values = X.TakeAlong.apply(self, indices=idx, axis=d)
        return TopkResult(values, Tensor(np.array(idx, dtype=np.int64)))  # not the array TakeAlong keeps

    def cumsum(self, dim, dtype=None):
        """Running sums along ``dim`` (PyTorch's ``cumsum``); differentiable."""
        if self.ndim == 0:
            return S.Clone.apply(self if dtype is None else self.to(dtype))
        d = _checks.dim(dim, self.ndim, "cumsum")
        x = self if dtype is None else self.to(dtype)
        return X.CumSum.apply(x, axis=d)

    def sort(self, dim=-1, descending=False, stable=False):
        """The namedtuple (values, indices) of the elements sorted along ``dim`` (ties keep their
        order; NaN last ascending, first descending, as PyTorch).  The gradient follows the
        elements back to their places."""
        if self.ndim == 0:
            return SortResult(S.Clone.apply(self), Tensor(np.int64(0)))
        d = _checks.dim(dim, self.ndim, "sort")
        _checks.boolean(descending, "sort: descending")
        _checks.boolean(stable, "sort: stable")
        return SortResult(*self.topk(self.shape[d], d, largest=descending))

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort the elements along ``dim`` (see :meth:`sort`); no gradient."""
        return self.sort(dim, descending, stable).indices

    def isnan(self):
        return Tensor(np.isnan(self.data))  # boolean, outside the graph

    def isinf(self):
        return Tensor(np.isinf(self.data))

    def isfinite(self):
        return Tensor(np.isfinite(self.data))

    def any(self, dim=None, keepdim=False):
        """Whether any element (along ``dim``) is nonzero: a boolean tensor, no gradient."""
        axes, keep = self._reduce_args("any", dim, keepdim, None, None)
        return Tensor(np.asarray(np.any(self.data, axis=axes, keepdims=keep)))

    def all(self, dim=None, keepdim=False):
        """Whether every element (along ``dim``) is nonzero: a boolean tensor, no gradient."""
        axes, keep = self._reduce_args("all", dim, keepdim, None, None)
        return Tensor(np.asarray(np.all(self.data, axis=axes, keepdims=keep)))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Index of the first largest element (over all elements when ``dim`` is None); no gradient."""
        return self._arg_extreme("argmax", True, dim, keepdim, axis, keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Index of the first smallest element (over all elements when ``dim`` is None); no gradient."""
        return self._arg_extreme("argmin", False, dim, keepdim, axis, keepdims)

    def _arg_extreme(self, op, largest, dim, keepdim, axis, keepdims):
        if (axis if axis is not None else dim) is not None and not _checks.is_int(axis if axis is not None else dim):
            raise TypeError(f"{op}: dim must be an int or None, got {dim if axis is None else axis!r}")
        axes, keep = self._reduce_args(op, dim, keepdim, axis, keepdims)
        if self.data.size == 0:
            raise ValueError(f"{op}: cannot take the {op} of an empty tensor of shape {self.shape}")
        find = np.argmax if largest else np.argmin
        if axes == () or (axes is None and self.ndim == 0):
            return Tensor(np.int64(0))
        if axes is None:
            out = find(self.data, axis=None, keepdims=keep)
        else:
            out = find(self.data, axis=axes[0], keepdims=keep)
        return Tensor(np.asarray(out, dtype=np.int64))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """Σ (x − x̄)² / (N − correction) over ``dim``; ``correction`` defaults to 1 (Bessel's),
        ``unbiased=False`` means 0.  ``var(False)`` is ``var(unbiased=False)`` as in PyTorch."""
        if isinstance(dim, (bool, np.bool_)):
            dim, unbiased = None, dim
        correction = self._correction(unbiased, correction, "var")
        axes, keep = self._reduce_args("var", dim, keepdim, axis, keepdims)
        _checks.float_dtype(self.dtype, "var: input", self.shape)
        return X.Var.apply(self, axis=axes, correction=correction, keepdims=keep)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """√var, with the same arguments as :meth:`var` (zero gradient where the slice is constant)."""
        if isinstance(dim, (bool, np.bool_)):
            dim, unbiased = None, dim
        correction = self._correction(unbiased, correction, "std")
        axes, keep = self._reduce_args("std", dim, keepdim, axis, keepdims)
        _checks.float_dtype(self.dtype, "std: input", self.shape)
        return X.Std.apply(self, axis=axes, correction=correction, keepdims=keep)

    @staticmethod
    def _correction(unbiased, correction, op: str):
        if unbiased is not None and correction is not None:
            raise TypeError(f"{op}: give unbiased or correction, not both")
        if unbiased is not None:
            return 1 if _checks.boolean(unbiased, "unbiased") else 0
        # any real number, as PyTorch: N − correction ≤ 0 gives inf or nan
        return 1 if correction is None else _checks.real(correction, "correction")

    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm over ``dim`` (all elements by default): p = 2 or 'fro' (√Σx²), 1, inf
        (max |x|), -inf (min |x|), 0 (the count of non-zero elements, zero gradient), or any
        other positive number ((Σ|x|^p)^(1/p))."""
        axes, keep = self._reduce_args("norm", dim, keepdim, None, None)
        _checks.float_dtype(self.dtype, "norm: input", self.shape)
        if p in ("fro", 2):
            return X.Norm.apply(self, axis=axes, keepdims=keep)
        if isinstance(p, str) or isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.number)):
            raise TypeError(f"norm: p must be a number or 'fro', got {p!r}")
        if p == np.inf:
            return self.abs().amax(axes, keep)
        if p == -np.inf:
            return self.abs().amin(axes, keep)
        if not p >= 0:  # negative p (PyTorch's harmonic-like means) is not offered
            raise ValueError(f"norm: p must be >= 0, inf or -inf, got {p!r}")
        if p == 0:
            return (self.abs() > 0).to(self.dtype).sum(axes, keep)
        if p == 1:
            return self.abs().sum(axes, keep)
        return (self.abs() ** p).sum(axes, keep) ** (1.0 / p)

    # ----------------------------------------------------------- softmax
    def softmax(self, dim=-1, dtype=None, *, axis=None):
        """e^{x_i} / Σ_j e^{x_j} along ``dim`` (the last by default)."""
        x, d = self._softmax_args("softmax", dim, dtype, axis)
        return A.Softmax.apply(x, axis=d)

    def log_softmax(self, dim=-1, dtype=None, *, axis=None):
        """x_i − log Σ_j e^{x_j} along ``dim`` (the last by default), computed stably."""
        x, d = self._softmax_args("log_softmax", dim, dtype, axis)
        return A.LogSoftmax.apply(x, axis=d)

    def _softmax_args(self, op, dim, dtype, axis):
        if axis is not None:
            dim = axis
        x = self if dtype is None else self.to(dtype)
        _checks.float_dtype(x.dtype, f"{op}: input", x.shape)
        d = _checks.dim(dim, x.ndim, op)
        return x, (d if x.ndim else None)


def _broadcastable(a, b, op: str):
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast") from None
    return b


def _bind_late() -> None:
    """Import the op modules once ``Tensor`` exists (they import it from ``tensor.py``)."""
    global Tensor, A, P, R, S, U, X
    from .ops import activation as A
    from .ops import pointwise as P
    from .ops import reduce as R
    from .ops import reduce_extra as X
    from .ops import shape as S
    from .ops import unary as U
    from .tensor import Tensor


Tensor = A = P = R = S = U = X = None  # bound by _bind_late
