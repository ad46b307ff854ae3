"""The fully connected part of a network: vec and flatten (feature maps to a vector), ``Linear``,
``Identity``, and ``Embedding`` (a lookup table of vectors)."""

from __future__ import annotations

import math

from .. import _checks as check
from .. import functional as F
from .module import Module, Parameter, _uniform

__all__ = ["Vec", "Flatten", "Unflatten", "Identity", "Linear", "Embedding"]


class Vec(Module):
    """Feature maps to one column-stacked vector per example (``F.vec``): (N, C, H, W) → (N, C·H·W).

    The lecture's vec stacks the *columns* of each map; PyTorch's :class:`Flatten` stacks
    its *rows*.  Both give (N, C·H·W) but in different orders: a Linear layer trained
    after one does not fit after the other.
    """

    def forward(self, x):
        return F.vec(x)


class Flatten(Module):
    """PyTorch's flatten: dimensions ``start_dim..end_dim`` merged row by row (C order),
    (N, C, H, W) → (N, C·H·W) with element (c, i, j) at c·H·W + i·W + j.

    Not the lecture's :class:`Vec`, which stacks columns (c·H·W + j·H + i).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = check.integer(start_dim, "Flatten: start_dim")
        self.end_dim = check.integer(end_dim, "Flatten: end_dim")

    def forward(self, x):
        return check.tensor(x, "x").flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`, row-major)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = check.integer(dim, "Unflatten: dim")
        self.unflattened_size = check.size_args((unflattened_size,), "Unflatten", "unflattened_size",
                                                allow_infer=True)

    def forward(self, x):
        x = check.tensor(x, "x")
        d = check.dim(self.dim, x.ndim, "Unflatten")
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Identity(Module):
    """a = n; any constructor arguments are accepted and ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """Fully connected layer n = W p + b, batched as y = x @ Wᵀ + b.

    ``weight`` ``(out_features, in_features)``, ``bias`` ``(out_features,)``, both
    initialised U(−1/√in_features, 1/√in_features) as in PyTorch, in the default dtype.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = check.positive_int(in_features, "in_features")
        self.out_features = check.positive_int(out_features, "out_features")
        check.boolean(bias, "bias")
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(_uniform(bound, (self.out_features, self.in_features)))
        self.bias = Parameter(_uniform(bound, (self.out_features,))) if bias else None

    def forward(self, x):
        x = check.float_tensor(x, "Linear: input")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input must have {self.in_features} features in its last axis, got shape {x.shape}"
            )
        # one op, n = W p + b, whose backward states the lecture's three rules (db, dW, dp);
        # one graph node instead of a transpose, a product and a sum, each with its own overhead
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of ``embedding_dim`` (``F.embedding``), PyTorch's:
    ``weight`` ~ N(0, 1), its ``padding_idx`` row 0 (and never updated)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        import numpy as np

        from .. import _dtypes
        from .module import get_rng

        super().__init__()
        self.num_embeddings = check.positive_int(num_embeddings, "Embedding: num_embeddings")
        self.embedding_dim = check.positive_int(embedding_dim, "Embedding: embedding_dim")
        n = self.num_embeddings
        self.padding_idx = None if padding_idx is None else \
            check.integer(padding_idx, "Embedding: padding_idx", -n, n - 1) % n
        self.max_norm = None if max_norm is None else check.real(max_norm, "Embedding: max_norm", 0.0)
        self.norm_type = check.real(norm_type, "Embedding: norm_type")
        self.scale_grad_by_freq = check.boolean(scale_grad_by_freq, "Embedding: scale_grad_by_freq")
        self.sparse = check.boolean(sparse, "Embedding: sparse")
        if device is not None:
            _dtypes.device(device)
        dtype = _dtypes.get_default_dtype() if dtype is None else _dtypes.as_dtype(dtype, "Embedding: dtype")
        if _weight is None:
            w = get_rng().standard_normal((n, self.embedding_dim)).astype(dtype)
            if self.padding_idx is not None:
                w[self.padding_idx] = 0
        else:
            w = np.array(_weight.data if hasattr(_weight, "data") else _weight, dtype=dtype)
            if w.shape != (n, self.embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({n}, {self.embedding_dim}), got {w.shape}")
        self.weight = Parameter(w, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
        """A table holding ``embeddings`` ``(num_embeddings, embedding_dim)``, frozen by default."""
        import numpy as np

        w = np.asarray(embeddings.data if hasattr(embeddings, "data") else embeddings)
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=w, _freeze=check.boolean(freeze, "freeze"), dtype=w.dtype)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s
