"""The base of every layer: ``Parameter``, ``Module``, ``Sequential`` and the seeded generator.

A :class:`Module` finds its parameters by looking at its own attributes, in the
order they were assigned: a :class:`Parameter`, another ``Module``, or a
list/tuple/dict holding Modules or Parameters.  Names are dotted paths, as in
PyTorch: ``c1.weight``, ``layers.0.bias``, and ``0.weight`` inside a
:class:`Sequential`.  Plain Tensors (even with ``requires_grad=True``) are not
parameters; wrap them in ``Parameter``.

Initialisation draws from one module-level ``np.random.Generator``;
:func:`manual_seed` resets it, so the same seed builds the same network.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from .. import _checks as check
from .._dtypes import get_default_dtype
from ..tensor import Tensor

__all__ = ["manual_seed", "get_rng", "Parameter", "Module", "Sequential"]

# --------------------------------------------------------------- random initialisation
# One generator for the whole package (init, dropout, shuffling, randn): seeding it
# here is seeding it everywhere, as torch.manual_seed.
from .._random import get_rng, manual_seed  # noqa: E402


def _uniform(bound: float, shape) -> np.ndarray:
    """U(−bound, bound) as float32, from the module-level generator."""
    return get_rng().uniform(-bound, bound, size=shape).astype(np.float32)


def _count(n: int) -> str:
    return f"{n:,}"


# --------------------------------------------------------------- Parameter
class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module: it always requires grad.

    ``data`` may be a numpy array (float32/float64 kept, other dtypes become the
    default dtype), a Tensor (its array is shared, not copied), a list or a
    scalar (the default dtype, float32 unless ``set_default_dtype`` changed it).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        given_array = isinstance(data, np.ndarray)
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Parameter: data must be numeric, got dtype {arr.dtype} with shape {arr.shape}")
        if not given_array or arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(get_default_dtype())
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# --------------------------------------------------------------- Module
_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model.

    Subclasses assign their Parameters and sub-Modules as attributes in
    ``__init__`` (after ``super().__init__()``) and define ``forward``;
    calling the module calls ``forward``.
    """

    training = True  # class default, so a subclass that forgets super().__init__() still works

    def __init__(self):
        self.training = True

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------- discovery
    def _own_items(self):
        """(name, Parameter-or-Module) pairs held directly by this module, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{i}", item
            elif isinstance(value, Mapping):
                for key, item in value.items():
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{key}", item

    def named_modules(self, prefix: str = ""):
        """(dotted name, module) for this module ('' or ``prefix``) and all below it, each once."""
        seen = set()

        def walk(module, name):
            seen.add(id(module))
            yield name, module
            for child_name, child in module._own_items():
                if isinstance(child, Module) and id(child) not in seen:
                    yield from walk(child, f"{name}.{child_name}" if name else child_name)

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

    def named_parameters(self, prefix: str = ""):
        """(dotted name, Parameter) in attribute-assignment order; a shared Parameter appears once."""
        seen_params, seen_modules = set(), set()

        def walk(module, pre):
            seen_modules.add(id(module))
            for name, value in module._own_items():
                if isinstance(value, Parameter):
                    if id(value) not in seen_params:
                        seen_params.add(id(value))
                        yield pre + name, value
                elif id(value) not in seen_modules:
                    yield from walk(value, pre + name + ".")

        yield from walk(self, prefix + "." if prefix else "")

    def parameters(self):
        """Every Parameter of this module and its sub-modules (a list, each once)."""
        return [p for _, p in self.named_parameters()]

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

    # ----------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True):
        """Set the ``training`` flag of this module and every sub-module; returns ``self``."""
        mode = check.boolean(mode, "train(mode): mode")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """``train(False)``; returns ``self``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget accumulated gradients: every parameter's ``grad`` becomes ``None``."""
        for p in self.parameters():
            p.grad = None

    def _cast(self, dtype):
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def double(self):
        """Convert every parameter to float64 in place (for gradcheck); returns ``self``."""
        return self._cast(np.float64)

    def float(self):
        """Convert every parameter to float32 in place; returns ``self``."""
        return self._cast(np.float32)

    # ----------------------------------------------------------- state
    def state_dict(self) -> dict:
        """``{dotted name: copy of the parameter's array}`` in :meth:`named_parameters` order.

        Architecture (kernel sizes, strides, connection tables) is not state and is not
        included.  ``tinygrad_cnn.save(module, path)`` writes it to an ``.npz``.
        """
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state, strict: bool = True):
        """Copy the arrays of ``state`` (name → array or Tensor) into the parameters.

        Everything is checked before any parameter changes: with ``strict=True`` a
        missing or unexpected name is an error; a shape mismatch or non-numeric array
        always is.  One ``ValueError`` lists every problem.  Values are cast to each
        parameter's dtype and copied in place.  Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(map(str, unexpected)))
        staged = []
        for name, p in params.items():
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
            else:
                p.data = arr.astype(p.dtype, copy=True)
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The text between this module's parentheses when it has no children."""
        return ""

    def _repr_body(self) -> str:
        lines = []
        for name, child in self.named_children():
            child_text = child._repr_body().replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"

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


class Sequential(Module):
    """Layers applied in order.  Indexable, iterable, ``len``; parameter names ``0.weight``, ``1.bias``, …"""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: argument {i} must be a Module, got {type(layer).__name__}")
            setattr(self, str(i), layer)

    def _layers(self) -> list:
        return [v for k, v in vars(self).items() if k.isdigit()]

    def append(self, layer):
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(layer).__name__}")
        setattr(self, str(len(self)), layer)
        return self

    def __len__(self) -> int:
        return len(self._layers())

    def __iter__(self):
        return iter(self._layers())

    def __getitem__(self, index):
        layers = self._layers()
        if isinstance(index, slice):
            return Sequential(*layers[index])
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential indices must be int or slice, got {type(index).__name__}")
        if not -len(layers) <= index < len(layers):
            raise IndexError(f"Sequential index {index} out of range for {len(layers)} layers")
        return layers[index]

    def forward(self, x):
        for layer in self._layers():
            x = layer(x)
        return x
