"""``DataLoader``: mini-batches of a dataset as Tensors, with PyTorch's arguments."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _checks
from .._random import get_rng
from ..tensor import Tensor

__all__ = ["DataLoader", "default_collate"]


def default_collate(batch):
    """Stack a list of samples into a batch, PyTorch's rule: arrays and Tensors -> a Tensor
    with a new first dimension, Python ints -> an int64 Tensor, floats -> a float64 Tensor,
    tuples/lists/dicts -> the same structure collated field by field."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError("default_collate expects a non-empty list of samples")
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor(np.stack([s.data for s in batch]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor(np.stack([np.asarray(s) for s in batch]))
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in batch):
            raise ValueError("default_collate: the samples of a batch have different lengths")
        collated = [default_collate(list(field)) for field in zip(*batch)]
        if hasattr(first, "_fields"):  # a namedtuple
            return type(first)(*collated)
        return tuple(collated) if isinstance(first, tuple) else collated
    raise TypeError(f"default_collate cannot batch samples of type {type(first).__name__}")


def _has_fast_path(dataset) -> bool:
    """Whether ``dataset.batch(indices)`` gives whole batches (TensorDataset, Subsets of one)."""
    from .dataset import Subset, TensorDataset

    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, TensorDataset)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of ``batch_size``.

    ``shuffle``: a new random order every pass, drawn from (in this order of precedence)
    ``generator`` (a ``numpy.random.Generator``), ``numpy.random.default_rng((seed, epoch))``
    when ``seed`` is given (``epoch`` counts the passes from 0, so every pass is
    reproducible on its own), or the package's generator (``manual_seed``).
    ``drop_last``: leave out a last, smaller batch. ``collate_fn`` turns a list of samples
    into a batch (default :func:`default_collate`). A :class:`TensorDataset` (or a
    :class:`Subset` of one) with the default collate takes the fast path: each array is
    indexed with the batch's indices at once, and the batch holds Tensors of those rows.

    ``num_workers``, ``pin_memory`` and ``persistent_workers`` are accepted so that PyTorch
    code runs unchanged, and checked, but change nothing: batches are always made in the
    calling process (the fast path indexes whole arrays, so workers would gain little), and
    there is no GPU memory to pin for.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 seed=None, generator=None, *, num_workers=0, pin_memory=False, persistent_workers=False):
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"dataset must support len() and indexing, got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = _checks.positive_int(batch_size, "batch_size")
        self.shuffle = _checks.boolean(shuffle, "shuffle")
        self.drop_last = _checks.boolean(drop_last, "drop_last")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable or None, got {type(collate_fn).__name__}")
        self.collate_fn = collate_fn
        if seed is not None and generator is not None:
            raise ValueError("give seed or generator, not both")
        self.seed = None if seed is None else _checks.nonneg_int(seed, "seed")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a numpy.random.Generator, got "
                            f"{type(generator).__name__}")
        self.generator = generator
        self.num_workers = _checks.nonneg_int(num_workers, "num_workers")
        self.pin_memory = _checks.boolean(pin_memory, "pin_memory")
        self.persistent_workers = _checks.boolean(persistent_workers, "persistent_workers")
        self.epoch = 0
        self._initialized = True

    #: Attributes fixed once the loader is built, as in PyTorch (make a new loader instead).
    FIXED = ("dataset", "batch_size", "drop_last", "persistent_workers")

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False):
            if name in self.FIXED:
                raise ValueError(f"{name} attribute should not be set after DataLoader is initialized")
            if name == "shuffle":
                value = _checks.boolean(value, "shuffle")
        super().__setattr__(name, value)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return None
        if self.generator is not None:
            rng = self.generator
        elif self.seed is not None:
            rng = np.random.default_rng((self.seed, self.epoch))
        else:
            rng = get_rng()
        return rng.permutation(n)

    def __iter__(self):
        n = len(self.dataset)
        order = self._order()  # drawn now, as PyTorch draws when the pass starts
        self.epoch += 1
        fast = self.collate_fn is None and _has_fast_path(self.dataset)
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            if order is None:
                indices = np.arange(start, end) if not fast else slice(start, end)
            else:
                indices = order[start:end]
            if fast:
                yield tuple(Tensor(a) for a in self.dataset.batch(indices))
            else:
                index_list = range(start, end) if order is None else indices.tolist()
                samples = [self.dataset[i] for i in index_list]
                yield (self.collate_fn or default_collate)(samples)

    def __repr__(self):
        return (f"DataLoader(dataset of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
