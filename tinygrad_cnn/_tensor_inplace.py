"""In-place Tensor methods under PyTorch's names: ``zero_()``, ``add_()``, ``-=``, ``normal_()``, ...

They write into the tensor's own array (views of it see the change) and return
the tensor, for the work that happens outside the graph: a hand-written
optimiser step, initialisation, clearing a gradient::

    with no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()

The rules, as PyTorch's for leaves:

* With gradient recording on (outside ``no_grad()``), a tensor that requires
  grad cannot be changed in place: a ``RuntimeError``.  For a leaf (a weight)
  the change belongs under ``no_grad()``.  For an intermediate result this
  package records no in-place operations in the graph (PyTorch rewrites the
  graph instead); write ``y = y + x`` out of place.  Likewise an operand that
  requires grad would be silently dropped from the graph, so it is refused.
* A tensor that does not require grad (an input, a gradient, a buffer) can be
  changed in place anywhere.
* Every in-place method bumps the version counter of the memory it writes
  (``_versions.py``).  Should that memory have been saved by a recorded
  operation (an input of ``x * w`` changed under ``no_grad()`` before
  ``backward()``), backward raises a ``RuntimeError`` rather than return a
  gradient computed from the changed values.

Results keep the tensor's shape and dtype: ``other`` must broadcast to the
tensor's shape, and a result that does not fit the dtype (a float added to an
integer tensor) is a ``TypeError``.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _checks
from . import _versions
from . import tensor as _tensor  # partly initialised at import time; used only inside calls
from ._random import get_rng


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Real, np.number, np.bool_))


class InplaceMethods:
    """The in-place methods of ``Tensor``; see the module docstring."""

    __slots__ = ()

    # ----------------------------------------------------------- the common checks
    def _begin_inplace(self, op: str, *operands):
        """Check that ``op`` may change this tensor in place; returns the operands as arrays."""
        if _tensor.is_grad_enabled():
            if self.requires_grad:
                if self._ctx is None:
                    raise RuntimeError(
                        f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                        f"(shape {self.shape}); do it inside `with no_grad():`"
                    )
                raise RuntimeError(
                    f"{op}: this tensor (shape {self.shape}) is the result of a recorded operation and "
                    f"in-place operations are not recorded in the graph; write it out of place "
                    f"(y = y + x) or inside `with no_grad():`"
                )
            for o in operands:
                if isinstance(o, _tensor.Tensor) and o.requires_grad:
                    raise RuntimeError(
                        f"{op}: the operand of shape {o.shape} requires grad, but an in-place operation "
                        f"is not recorded in the graph; write it out of place or inside `with no_grad():`"
                    )
        if not self.data.flags.writeable:
            raise RuntimeError(
                f"{op}: the tensor's data (shape {self.shape}) is read-only (a broadcast view such as "
                f"expand(), or a read-only array); clone() it first"
            )
        return tuple(self._inplace_operand(op, o) for o in operands)

    def _inplace_operand(self, op: str, other):
        if isinstance(other, _tensor.Tensor):
            arr = other.data
        elif isinstance(other, np.ndarray):
            arr = other
        elif _is_number(other):
            return other
        elif isinstance(other, (list, tuple)):
            arr = np.asarray(other)
        else:
            raise TypeError(f"{op}: other must be a Tensor, an array or a number, got {type(other).__name__}")
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{op}: other must hold real numbers, got dtype {arr.dtype} with shape {arr.shape}")
        if np.broadcast_shapes(arr.shape, self.shape) != self.shape:
            raise ValueError(
                f"{op}: other of shape {arr.shape} does not broadcast to the tensor's shape {self.shape}"
            )
        return arr

    def _ufunc_inplace(self, op: str, ufunc, other):
        (other,) = self._begin_inplace(op, other)
        try:
            ufunc(self.data, other, out=self.data, casting="same_kind")
        except TypeError as err:  # numpy's casting error: a float result for an integer tensor
            raise TypeError(f"{op}: the result cannot be stored in a tensor of dtype {self.dtype} "
                            f"(shape {self.shape}): {err}") from None
        _versions.bump(self.data)
        return self

    # ----------------------------------------------------------- arithmetic
    def add_(self, other, *, alpha=1):
        """self += alpha · other, in place."""
        return self._ufunc_inplace("add_", np.add, self._alpha_scaled(other, alpha, "add_"))

    def sub_(self, other, *, alpha=1):
        """self −= alpha · other, in place."""
        return self._ufunc_inplace("sub_", np.subtract, self._alpha_scaled(other, alpha, "sub_"))

    def mul_(self, other):
        """self ∘= other (elementwise), in place."""
        return self._ufunc_inplace("mul_", np.multiply, other)

    def div_(self, other):
        """self /= other (elementwise), in place; an integer tensor cannot hold the quotient."""
        return self._ufunc_inplace("div_", np.true_divide, other)

    def _alpha_scaled(self, other, alpha, op: str):
        if isinstance(alpha, (bool, np.bool_)) or not _is_number(alpha):
            raise TypeError(f"{op}: alpha must be a number, got {alpha!r}")
        if alpha == 1:
            return other
        if isinstance(other, _tensor.Tensor):
            if _tensor.is_grad_enabled() and other.requires_grad:
                return other  # refused with the message of _begin_inplace
            other = other.data
        return np.multiply(self._inplace_operand(op, other), alpha)

    def _augmented(self, op: str, ufunc, other, out_of_place):
        """``x op= other``: in place where in-place is allowed.  Where the graph is involved (x a
        recorded result, or ``other`` requiring grad, outside ``no_grad()``), PyTorch records the
        in-place op; here the name is rebound to the recorded out-of-place result, x = x op other
        (d2l's ``Y += X`` in a residual block).  Other references keep the old value."""
        if _tensor.is_grad_enabled() and (
                (self.requires_grad and self._ctx is not None)
                or (not self.requires_grad and isinstance(other, _tensor.Tensor) and other.requires_grad)):
            return out_of_place(self, other)
        return self._ufunc_inplace(op, ufunc, other)

    def __iadd__(self, other):
        return self._augmented("+=", np.add, other, type(self).__add__)

    def __isub__(self, other):
        return self._augmented("-=", np.subtract, other, type(self).__sub__)

    def __imul__(self, other):
        return self._augmented("*=", np.multiply, other, type(self).__mul__)

    def __itruediv__(self, other):
        return self._augmented("/=", np.true_divide, other, type(self).__truediv__)

    # ----------------------------------------------------------- filling
    def zero_(self):
        """Set every element to 0, in place."""
        self._begin_inplace("zero_")
        self.data[...] = 0
        _versions.bump(self.data)
        return self

    def fill_(self, value):
        """Set every element to ``value`` (a number or a one-element Tensor), in place."""
        if isinstance(value, _tensor.Tensor) and value.data.size == 1 and not value.requires_grad:
            value = value.data.reshape(()).item()
        if not _is_number(value):
            raise TypeError(f"fill_: value must be a number, got {value!r} ({type(value).__name__})")
        self._begin_inplace("fill_")
        self.data[...] = value
        _versions.bump(self.data)
        return self

    def __setitem__(self, index, value):
        """``t[index] = value`` in place (a number, array or Tensor broadcasting to the selection),
        allowed where the other in-place methods are: inside ``no_grad()`` for a tensor that
        requires grad.  Like ``copy_``, the value is converted to the tensor's dtype."""
        self._begin_inplace("item assignment")
        if isinstance(value, _tensor.Tensor):
            if value.requires_grad and _tensor.is_grad_enabled():
                raise RuntimeError(f"item assignment: the value of shape {value.shape} requires grad, but an "
                                   f"in-place operation is not recorded in the graph; write it out of place "
                                   f"(where(...)) or inside `with no_grad():`")
            value = value.data
        elif not (_is_number(value) or isinstance(value, (np.ndarray, list, tuple))):
            raise TypeError(f"item assignment: value must be a Tensor, an array or a number, got {type(value).__name__}")
        from .ops.movement import normalise_index  # the indexing rules of t[index]
        try:
            self.data[normalise_index(index)] = value
        except IndexError as e:
            raise IndexError(f"index out of range for a tensor of shape {self.shape}: {e}") from None
        except ValueError as e:
            raise ValueError(f"item assignment into a tensor of shape {self.shape}: {e}") from None
        _versions.bump(self.data)

    def copy_(self, src):
        """Copy ``src`` (a Tensor, array or number broadcasting to this shape) into the tensor,
        converting to its dtype; returns the tensor."""
        (arr,) = self._begin_inplace("copy_", src)
        np.copyto(self.data, arr, casting="unsafe")
        _versions.bump(self.data)
        return self

    def clamp_(self, min=None, max=None):
        """Limit every element to [min, max] in place; either bound may be left out."""
        if min is None and max is None:
            raise ValueError("clamp_: give at least one of min and max")
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and (isinstance(bound, (bool, np.bool_)) or not _is_number(bound)):
                raise TypeError(f"clamp_: {name} must be a number or None, got {bound!r} ({type(bound).__name__})")
        self._begin_inplace("clamp_")
        if min is not None:
            np.maximum(self.data, min, out=self.data, casting="unsafe")
        if max is not None:
            np.minimum(self.data, max, out=self.data, casting="unsafe")
        _versions.bump(self.data)
        return self

    clip_ = clamp_

    # ----------------------------------------------------------- random draws (package generator)
    def normal_(self, mean=0.0, std=1.0):
        """Fill with draws from N(mean, std²) taken from the package generator (``manual_seed``)."""
        mean = _checks.real(mean, "normal_: mean")
        std = _checks.real(std, "normal_: std", low=0.0)
        self._random_fill("normal_", lambda rng: rng.normal(mean, std, size=self.shape))
        return self

    def uniform_(self, a=0.0, b=1.0):
        """Fill with draws from U(a, b) taken from the package generator (``manual_seed``)."""
        a = _checks.real(a, "uniform_: a")
        b = _checks.real(b, "uniform_: b")
        if a > b:
            raise ValueError(f"uniform_: expects a <= b, got a={a!r}, b={b!r}")
        self._random_fill("uniform_", lambda rng: rng.uniform(a, b, size=self.shape))
        return self

    def _random_fill(self, op: str, draw) -> None:
        if self.dtype.kind != "f":
            raise TypeError(f"{op}: needs a float tensor, got dtype {self.dtype} with shape {self.shape}")
        self._begin_inplace(op)
        self.data[...] = draw(get_rng())
        _versions.bump(self.data)

    # ----------------------------------------------------------- graph membership
    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that does not require grad
        (operations recorded from it before no longer send a gradient through it)."""
        self._ctx = None
        self.requires_grad = False
        return self

