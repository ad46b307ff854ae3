"""Layers: ``Module``, ``Parameter`` and the lecture's network building blocks.

A :class:`Module` finds its parameters by looking at its own attributes, in the
order they were assigned: a :class:`Parameter`, another ``Module``, or a
list/tuple/dict holding Modules or Parameters.  Names are dotted paths, as in
PyTorch: ``c1.weight``, ``layers.0.bias``, and ``0.weight`` inside a
:class:`Sequential`.  Plain Tensors (even with ``requires_grad=True``) are not
parameters; wrap them in ``Parameter``.

Initialisation follows PyTorch's defaults and draws from one module-level
``np.random.Generator``; :func:`manual_seed` resets it, so the same seed builds
the same network::

    nn.manual_seed(0)
    model = LeNet5()          # identical weights on every run

Layer map (lecture notation → class)::

    Z = W ⊛ V + b, with connection matrix C^m     Conv2d
    Z = max_{r,c} V                              MaxPool2d
    Z = w ⊞^{ave}_{r,c} V   (w trainable per map)  AvgPool2d(channels=...)
    v = vec(A)                                   Vec
    n = W p + b                                  Linear
    poslin / tansig / logsig                     ReLU / Tanh / Sigmoid
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from . import functional as F
from .tensor import Tensor

__all__ = [
    "manual_seed", "get_rng", "Parameter", "Module",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Subsampling", "Vec", "Linear",
    "ReLU", "Tanh", "Sigmoid", "ScaledTanh", "Sequential",
]

# --------------------------------------------------------------- random initialisation
_rng = np.random.default_rng()


def manual_seed(seed) -> np.random.Generator:
    """Reset the generator that every layer initialisation draws from; returns it."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def get_rng() -> np.random.Generator:
    """The module-level generator used by all initialisations."""
    return _rng


def _uniform(bound: float, shape) -> np.ndarray:
    """U(−bound, bound) as float32, from the module-level generator."""
    return _rng.uniform(-bound, bound, size=shape).astype(np.float32)


# --------------------------------------------------------------- argument checks
def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _pair(value, name: str, minimum: int = 1) -> tuple:
    """An int or a pair of ints, each >= ``minimum``, as a 2-tuple."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    ok = len(items) == 2 and all(
        not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= minimum for v in items
    )
    if not ok:
        kind = "positive" if minimum >= 1 else "non-negative"
        raise ValueError(f"{name} must be a {kind} int or a pair of them, got {value!r}")
    return (int(items[0]), int(items[1]))


def _count(n: int) -> str:
    return f"{n:,}"


# --------------------------------------------------------------- Parameter
class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module: it always requires grad.

    ``data`` may be a numpy array (float32/float64 kept, other dtypes become
    float32), a Tensor (its array is shared, not copied), a list or a scalar.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Parameter: data must be numeric, got dtype {arr.dtype} with shape {arr.shape}")
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float32)
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
        return sum(p.size for p in self.parameters())

    def _own_trainable_parameter_count(self) -> int:
        """Trainable elements held directly by this module (layers with masks override this)."""
        total = 0
        for _, value in self._own_items():
            if isinstance(value, Parameter) and value.requires_grad:
                total += value.size
        return total

    def trainable_parameter_count(self) -> int:
        """Number of free, trainable weights: like :meth:`num_parameters` but a
        :class:`Conv2d` with a connection table counts only its connected kernels
        (LeNet-5's C3: 60 kernels · 25 + 16 biases = 1,516)."""
        return sum(m._own_trainable_parameter_count() for m in self.modules())

    # ----------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True):
        """Set the ``training`` flag of this module and every sub-module; returns ``self``."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train(mode): mode must be a bool, got {mode!r}")
        for m in self.modules():
            m.training = bool(mode)
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


# --------------------------------------------------------------- layers
class Conv2d(Module):
    """2-D convolution layer: Z = W ⊛ V + b for every output map (``F.conv2d``).

    ``weight`` is ``(out_channels, in_channels, kh, kw)``, ``bias`` ``(out_channels,)``.
    ``connection``: optional ``(out_channels, in_channels)`` 0/1 array, the
    lecture's connection matrix C^m (LeNet-5's C3 table): output map h sums only
    over input maps l with C[h, l] = 1.  It is architecture, kept as a uint8 array
    and not part of ``state_dict``.

    Initialisation is PyTorch's default (kaiming_uniform with a = √5):
    weight and bias ~ U(−1/√fan_in, 1/√fan_in), fan_in = in_channels·kh·kw.  With a
    connection table fan_in is taken per output map and counts only its connected
    inputs (connected input maps · kh · kw); unconnected kernels start at exactly 0
    and stay there, since ``F.conv2d`` gives them exactly zero gradient.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, connection=None):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        if isinstance(padding, str):
            if padding not in ("valid", "same", "full"):
                raise ValueError(f"padding must be an int, a pair, 'valid', 'same' or 'full', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride={stride!r}")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", minimum=0)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")

        kh, kw = self.kernel_size
        if connection is None:
            self.connection = None
            fan_in = np.full(self.out_channels, self.in_channels * kh * kw)
        else:
            conn = np.asarray(connection.data if isinstance(connection, Tensor) else connection)
            if conn.shape != (self.out_channels, self.in_channels):
                raise ValueError(
                    f"connection must have shape (out_channels, in_channels) = "
                    f"({self.out_channels}, {self.in_channels}), got {conn.shape}"
                )
            if conn.dtype.kind not in "biuf" or not np.all((conn == 0) | (conn == 1)):
                raise ValueError("connection must contain only 0 and 1")
            self.connection = conn.astype(np.uint8)
            self.connection.flags.writeable = False
            fan_in = self.connection.sum(axis=1).astype(np.int64) * kh * kw

        with np.errstate(divide="ignore"):
            bound = np.where(fan_in > 0, 1.0 / np.sqrt(np.maximum(fan_in, 1)), 0.0)  # per output map
        w = _rng.uniform(-1.0, 1.0, size=(self.out_channels, self.in_channels, kh, kw)) * bound[:, None, None, None]
        if self.connection is not None:
            w *= self.connection[:, :, None, None]
        self.weight = Parameter(w.astype(np.float32))
        self.bias = Parameter((_rng.uniform(-1.0, 1.0, size=self.out_channels) * bound).astype(np.float32)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        connection=self.connection)

    def _own_trainable_parameter_count(self) -> int:
        kh, kw = self.kernel_size
        kernels = self.out_channels * self.in_channels if self.connection is None else int(self.connection.sum())
        n = kernels * kh * kw if self.weight.requires_grad else 0
        if self.bias is not None and self.bias.requires_grad:
            n += self.bias.size
        return n

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        if self.connection is not None:
            s += f", connection={int(self.connection.sum())}/{self.connection.size} kernels"
        return s


class MaxPool2d(Module):
    """Max pooling Z = max_{r,c} V over kh×kw windows (``F.max_pool2d``); stride defaults to the window."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(Module):
    """Average pooling (``F.avg_pool2d``).

    Without ``channels``: the window mean, as PyTorch.  With ``channels`` it is the
    lecture's trainable form Z = w ⊞^{ave} V, i.e. z = w^h · Σ(window) with one
    coefficient per feature map in ``weight`` ``(channels,)``, initialised to
    1/(kh·kw) so the layer starts as the mean.
    """

    def __init__(self, kernel_size, stride=None, channels=None):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        if channels is None:
            self.channels = None
            self.weight = None
        else:
            self.channels = _positive_int(channels, "channels")
            kh, kw = self.kernel_size
            self.weight = Parameter(np.full(self.channels, 1.0 / (kh * kw), dtype=np.float32))

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, weight=self.weight)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return s + (f", channels={self.channels}" if self.channels is not None else "")


class Subsampling(AvgPool2d):
    """LeNet-5's trainable subsampling (S2, S4): z = w^h · Σ(window) + b^h per map h.

    ``weight`` ``(channels,)`` starts at 1/(kh·kw) (the window mean), ``bias``
    ``(channels,)`` at 0.  The squashing function is applied by the caller.
    Needs batched ``(N, C, H, W)`` input.
    """

    def __init__(self, channels, kernel_size=2, stride=None):
        super().__init__(kernel_size, stride, channels=channels)
        self.bias = Parameter(np.zeros(self.channels, dtype=np.float32))

    def forward(self, x):
        z = F.avg_pool2d(x, self.kernel_size, self.stride, weight=self.weight)
        return z + self.bias.reshape(1, self.channels, 1, 1)


class Vec(Module):
    """Feature maps to one column-stacked vector per example (``F.vec``): (N, C, H, W) → (N, C·H·W)."""

    def forward(self, x):
        return F.vec(x)


class Linear(Module):
    """Fully connected layer n = W p + b, batched as y = x @ Wᵀ + b.

    ``weight`` ``(out_features, in_features)``, ``bias`` ``(out_features,)``, both
    initialised U(−1/√in_features, 1/√in_features) as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(_uniform(bound, (self.out_features, self.in_features)))
        self.bias = Parameter(_uniform(bound, (self.out_features,))) if bias else None

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.dtype.kind != "f":
            raise TypeError(f"Linear: input must be float32 or float64, got dtype {x.dtype} with shape {x.shape}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input must have {self.in_features} features in its last axis, got shape {x.shape}"
            )
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    """poslin: a = max(0, n)."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    """tansig: a = tanh(n)."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """logsig: a = 1 / (1 + e^{−n})."""

    def forward(self, x):
        return F.sigmoid(x)


class ScaledTanh(Module):
    """LeCun's squashing function a = A·tanh(S·n), A = 1.7159, S = 2/3 (so f(±1) ≈ ±1)."""

    A = 1.7159
    S = 2.0 / 3.0

    def forward(self, x):
        return F.tanh(x * self.S) * self.A


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
