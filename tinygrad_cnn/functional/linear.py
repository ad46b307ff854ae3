"""The affine map of a fully connected layer, ``F.linear(x, weight, bias)`` = x Wᵀ + b, and the
lookup ``F.embedding(input, weight)`` = W[input] (one-hot rows times W)."""

from __future__ import annotations

from .. import _checks as check
from ..ops import linear as _linear
from ..tensor import Tensor

__all__ = ["linear", "embedding"]


def linear(x, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b: x ``(*, in_features)``, weight ``(out_features, in_features)``, bias ``(out_features,)``.

    Mixed float32/float64 operands promote to float64, as ``x @ W.T + b`` does here
    (PyTorch refuses them); each gradient comes back in its input's dtype.
    """
    x = check.float_tensor(x, "x")
    weight = check.float_tensor(weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be (out_features, in_features), got {weight.ndim}-D shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: x must have {weight.shape[1]} features in its last axis to match weight {weight.shape}, "
            f"got shape {x.shape}"
        )
    if bias is not None:
        bias = check.channel_vector(bias, weight.shape[0], "bias", "linear")
    return _linear.Linear.apply(x, weight, bias)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` ``(num_embeddings, embedding_dim)`` at the integer ``input``
    (any shape): ``(*input.shape, embedding_dim)``, as PyTorch's.

    ``padding_idx``: that row gets no gradient.  ``max_norm``: the rows looked up whose
    ``norm_type``-norm exceeds it are first scaled down to it, in place (PyTorch's renorm).
    ``scale_grad_by_freq``: each row's gradient is divided by how often the batch looks it up.
    """
    import numpy as np

    from ..tensor import no_grad

    weight = check.float_tensor(weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape {weight.shape}")
    n = weight.shape[0]
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, got dtype {idx.dtype} with shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"embedding: indices must lie in [0, {n}) for weight {weight.shape}, got "
                         f"{int(idx.min())}..{int(idx.max())}")
    if padding_idx is not None:
        padding_idx = check.integer(padding_idx, "embedding: padding_idx", -n, n - 1) % n
    if check.boolean(sparse, "embedding: sparse"):
        raise ValueError("embedding: sparse=True (sparse gradients) is not supported; gradients are dense arrays")
    scale = check.boolean(scale_grad_by_freq, "embedding: scale_grad_by_freq")
    idx = idx.astype(np.int64)
    if max_norm is not None:
        max_norm = check.real(max_norm, "embedding: max_norm", 0.0)
        p = check.real(norm_type, "embedding: norm_type")
        rows = np.unique(idx)
        with no_grad():
            w = weight.data
            norms = np.linalg.norm(w[rows], ord=p, axis=1)
            over = norms > max_norm
            w[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(w.dtype)
    return _linear.Embedding.apply(weight, indices=idx, padding_idx=padding_idx, scale_grad_by_freq=scale)
