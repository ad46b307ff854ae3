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
``requires_grad=True``) accumulate into ``.grad``, a Tensor of their own; inside
the engine gradients stay plain ndarrays.  Every gradient crossing
that boundary is checked against the shape and dtype recorded in the forward
pass, so a wrong one stops with a ``RuntimeError`` here, in Python, and never
reaches a compiled kernel.  What a backward saved is checked too: an in-place
change to it after the forward pass is a ``RuntimeError`` (see ``_versions.py``).
"""

from __future__ import annotations


import numpy as np

from . import _versions
from ._grad_checks import (assigned_grad, check_grad_count, check_saved_versions, incoming_grad,
                           returned_grad, root_grad)
from ._dtypes import get_default_dtype
from ._tensor_methods import TensorMethods


from ._grad_mode import (_backward_hook, _grad_mode, enable_grad, is_grad_enabled,  # noqa: F401 (re-exported)
                         no_grad, set_grad_enabled)


class Function:
    """One differentiable operation: the public way to add an op (worked example in
    ``docs/extending.md``).

    Subclasses define ``forward(ctx, *arrays, **params)`` returning an array
    and ``backward(ctx, grad)`` returning one gradient (or ``None``) per
    positional input.  ``ctx`` is the Function instance itself:
    ``ctx.save_for_backward(...)`` keeps what backward needs (arrays or Tensors,
    given back as they were by ``ctx.saved_tensors``; changing one in place
    before backward makes backward raise), ``ctx.needs_input_grad[i]`` says
    whether input ``i`` wants a gradient and ``ctx.mark_non_differentiable(out)``
    keeps the output out of the graph.  Call the op as ``MyOp.apply(...)``.

    Positional inputs that are not Tensors (numbers, arrays, anything) reach
    ``forward`` unchanged as constants, as in PyTorch: they get no gradient and
    backward returns ``None`` in their place.  The engine checks what flows
    through: ``backward`` receives a gradient of exactly the output's shape and
    dtype, and each gradient it returns must be ``None`` or an array (a Tensor
    is unwrapped) of its input's shape with a float dtype, otherwise a
    ``RuntimeError`` names the op, the input and both shapes.  A float
    gradient of another width is cast to the input's dtype.  A Function whose
    forward returns a non-float array (integer indices, booleans) records no
    graph: such outputs are not differentiable.

    ``fresh_grads = True`` on a subclass promises that every gradient its
    ``backward`` returns was allocated by that call, for that input alone: no
    view of ``grad``, of an input or of a saved array, and no array returned
    twice.  A leaf tensor's first gradient from such an op is then stored as
    it is, where otherwise it is copied, so that a leaf's ``.grad`` never
    shares memory (PyTorch likewise keeps a gradient nothing else holds).
    """

    saved_tensors = ()
    #: see the class docstring: backward's gradients are its own new arrays
    fresh_grads = False
    _saved_versions = None  # the saved arrays' version counters; None: all 0
    _non_differentiable = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    def save_for_backward(self, *arrays):
        """Keep ``arrays`` (numpy arrays or Tensors) for backward, as ``ctx.saved_tensors``.

        Their version counters are recorded: changing one of them in place before
        backward runs makes backward raise instead of returning a wrong gradient.
        Anything else saved (a cache the backward reads, say) is kept as it is; like
        the arrays, it is let go after backward unless the graph is retained.
        """
        self.saved_tensors = arrays
        if _versions.written:
            self._saved_versions = tuple(_versions.version(_array_of(a)) if _array_of(a) is not None else 0
                                         for a in arrays)

    def mark_non_differentiable(self, *outputs):
        """Call in ``forward`` with the array it returns: the output then records no graph
        (as integer outputs never do), so no gradient flows back through it."""
        self._non_differentiable = outputs

    @staticmethod
    def forward(ctx, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params) -> "Tensor":
        ctx = cls()
        needs, arrays, constants = [], [], False
        for t in inputs:
            if isinstance(t, Tensor):
                needs.append(t.requires_grad)
                arrays.append(t.data)
            else:
                needs.append(False)
                arrays.append(t)
                constants = True
        needs = tuple(needs)
        ctx.needs_input_grad = needs
        record = _grad_mode.enabled and any(needs)
        data = cls.forward(ctx, *arrays, **params)
        if type(data) is not np.ndarray:
            data = _forward_result(cls, data)
        out = Tensor.__new__(Tensor)
        out.data = data
        out._grad = None
        record = record and data.dtype.kind == "f"
        if ctx._non_differentiable is not None:
            record = record and not _marked_output(cls, ctx._non_differentiable, data)
        out.requires_grad = record
        if record:
            ctx.out_shape, ctx.out_dtype = data.shape, data.dtype
            ctx.parents = tuple(t if isinstance(t, Tensor) else _CONSTANT for t in inputs) if constants else inputs
            out._ctx = ctx
        else:
            out._ctx = None
        return out


def _array_of(saved):
    """The ndarray behind a saved value (None for what is neither an array nor a Tensor)."""
    if isinstance(saved, Tensor):
        return saved.data
    return saved if isinstance(saved, np.ndarray) else None


def _marked_output(cls, marked: tuple, data: np.ndarray) -> bool:
    """Whether ``mark_non_differentiable`` named the forward's output (anything else is an error)."""
    for m in marked:
        arr = m.data if isinstance(m, Tensor) else m
        if arr is not data:
            raise RuntimeError(
                f"{cls.__name__}.forward: mark_non_differentiable takes the array forward returns, "
                f"got a {type(m).__name__}{' of shape ' + str(arr.shape) if hasattr(arr, 'shape') else ''}"
            )
    return bool(marked)


def _forward_result(cls, data) -> np.ndarray:
    """What a forward returned, as a plain ndarray (numpy scalars and subclasses converted)."""
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    raise TypeError(
        f"{cls.__name__}.forward must return a numpy array, got {type(data).__name__}"
    )


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _native_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a Tensor stores for an array of ``dtype``.

    Floats become one of the two dtypes the compiled kernels are built for:
    float32 and float64 stay, a non-native byte order becomes native (same
    width), float16 widens to float32 and extended precision (longdouble)
    narrows to float64.  Other dtypes keep their kind in native byte order.
    """
    if dtype.kind == "f":
        if dtype.itemsize <= 4:
            return _FLOAT_DTYPES[0]
        return _FLOAT_DTYPES[1]
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def _to_array(data) -> np.ndarray:
    """``data`` as the plain ndarray a Tensor holds (see :class:`Tensor` for the dtype rules)."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (np.ndarray, np.generic)):
        if isinstance(data, np.ma.MaskedArray):
            raise TypeError("Tensor: a masked array would lose its mask; pass data.filled(value) instead")
        arr = np.asarray(data)  # np.matrix and other subclasses become a plain ndarray
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"Tensor: unsupported data of dtype {arr.dtype} with shape {arr.shape}")
        if arr.dtype not in _FLOAT_DTYPES:
            native = _native_dtype(arr.dtype)
            if native != arr.dtype:
                arr = arr.astype(native)
        return arr
    arr = np.asarray(data)
    if arr.dtype == object:
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} (ragged or non-numeric data)")
    if arr.dtype.kind in "biuf":
        return arr.astype(get_default_dtype())
    raise TypeError(f"Tensor: unsupported data of dtype {arr.dtype}")


class Tensor(TensorMethods):
    """An n-dimensional array that remembers how it was computed.

    ``Tensor(data, requires_grad=False)``: ``data`` is a numpy array (float32 or
    float64 kept as is; integer arrays allowed for labels and indices), a
    nested list or a scalar (both get the default dtype, float32 unless
    ``set_default_dtype`` changed it).  The methods under PyTorch's names
    (``size()``, ``view``, ``permute``, ``max(dim)``, ...) come from
    :class:`~tinygrad_cnn._tensor_methods.TensorMethods`.

    Numpy arrays become plain ndarrays (``np.matrix`` loses its matrix
    semantics, so ``*`` stays the Hadamard product; a masked array is refused)
    in native byte order.  Other float widths are converted to the two the
    compiled kernels are built for: float16 -> float32, longdouble -> float64,
    big-endian float32/float64 -> native float32/float64.
    """

    __slots__ = ("data", "_grad", "requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # numpy defers `array * tensor` to Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False):
        if type(requires_grad) is not bool and not isinstance(requires_grad, np.bool_):
            # Tensor(2, 3) is a shape in PyTorch's legacy constructor; here it would be data 2
            raise TypeError(f"Tensor: requires_grad must be True or False, got {requires_grad!r} "
                            f"(for a tensor of a given shape use zeros(...) or empty(...))")
        arr = _to_array(data)
        if requires_grad and arr.dtype not in _FLOAT_DTYPES:
            raise TypeError(
                f"requires_grad=True needs a float32 or float64 tensor, got dtype {arr.dtype} "
                f"with shape {arr.shape}; integer tensors are for labels and indices"
            )
        self.data = arr
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None

    @property
    def grad(self):
        """The accumulated gradient: ``None`` until a backward pass reaches this tensor, then a
        Tensor of its shape and dtype without a graph.  Backward passes add to it until it is
        set to ``None`` (``zero_grad()``); each leaf's gradient is its own array."""
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = assigned_grad(self, value)

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
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        """The recorded operation that made this tensor (its Function node), None for a leaf."""
        return self._ctx

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
        ``grad`` (array or Tensor of ``self.shape``, real numbers: a complex or
        non-numeric ``grad`` is a ``TypeError``) is dF/d(self).  The graph is
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
            grad = root_grad(grad, self)

        order = _topological_order(self)
        grads = {id(self): grad}
        owned = set()  # keys of the gradients in grads that no one else holds (see Function.fresh_grads)
        hook = _backward_hook.fn  # read once: None costs one comparison per node
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:
                _accumulate_leaf(node, g, id(node) in owned)
                continue
            parents = ctx.parents
            if parents is None:
                raise RuntimeError(_RELEASED)
            if g.shape != ctx.out_shape or g.dtype != ctx.out_dtype:
                g = incoming_grad(ctx, g)
            if _versions.written:  # some memory was changed in place: were saved values among it?
                check_saved_versions(ctx)
            if hook is not None:
                hook(ctx, g)
            in_grads = ctx.backward(ctx, g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(parents):
                check_grad_count(ctx, in_grads)
            for i, (parent, pg) in enumerate(zip(parents, in_grads)):
                if pg is None:
                    continue
                if not parent.requires_grad:
                    if parent is _CONSTANT:
                        raise RuntimeError(
                            f"{type(ctx).__name__}.backward returned a gradient for input {i}, "
                            f"which is not a Tensor; return None in its place"
                        )
                    continue
                pctx = parent._ctx
                shape, dtype = (parent.data.shape, parent.data.dtype) if pctx is None else (pctx.out_shape, pctx.out_dtype)
                if type(pg) is not np.ndarray or pg.shape != shape or pg.dtype != dtype:
                    pg = returned_grad(ctx, i, pg, shape, dtype)
                key = id(parent)
                prev = grads.get(key)
                if prev is None:
                    grads[key] = pg
                    if ctx.fresh_grads:
                        owned.add(key)
                else:  # a new array, whoever made the two
                    grads[key] = prev + pg
                    owned.add(key)
            if not retain_graph:
                ctx.parents = None
                ctx.saved_tensors = None

    # ----------------------------------------------------------- operators
    def _wrap(self, other) -> "Tensor":
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)) and self.data.dtype.kind == "f":
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        if isinstance(other, float):  # a Python float with integers: the default float dtype
            return Tensor(np.asarray(other, dtype=get_default_dtype()))
        return Tensor(other if isinstance(other, np.ndarray) else np.asarray(other))

    def _operands(self, other, reverse=False, divide=False) -> tuple:
        """(left, right) of an arithmetic op, promoted across kinds as PyTorch does: integers
        (or booleans) meeting floats take the floats' dtype (numpy would widen int64 with
        float32 to float64), and a true division of integers gives the default float dtype.
        Integer tensors never require grad, so the cast loses no graph."""
        a, b = self, self._wrap(other)
        if reverse:
            a, b = b, a
        fa, fb = a.data.dtype.kind == "f", b.data.dtype.kind == "f"
        if fa != fb:
            if fa:
                b = Tensor(b.data.astype(a.data.dtype))
            else:
                a = Tensor(a.data.astype(b.data.dtype))
        elif divide and not fa:
            a, b = (Tensor(t.data.astype(get_default_dtype())) for t in (a, b))
        return a, b

    def __add__(self, other):
        return E.Add.apply(*self._operands(other))

    def __radd__(self, other):
        return E.Add.apply(*self._operands(other, reverse=True))

    def __sub__(self, other):
        return E.Sub.apply(*self._operands(other))

    def __rsub__(self, other):
        return E.Sub.apply(*self._operands(other, reverse=True))

    def __mul__(self, other):
        return E.Mul.apply(*self._operands(other))

    def __rmul__(self, other):
        return E.Mul.apply(*self._operands(other, reverse=True))

    def __truediv__(self, other):
        return E.Div.apply(*self._operands(other, divide=True))

    def __rtruediv__(self, other):
        return E.Div.apply(*self._operands(other, reverse=True, divide=True))

    def __pow__(self, other):
        return E.Pow.apply(*self._operands(other))

    def __rpow__(self, other):
        return E.Pow.apply(*self._operands(other, reverse=True))

    def __neg__(self):
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return E.MatMul.apply(self, self._wrap(other))

    def __rmatmul__(self, other):
        return E.MatMul.apply(self._wrap(other), self)

    # comparisons give boolean tensors and carry no gradient
    def _compare(self, other, op):
        if isinstance(other, Tensor):
            other = other.data
        elif not isinstance(other, (np.ndarray, np.generic, int, float, bool, list, tuple)):
            return NotImplemented  # let the other object decide (pytest.approx, ...)
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
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return M.Reshape.apply(self, shape=shape)

    @property
    def T(self):
        return M.Transpose.apply(self, axes=None)

    def astype(self, dtype):
        return E.Cast.apply(self, dtype=np.dtype(dtype))

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


def _plain_tensor(arr: np.ndarray) -> Tensor:
    """A Tensor without a graph around ``arr`` (no copy, no dtype conversion)."""
    t = Tensor.__new__(Tensor)
    t.data, t._grad, t.requires_grad, t._ctx = arr, None, False, None
    return t


def _accumulate_leaf(leaf: Tensor, g: np.ndarray, owned: bool = False) -> None:
    """Add ``g`` to ``leaf.grad`` as a new array: gradients flowing through the graph may share
    memory (``a + b`` hands one array to both), a leaf's stored gradient never does.  An
    ``owned`` gradient (no one else holds it: ``Function.fresh_grads``) is kept as it is when
    it is the first and C-contiguous, instead of copied."""
    data = leaf.data
    if g.shape != data.shape or g.dtype.kind != "f":
        raise RuntimeError(
            f"gradient of shape {g.shape} and dtype {g.dtype} for a leaf tensor of shape "
            f"{data.shape} and dtype {data.dtype}; was its .data replaced after the forward pass?"
        )
    prev = leaf._grad
    if prev is None:
        owned = owned and g.dtype == data.dtype and g.flags.c_contiguous and g.flags.writeable
        total = g if owned else np.array(g, dtype=data.dtype, copy=True)
    elif prev.data.shape != data.shape:
        raise RuntimeError(f"the stored grad has shape {prev.data.shape}, but the leaf tensor has shape "
                           f"{data.shape}; set .grad = None after replacing .data")
    else:
        total = np.add(prev.data, g, out=np.empty(data.shape, data.dtype), casting="same_kind")
    leaf._grad = _plain_tensor(total)


#: Stands in the graph for a positional argument of ``Function.apply`` that is
#: not a Tensor: a constant that never requires grad.
_CONSTANT = Tensor(np.zeros(0))


# The op modules import Tensor and Function from here; bind them last.
from .ops import activation as A  # noqa: E402
from .ops import elementwise as E  # noqa: E402
from .ops import movement as M  # noqa: E402
from . import _tensor_methods  # noqa: E402

_tensor_methods._bind_late()
