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
    v = vec(A)  (column stacking)                Vec     (PyTorch's row-major Flatten also exists)
    n = W p + b                                  Linear
    poslin / tansig / logsig                     ReLU / Tanh / Sigmoid

One module per concern: ``module`` (Module, Parameter, seeding), ``container``
(Sequential, ModuleList, ModuleDict), ``conv``, ``pooling``, ``linear`` (Linear,
Vec, Flatten, Identity), ``activation``, ``dropout``, ``normalization`` (BatchNorm),
``padding`` (ReflectionPad2d, ZeroPad2d …), ``one_dimensional`` (Conv1d, MaxPool1d …),
``init`` (``nn.init.xavier_uniform_`` …) and ``utils`` (``clip_grad_norm_`` …).  ``nn.functional`` is
``tinygrad_cnn.functional``.
"""

# Each module lists its public names in its own __all__; a new layer is exported
# by adding its name there.
from . import (activation, container, conv, dropout, functional, init, linear, loss, module, normalization,
               one_dimensional, padding, pooling, utils)
from .activation import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .one_dimensional import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403

__all__ = (module.__all__ + container.__all__ + conv.__all__ + pooling.__all__ + linear.__all__
           + activation.__all__ + dropout.__all__ + normalization.__all__ + loss.__all__ + padding.__all__
           + one_dimensional.__all__)
