"""Containers: ``Sequential`` (layers in order), ``ModuleList``, ``ModuleDict``, ``ParameterList``
and ``ParameterDict``.

Their children are named as PyTorch names them (``0``, ``1``, … or the dict's keys),
so ``state_dict`` keys match a PyTorch model built the same way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import _checks as check
from .module import Module, Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _module(value, where: str):
    if not isinstance(value, Module):
        raise TypeError(f"{where}: expected a Module, got {type(value).__name__}")
    return value


class Sequential(Module):
    """Layers applied in order.  Indexable, iterable, ``len``; parameter names ``0.weight``, ``1.bias``, …

    ``Sequential(OrderedDict(name=layer, ...))`` names the layers instead.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            for name, layer in layers[0].items():
                self.add_module(str(name), _module(layer, f"Sequential: argument {name!r}"))
            return
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: argument {i} must be a Module, got {type(layer).__name__}")
            setattr(self, str(i), layer)

    def _layers(self) -> list:
        return [v for _, v in self._own_items() if isinstance(v, Module)]

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
        if isinstance(index, slice):
            return Sequential(*self._layers()[index])
        return getattr(self, self._layer_name(index))

    def _layer_name(self, index) -> str:
        names = [name for name, v in self._own_items() if isinstance(v, Module)]
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential indices must be int or slice, got {type(index).__name__}")
        if not -len(names) <= index < len(names):
            raise IndexError(f"Sequential index {index} out of range for {len(names)} layers")
        return names[index]

    def __setitem__(self, index, layer):
        """``model[2] = nn.Linear(...)`` replaces a layer in place (its name and position stay)."""
        setattr(self, self._layer_name(index), _module(layer, "Sequential item assignment"))

    def __delitem__(self, index):
        """``del model[i]`` (or a slice) removes layers; the rest are numbered 0, 1, … again, as PyTorch."""
        names = [name for name, v in self._own_items() if isinstance(v, Module)]
        gone = names[index] if isinstance(index, slice) else [self._layer_name(index)]
        for name in gone:
            delattr(self, name)
        kept = self._layers()
        for name in [name for name, v in self._own_items() if isinstance(v, Module)]:
            delattr(self, name)
        for i, layer in enumerate(kept):
            setattr(self, str(i), layer)

    def forward(self, x):
        for layer in self._layers():
            x = layer(x)
        return x


class _ListContainer(Module):
    """A list of children the owner sees under their indices (``layers.0.weight``, ``scales.1``);
    subclasses say what an entry is (``_kind``) and how a value becomes one (``_entry``)."""

    _kind = "module"

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_items", [])
        if values is not None:
            self.extend(values)

    def _entry(self, value, where: str):  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    def _own_entries(self):
        for i, m in enumerate(self._items):
            yield str(i), m, self._kind

    def _index(self, index) -> int:
        name = type(self).__name__
        if isinstance(index, bool) or not check.is_int(index):
            raise TypeError(f"{name} indices must be int or slice, got {type(index).__name__}")
        if not -len(self._items) <= index < len(self._items):
            raise IndexError(f"{name} index {index} out of range for {len(self._items)} {self._kind}s")
        return int(index) % len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self._items[index])
        return self._items[self._index(index)]

    def __setitem__(self, index, value):
        self._items[self._index(index)] = self._entry(value, type(self).__name__)

    def __delitem__(self, index):
        if isinstance(index, slice):
            del self._items[index]
        else:
            del self._items[self._index(index)]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self._items.append(self._entry(value, f"{type(self).__name__}.append"))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def insert(self, index: int, value) -> None:
        name = type(self).__name__
        self._items.insert(check.integer(index, f"{name}.insert: index"), self._entry(value, f"{name}.insert"))


class _DictContainer(Module):
    """A dict of children (insertion order) the owner sees under their keys (``heads.a.weight``,
    ``gains.red``); subclasses say what an entry is (``_kind``, ``_entry``)."""

    _kind = "module"

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_items", OrderedDict())
        if values is not None:
            self.update(values)

    def _entry(self, value, where: str):  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    def _own_entries(self):
        for key, m in self._items.items():
            yield key, m, self._kind

    def __getitem__(self, key):
        return self._items[key]

    def __setitem__(self, key, value):
        self._check_new_name(key, self._kind)
        self._items[key] = self._entry(value, f"{type(self).__name__}[{key!r}]")

    def __delitem__(self, key):
        del self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items

    def keys(self):
        return self._items.keys()

    def values(self):
        return self._items.values()

    def items(self):
        return self._items.items()

    def get(self, key, default=None):
        return self._items.get(key, default)

    def pop(self, key):
        return self._items.pop(key)

    def clear(self) -> None:
        self._items.clear()

    def update(self, values) -> None:
        pairs = values.items() if isinstance(values, Mapping) else values
        for key, m in pairs:
            self[key] = m


class ModuleList(_ListContainer):
    """A list of modules whose parameters the owner sees (``layers.0.weight``, …); no ``forward``."""

    def __init__(self, modules=None):
        super().__init__(modules)

    def _entry(self, value, where: str):
        return _module(value, where)

    def _child_lines(self) -> list:
        """PyTorch's layout: runs of modules that print alike collapse to ``(0-2): 3 x Linear(...)``."""
        lines, i = [], 0
        texts = [m._repr_body() for m in self._items]
        while i < len(texts):
            j = i
            while j + 1 < len(texts) and texts[j + 1] == texts[i]:
                j += 1
            lines.append(f"({i}): {texts[i]}" if i == j else f"({i}-{j}): {j - i + 1} x {texts[i]}")
            i = j + 1
        return lines


class ModuleDict(_DictContainer):
    """A dict of modules (insertion order) whose parameters the owner sees (``heads.a.weight``, …)."""

    def __init__(self, modules=None):
        super().__init__(modules)

    def _entry(self, value, where: str):
        return _module(value, where)


def _parameter(value, where: str):
    """A Parameter as is; a Tensor or array becomes one (sharing its array), as PyTorch wraps tensors."""
    from ..tensor import Tensor

    if isinstance(value, Parameter):
        return value
    if isinstance(value, (Tensor, np.ndarray)):
        return Parameter(value)
    raise TypeError(f"{where}: expected a Parameter, Tensor or array, got {type(value).__name__}")


def _parameter_line(key, p) -> str:
    size = "x".join(str(n) for n in p.shape) or "()"
    return f"({key}): Parameter containing: [{p.dtype} of size {size}]"


class ParameterList(_ListContainer):
    """A list of parameters the owner sees (``scales.0``, ``scales.1``, …), for a number of weights
    known only at run time; Tensors and arrays put in become Parameters."""

    _kind = "parameter"

    def _entry(self, value, where: str):
        return _parameter(value, where)

    def _child_lines(self) -> list:
        return [_parameter_line(i, p) for i, p in enumerate(self._items)]


class ParameterDict(_DictContainer):
    """A dict of parameters (insertion order) the owner sees (``gains.red``, …); Tensors and arrays
    put in become Parameters."""

    _kind = "parameter"

    def _entry(self, value, where: str):
        return _parameter(value, where)

    def _child_lines(self) -> list:
        return [_parameter_line(k, p) for k, p in self._items.items()]
