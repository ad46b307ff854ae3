"""Datasets with PyTorch's names: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``."""

from __future__ import annotations

import math

import numpy as np

from .. import _checks
from .._random import get_rng
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split"]


class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample ``i`` and ``len(dataset)`` the count.
    Subclasses implement ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __add__(self, other):
        raise TypeError("concatenating datasets is not supported; build one TensorDataset")


def _as_array(value, k):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    raise TypeError(f"TensorDataset: argument {k} must be a Tensor or numpy array, got "
                    f"{type(value).__name__}")


class TensorDataset(Dataset):
    """Samples ``(a[i], b[i], ...)`` of arrays or Tensors that share their first dimension.

    ``tensors`` holds the arrays (numpy, not copied). Indexing returns Tensors, as PyTorch's
    (``img, label = ds[0]; model(img.unsqueeze(0))``), which share the rows' memory;
    :class:`~tinygrad_cnn.data.DataLoader` indexes each array with a batch's indices at once.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(_as_array(t, k) for k, t in enumerate(tensors))
        for k, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: argument {k} is a scalar; it needs a first "
                                 f"(sample) dimension")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: the arrays must have the same first dimension, got "
                             f"shapes {', '.join(str(a.shape) for a in arrays)}")
        self.tensors = arrays

    def __getitem__(self, index):
        return tuple(Tensor(a[index]) for a in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def batch(self, indices):
        """The samples at ``indices`` stacked: one array per tensor (the loader's fast path)."""
        return tuple(a[indices] for a in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-D sequence of ints, got dtype "
                            f"{indices.dtype} with shape {indices.shape}")
        n = len(dataset)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}), got {indices.min()}.."
                             f"{indices.max()}")
        self.dataset = dataset
        self.indices = indices.astype(np.int64).tolist()

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)

    def batch(self, indices):
        """The loader's fast path, for a Subset of a TensorDataset."""
        return self.dataset.batch(np.asarray(self.indices, dtype=np.int64)[indices])


def _lengths(lengths, n):
    """Integer lengths summing to ``n`` (fractions as PyTorch: floor, then the remainder
    spread one by one over the first subsets)."""
    try:
        lengths = list(lengths)
    except TypeError:
        raise TypeError(f"lengths must be a list of ints or fractions, got {lengths!r}") from None
    if not lengths:
        raise ValueError("lengths must not be empty")
    if all(_checks.is_int(x) for x in lengths):
        lengths = [_checks.nonneg_int(x, f"lengths[{k}]") for k, x in enumerate(lengths)]
        if sum(lengths) != n:
            raise ValueError(f"the lengths {lengths} sum to {sum(lengths)}, not to the "
                             f"dataset's {n} samples")
        return lengths
    fractions = [_checks.real(x, f"lengths[{k}]", 0.0, 1.0) for k, x in enumerate(lengths)]
    if not math.isclose(sum(fractions), 1) or sum(fractions) > 1:
        raise ValueError(f"fractions in lengths must sum to 1, got {sum(fractions)}")
    out = [int(math.floor(n * f)) for f in fractions]
    for k in range(n - sum(out)):
        out[k % len(out)] += 1
    return out


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping :class:`Subset` s of the given ``lengths`` (ints
    summing to ``len(dataset)``, or fractions summing to 1) in a random order drawn from
    ``generator`` (a ``numpy.random.Generator``; default: the package's, seeded by
    ``manual_seed``)."""
    n = len(dataset)
    sizes = _lengths(lengths, n)
    if generator is None:
        generator = get_rng()
    elif not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy.random.Generator, got "
                        f"{type(generator).__name__}")
    order = generator.permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, order[start:start + size]))
        start += size
    return out
