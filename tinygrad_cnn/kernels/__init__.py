"""Compiled Numba kernels: the lecture's convolution and pooling equations.

Plain array-in / array-out functions on C-contiguous ``(N, C, H, W)``
float32 / float64 arrays (dtype preserved).  They perform no validation; the
autograd layer (``tinygrad_cnn.functional``) checks arguments first.  The
naive loop version of each kernel sits right after it in its module
(``conv_reference.conv2d_reference``, ``pool.max_pool2d_reference``, ...).

All kernels are ``parallel=True`` and ``cache=True``; their only parallel loops
are ``prange`` loops over disjoint outputs (no write races; an array expression
outside ``prange`` would be a parallel loop of its own, so there are none).
Below ``PARALLEL_MIN_WORK`` inner-loop operations they run on the calling thread.  Threads, BLAS and chunking
follow ``tinygrad_cnn.runtime`` through ``_parallel``.
"""
from ._parallel import PARALLEL_MIN_WORK
from .conv import (
    conv2d_backward_input,
    conv2d_backward_weight,
    conv2d_forward,
    dilate,
    full_padding,
    pad,
    rot180,
    transpose_maps,
)
from .conv_weight_grad import weight_gradient
from .correlation import correlate
from .cost_model import force_path
from .batch_inner import LayoutCopies  # noqa: I001  (after correlation, which it imports)
from .pool import (
    max_pool2d_backward,
    max_pool2d_forward,
    window_sum_backward,
    window_sum_forward,
)

__all__ = [
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "correlate",
    "LayoutCopies",
    "weight_gradient",
    "force_path",
    "rot180",
    "dilate",
    "pad",
    "full_padding",
    "transpose_maps",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "window_sum_forward",
    "window_sum_backward",
    "PARALLEL_MIN_WORK",
]
