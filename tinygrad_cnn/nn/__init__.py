"""Layers: ``Module``, ``Parameter`` and the lecture's network building blocks.

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

One module per concern: ``module`` (Module, Parameter, Sequential, seeding),
``conv``, ``pooling``, ``linear`` (Linear, Vec) and ``activation``.
"""

from .activation import ReLU, ScaledTanh, Sigmoid, Tanh
from .conv import Conv2d
from .linear import Linear, Vec
from .module import Module, Parameter, Sequential, get_rng, manual_seed
from .pooling import AvgPool2d, MaxPool2d, Subsampling

__all__ = [
    "manual_seed", "get_rng", "Parameter", "Module",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Subsampling", "Vec", "Linear",
    "ReLU", "Tanh", "Sigmoid", "ScaledTanh", "Sequential",
]
