"""The Tensor and its autograd engine.

A ``Tensor`` wraps a numpy array.  Every differentiable operation is a small
:class:`Function` subclass with ``forward`` and ``backward`` written side by
side (see ``tinygrad_cnn/ops``).  Calling ``Function.apply`` runs the forward
pass on plain numpy arrays and, when some input requires a gradient, records
the Function as the ``_ctx`` of the output: that is the whole graph.

``Tensor.backward`` orders the graph topologically with an explicit stack (a
10,000-op chain needs no recursion) and walks it in reverse, handing each
Function the gradient of the loss with respect to its output and collecting
the gradients it returns for its inputs.  Leaves (tensors created with
``requires_grad=True``) accumulate into ``.grad``.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

class _GradMode(threading.local):
    """Whether Functions record a graph, per thread (as in PyTorch): a
    ``no_grad()`` block in one thread leaves every other thread recording."""

    enabled = True


_grad_mode = _GradMode()


class _GradModeContext:
    """Base of :class:`no_grad` and :class:`enable_grad`: a context manager
    that sets the calling thread's grad mode to ``_mode`` and restores it on
    exit, and a decorator that does the same around every call."""

    _mode = True

    def __enter__(self):
        self._prev = _grad_mode.enabled
        _grad_mode.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager (and decorator) in which no graph is recorded, in the calling thread.

    >>> with no_grad():
    ...     y = model(x)        # y.requires_grad is False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager (and decorator) that records the graph again inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled:
    """Set the calling thread's grad mode to ``mode`` now; used in a ``with``
    block, restore the previous mode on exit (as PyTorch's)."""

    def __init__(self, mode: bool):
        from ._checks import boolean

        self._prev = _grad_mode.enabled
        _grad_mode.enabled = boolean(mode, "set_grad_enabled: mode")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._prev
        return False


def is_grad_enabled() -> bool:
    """Whether Functions called in this thread record a graph."""
    return _grad_mode.enabled


class Function:
    """One differentiable operation.

    Subclasses define ``forward(ctx, *arrays, **params)`` returning an array
    and ``backward(ctx, grad)`` returning one gradient (or ``None``) per
    tensor input.  ``ctx`` is the Function instance itself:
    ``ctx.save_for_backward(...)`` keeps what backward needs and
    ``ctx.needs_input_grad[i]`` says whether input ``i`` wants a gradient.
    """

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: "Tensor", **params) -> "Tensor":
        ctx = cls()
        needs = tuple(t.requires_grad for t in inputs)
        ctx.needs_input_grad = needs
        record = _grad_mode.enabled and any(needs)
        data = cls.forward(ctx, *[t.data for t in inputs], **params)
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = record
        if record:
            ctx.parents = inputs
            out._ctx = ctx
        else:
            out._ctx = None
        return out


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _to_array(data) -> np.ndarray:
    """numpy arrays keep a float32/float64 dtype; lists and scalars become float32."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "f" and data.dtype not in _FLOAT_DTYPES:
            return data.astype(np.float32)
        return data
    if isinstance(data, np.generic):
        arr = np.asarray(data)
        return arr.astype(np.float32) if arr.dtype.kind == "f" and arr.dtype not in _FLOAT_DTYPES else arr
    arr = np.asarray(data)
    if arr.dtype == object:
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} (ragged or non-numeric data)")
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float32)
    raise TypeError(f"Tensor: unsupported data of dtype {arr.dtype}")


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    ``Tensor(data, requires_grad=False)``: ``data`` is a numpy array (float32 or
    float64 kept as is; integer arrays allowed for labels and indices), a
    nested list or a scalar (both become float32).
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # numpy defers `array * tensor` to Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False):
        arr = _to_array(data)
        if requires_grad and arr.dtype not in _FLOAT_DTYPES:
            raise TypeError(
                f"requires_grad=True needs a float32 or float64 tensor, got dtype {arr.dtype} "
                f"with shape {arr.shape}; integer tensors are for labels and indices"
            )
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None

    # ----------------------------------------------------------- properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        return self.data.item()

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != np.float32:
            extra = f", dtype={self.data.dtype}" + extra
        return f"Tensor({body}{extra})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        return bool(self.data)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (no gradient flows through)."""
        return Tensor(self.data)

    # ----------------------------------------------------------- autograd
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor through the recorded graph.

        Without ``grad`` the tensor must hold one element (a loss); otherwise
        ``grad`` (array or Tensor of ``self.shape``) is dF/d(self).  The graph is
        released afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no graph; "
                "create the inputs with requires_grad=True"
            )
        if self._ctx is not None and self._ctx.parents is None:
            raise RuntimeError(_RELEASED)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicitly created only for a one-element tensor, "
                    f"got shape {self.shape}; pass grad=array of that shape"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape} but the tensor has shape {self.shape}")
            grad = grad.astype(self.dtype, copy=False)

        order = _topological_order(self)
        grads = {id(self): grad}
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:
                _accumulate_leaf(node, g)
                continue
            if ctx.parents is None:
                raise RuntimeError(_RELEASED)
            in_grads = ctx.backward(ctx, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for parent, pg in zip(ctx.parents, in_grads):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg
            if not retain_graph:
                ctx.parents = None
                ctx.saved_tensors = None

    # ----------------------------------------------------------- operators
    def _wrap(self, other) -> "Tensor":
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)) and self.data.dtype.kind == "f":
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other if isinstance(other, np.ndarray) else np.asarray(other))

    def __add__(self, other):
        return E.Add.apply(self, self._wrap(other))

    def __radd__(self, other):
        return E.Add.apply(self._wrap(other), self)

    def __sub__(self, other):
        return E.Sub.apply(self, self._wrap(other))

    def __rsub__(self, other):
        return E.Sub.apply(self._wrap(other), self)

    def __mul__(self, other):
        return E.Mul.apply(self, self._wrap(other))

    def __rmul__(self, other):
        return E.Mul.apply(self._wrap(other), self)

    def __truediv__(self, other):
        return E.Div.apply(self, self._wrap(other))

    def __rtruediv__(self, other):
        return E.Div.apply(self._wrap(other), self)

    def __pow__(self, other):
        return E.Pow.apply(self, self._wrap(other))

    def __rpow__(self, other):
        return E.Pow.apply(self._wrap(other), self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return E.MatMul.apply(self, self._wrap(other))

    def __rmatmul__(self, other):
        return E.MatMul.apply(self._wrap(other), self)

    # comparisons give boolean tensors and carry no gradient
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __getitem__(self, index):
        return M.Index.apply(self, index=M.normalise_index(index))

    # ----------------------------------------------------------- methods
    def sum(self, axis=None, keepdims: bool = False):
        return R.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return R.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return R.Max.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None) -> "Tensor":
        return Tensor(np.argmax(self.data, axis=axis))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return M.Reshape.apply(self, shape=shape)

    def flatten(self, start_dim: int = 0):
        start = start_dim % max(self.ndim, 1)
        return self.reshape(self.shape[:start] + (-1,))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return M.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        return M.Transpose.apply(self, axes=None)

    def astype(self, dtype):
        return E.Cast.apply(self, dtype=np.dtype(dtype))

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def exp(self):
        return A.Exp.apply(self)

    def log(self):
        return A.Log.apply(self)

    def tanh(self):
        return A.Tanh.apply(self)

    def sigmoid(self):
        return A.Sigmoid.apply(self)

    def relu(self):
        return A.ReLU.apply(self)

    # ----------------------------------------------------------- factories
    @staticmethod
    def zeros(*shape, dtype=np.float32, requires_grad=False):
        return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape, dtype=np.float32, requires_grad=False):
        return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(*shape, dtype=np.float32, requires_grad=False, seed=None):
        rng = np.random.default_rng(seed)
        return Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


_RELEASED = (
    "Trying to backward through the graph a second time: its saved values were freed "
    "after the first backward(); call backward(retain_graph=True) the first time if you need to"
)


def _topological_order(root: Tensor) -> list:
    """Nodes that require grad, each after all of its inputs (explicit stack, no recursion)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None and ctx.parents is not None:
            for parent in ctx.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _accumulate_leaf(leaf: Tensor, g: np.ndarray) -> None:
    if g.shape != leaf.data.shape:  # defensive: a Function must return input-shaped grads
        raise RuntimeError(f"internal error: gradient of shape {g.shape} for a tensor of shape {leaf.data.shape}")
    if leaf.grad is None:
        leaf.grad = np.array(g, dtype=leaf.data.dtype, copy=True)
    else:
        leaf.grad = leaf.grad + g.astype(leaf.data.dtype, copy=False)


# The op modules import Tensor and Function from here; bind them last.
from .ops import activation as A  # noqa: E402
from .ops import elementwise as E  # noqa: E402
from .ops import movement as M  # noqa: E402
from .ops import reduce as R  # noqa: E402
