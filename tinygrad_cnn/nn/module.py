"""The base of every layer: ``Parameter``, ``Module`` and the seeded generator.

A :class:`Module` finds its parameters by looking at its own attributes, in the
order they were assigned: a :class:`Parameter`, another ``Module``, or a
list/tuple/dict holding Modules or Parameters.  Assigning one is registering it,
as in PyTorch.  Names are dotted paths: ``c1.weight``, ``layers.0.bias``, and
``0.weight`` inside a :class:`Sequential`.  Plain Tensors (even with
``requires_grad=True``) are not parameters; wrap them in ``Parameter``, or
register them with :meth:`Module.register_buffer` to make them state that is
saved but not trained (batch norm's running statistics).

Initialisation draws from one module-level ``np.random.Generator``;
:func:`manual_seed` resets it, so the same seed builds the same network.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from .. import _checks as check
from .. import _versions
from .._dtypes import as_dtype, get_default_dtype
from ..tensor import Tensor

__all__ = ["manual_seed", "get_rng", "Parameter", "Module"]

# --------------------------------------------------------------- random initialisation
# One generator for the whole package (init, dropout, shuffling, randn): seeding it
# here is seeding it everywhere, as torch.manual_seed.
from .._random import get_rng, manual_seed  # noqa: E402


class _Parameters(list):
    """What ``Module.parameters()`` returns: a list, and an iterator for ``next(model.parameters())``."""

    __slots__ = ("_next",)

    def __next__(self):
        i = getattr(self, "_next", 0)
        if i >= len(self):
            raise StopIteration
        self._next = i + 1
        return self[i]


def _uniform(bound: float, shape) -> np.ndarray:
    """U(−bound, bound) in the default dtype, from the package generator."""
    return get_rng().uniform(-bound, bound, size=shape).astype(get_default_dtype())


def _count(n: int) -> str:
    return f"{n:,}"


# --------------------------------------------------------------- Parameter
class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module: it requires grad unless told otherwise.

    ``data`` may be a numpy array (float32/float64 kept, other dtypes become the
    default dtype), a Tensor (its array is shared, not copied), a list or a scalar
    (the default dtype, as ``Tensor([1., 2.])``: float32 unless
    ``tinygrad_cnn.set_default_dtype`` changed it) or nothing (an empty parameter).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        if data is None:
            data = np.empty(0, dtype=get_default_dtype())
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Parameter: data must be numeric, got dtype {arr.dtype} with shape {arr.shape}")
        numpy_float = isinstance(data, (np.ndarray, np.generic)) and arr.dtype in (np.float32, np.float64)
        if not numpy_float:
            arr = arr.astype(get_default_dtype())
        super().__init__(arr, requires_grad=check.boolean(requires_grad, "Parameter: requires_grad"))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# --------------------------------------------------------------- Module
_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _buffer_value(value, name: str):
    """What a buffer may hold: a Tensor (arrays are wrapped) or None."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' (Tensor or None expected)")


class Module:
    """Base class of every layer and model.

    Subclasses assign their Parameters and sub-Modules as attributes in
    ``__init__`` (after ``super().__init__()``) and define ``forward``;
    calling the module calls ``forward``.  Every module has a ``training`` flag
    (:meth:`train`, :meth:`eval`) that dropout and batch norm read.
    """

    training = True  # class default, so a subclass that forgets super().__init__() still works

    def __init__(self):
        self.training = True

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------- registration
    @property
    def _buffer_names(self) -> dict:
        """name -> persistent, for the buffers registered on this module (created on first use)."""
        names = self.__dict__.get("_buffers_persistent")
        if names is None:
            names = {}
            object.__setattr__(self, "_buffers_persistent", names)
        return names

    def __setattr__(self, name, value):
        """Assigning a Parameter or Module registers it (it is found in assignment order);
        a registered buffer takes a Tensor or None; a parameter's name takes a Parameter or None."""
        buffers = self.__dict__.get("_buffers_persistent")
        if buffers is not None and name in buffers:
            value = _buffer_value(value, name)
        elif (isinstance(self.__dict__.get(name), Parameter) and value is not None
              and not isinstance(value, Parameter)):
            raise TypeError(
                f"cannot assign {type(value).__name__} as parameter '{name}' (Parameter or None expected)"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._buffer_names.pop(name, None)
        object.__delattr__(self, name)

    def _check_new_name(self, name, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name must be a non-empty str without '.', got {name!r}")

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """State that is not a parameter (e.g. running statistics): in ``state_dict`` (unless
        ``persistent=False``), cast by ``to``/``float``/``double``, never in ``parameters()``."""
        self._check_new_name(name, "buffer")
        check.boolean(persistent, "register_buffer: persistent")
        if name in self.__dict__ and name not in self._buffer_names:
            raise KeyError(f"attribute '{name}' already exists")
        self._buffer_names[name] = persistent
        setattr(self, name, tensor)

    def register_parameter(self, name: str, param) -> None:
        """Add ``param`` (a Parameter or None) under ``name``."""
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter '{name}' (Parameter or None expected)")
        if name in self._buffer_names:
            raise KeyError(f"attribute '{name}' already exists as a buffer")
        setattr(self, name, param)

    def add_module(self, name: str, module) -> None:
        """Add a child module (or None) under ``name``."""
        self._check_new_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module")
        setattr(self, name, module)

    register_module = add_module

    # ----------------------------------------------------------- discovery
    def _own_entries(self):
        """(name, value, kind) held directly by this module, in assignment order; kind is
        'parameter', 'module' or 'buffer' (containers override this)."""
        buffers = self.__dict__.get("_buffers_persistent") or {}
        for name, value in vars(self).items():
            if name in buffers:
                yield name, value, "buffer"
            elif isinstance(value, Parameter):
                yield name, value, "parameter"
            elif isinstance(value, Module):
                yield name, value, "module"
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{i}", item, "parameter" if isinstance(item, Parameter) else "module"
            elif isinstance(value, Mapping):
                for key, item in value.items():
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{key}", item, "parameter" if isinstance(item, Parameter) else "module"

    def _own_items(self):
        """(name, Parameter-or-Module) pairs held directly by this module, in assignment order."""
        for name, value, kind in self._own_entries():
            if kind != "buffer":
                yield name, value

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module ('' or ``prefix``) and all below it, each once."""
        seen = set() if memo is None else memo

        def walk(module, name):
            if remove_duplicate:
                seen.add(id(module))
            yield name, module
            for child_name, child in module._own_items():
                if isinstance(child, Module) and id(child) not in seen:
                    yield from walk(child, f"{name}.{child_name}" if name else child_name)

        if id(self) in seen:
            return
        yield from walk(self, prefix)

    def modules(self):
        """This module and every module below it (each once)."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, module) for the direct sub-modules (each once)."""
        seen = set()
        for name, value in self._own_items():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_state(self, prefix: str, recurse: bool, kinds: tuple):
        """(dotted name, value, kind) for the parameters and/or buffers, each object once."""
        seen_values, seen_modules = set(), set()

        def walk(module, pre):
            # PyTorch's order: the module's own parameters, then its own buffers (each in the
            # order they were assigned), then each sub-module's, depth first
            seen_modules.add(id(module))
            entries = list(module._own_entries())
            for wanted in kinds:
                for name, value, kind in entries:
                    if kind == wanted and value is not None and id(value) not in seen_values:
                        seen_values.add(id(value))
                        yield pre + name, value, kind, module, name
            if recurse:
                for name, value, kind in entries:
                    if kind == "module" and id(value) not in seen_modules:
                        yield from walk(value, pre + name + ".")

        yield from walk(self, prefix + "." if prefix else "")

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, Parameter): a module's own in assignment order, then its sub-modules'
        (PyTorch's order); a shared Parameter appears once."""
        for name, value, *_ in self._named_state(prefix, recurse, ("parameter",)):
            yield name, value

    def parameters(self, recurse: bool = True):
        """Every Parameter of this module and its sub-modules, each once: a list (``len``,
        indexing) that ``next()`` also steps through, as through PyTorch's generator."""
        return _Parameters(p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, buffer Tensor) in registration order (None buffers skipped)."""
        for name, value, *_ in self._named_state(prefix, recurse, ("buffer",)):
            yield name, value

    def buffers(self, recurse: bool = True):
        return [b for _, b in self.named_buffers(recurse=recurse)]

    def get_submodule(self, target: str):
        """The module at dotted path ``target`` ('' is this module)."""
        modules = dict(self.named_modules())
        if target not in modules:
            raise AttributeError(f"{type(self).__name__} has no submodule {target!r}")
        return modules[target]

    def num_parameters(self) -> int:
        """Number of elements in all parameter tensors (connection-masked weights included)."""
        return sum(p.numel() for p in self.parameters())

    def _own_trainable_parameter_count(self) -> int:
        """Trainable elements held directly by this module (layers with masks override this)."""
        total = 0
        for _, value in self._own_items():
            if isinstance(value, Parameter) and value.requires_grad:
                total += value.numel()
        return total

    def trainable_parameter_count(self) -> int:
        """Number of free, trainable weights: like :meth:`num_parameters` but a
        :class:`Conv2d` with a connection table counts only its connected kernels
        (LeNet-5's C3: 60 kernels · 25 + 16 biases = 1,516)."""
        return sum(m._own_trainable_parameter_count() for m in self.modules())

    # ----------------------------------------------------------- modes, gradients, dtypes
    def train(self, mode: bool = True):
        """Set the ``training`` flag of this module and every sub-module; returns ``self``.

        Dropout drops and batch norm uses (and updates) batch statistics only in training mode.
        """
        mode = check.boolean(mode, "train(mode): mode")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """``train(False)``; returns ``self``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` on every parameter (freeze with False); returns ``self``."""
        flag = check.boolean(requires_grad, "requires_grad_: requires_grad")
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``grad`` becomes ``None`` (or zeros with ``set_to_none=False``)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                np.asarray(p.grad)[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, then on this one (as PyTorch); returns ``self``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype):
        """Parameters and float buffers to ``dtype`` (new arrays; gradients dropped)."""
        for p in self.parameters():
            if p.dtype != dtype:
                p.data = p.data.astype(dtype)
            p.grad = None
        for b in self.buffers():
            if b.dtype.kind == "f" and b.dtype != dtype:
                b.data = b.data.astype(dtype)
        return self

    def double(self):
        """Convert every parameter and float buffer to float64 in place (for gradcheck); returns ``self``."""
        return self._cast(np.dtype(np.float64))

    def float(self):
        """Convert every parameter and float buffer to float32 in place; returns ``self``."""
        return self._cast(np.dtype(np.float32))

    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """``to('cpu')``, ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype).

        'cpu' is the only device, so only a dtype changes anything: parameters and float
        buffers are cast in place.  Returns ``self``.
        """
        from .. import _dtypes

        dtype, _ = _dtypes.to_arguments(args, dtype, device)
        if dtype is not None:
            dtype = as_dtype(dtype, "to: dtype")
            if dtype.kind != "f":
                raise TypeError(f"Module.to only accepts float dtypes, got {dtype}")
            self._cast(dtype)
        return self

    def cpu(self):
        return self

    # ----------------------------------------------------------- state
    def _state_entries(self):
        """(name, Tensor, owner module, attribute) for the parameters and persistent buffers."""
        for name, value, kind, owner, attr in self._named_state("", True, ("parameter", "buffer")):
            if kind == "parameter" or owner._buffer_names.get(attr, True):
                yield name, value

    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> dict:
        """``{dotted name: copy of the array}``: parameters and persistent buffers, in assignment order.

        Names are PyTorch's (``0.weight``, ``bn.running_mean``, ``bn.num_batches_tracked``).
        Architecture (kernel sizes, strides, connection tables) is not state and is not
        included.  ``tinygrad_cnn.save(module, path)`` writes it to an ``.npz``;
        ``keep_vars=True`` gives the Tensors themselves.
        """
        return {prefix + name: (t if keep_vars else t.data.copy()) for name, t in self._state_entries()}

    def load_state_dict(self, state, strict: bool = True):
        """Copy the arrays of ``state`` (name → array or Tensor) into the parameters and buffers.

        Everything is checked before anything changes: with ``strict=True`` a
        missing or unexpected name is an error; a shape mismatch or non-numeric array
        always is.  One ``ValueError`` lists every problem.  Values are cast to each
        target's dtype and copied in place.  Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, got {type(state).__name__}")
        targets = dict(self._state_entries())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(map(str, unexpected)))
        staged = []
        for name, p in targets.items():
            if name not in state:
                continue
            value = state[name]
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            if arr.dtype.kind not in "biuf":
                problems.append(f"{name}: dtype {arr.dtype} is not numeric")
            elif arr.shape != p.shape:
                problems.append(f"shape mismatch for {name}: expected {p.shape}, got {arr.shape}")
            else:
                staged.append((p, arr))
        if problems:
            raise ValueError(
                f"load_state_dict: cannot load into {type(self).__name__}: " + "; ".join(problems)
            )
        for p, arr in staged:
            if p.data.flags.writeable:
                np.copyto(p.data, arr, casting="unsafe")
                _versions.bump(p.data)  # an in-place write: a pending backward that saved it refuses
            else:
                p.data = arr.astype(p.dtype, copy=True)
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The text between this module's parentheses when it has no children."""
        return ""

    def _child_lines(self) -> list:
        return [f"({name}): {child._repr_body()}" for name, child in self.named_children()]

    def _repr_body(self) -> str:
        lines = [line.replace("\n", "\n  ") for line in self._child_lines()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join("  " + line for line in lines) + "\n)"

    def __repr__(self) -> str:
        """PyTorch's nested layout; a module with sub-modules adds its trainable-parameter count."""
        if next(self.named_children(), None) is None:
            return self._repr_body()
        total = self.trainable_parameter_count()
        dense = self.num_parameters()
        note = f"# trainable parameters: {_count(total)}"
        if dense != total:
            note += f" ({_count(dense)} stored, incl. masked-out weights)"
        return self._repr_body() + "\n" + note


# Containers (Sequential, ModuleList, ModuleDict) live in nn/container.py; Sequential is
# re-exported here for code that imported it from this module.
from .container import Sequential  # noqa: E402,F401
