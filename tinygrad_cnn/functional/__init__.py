"""The functional interface, ``import tinygrad_cnn.functional as F``.

Every function normalises and validates its arguments with ``tinygrad_cnn._checks``
(wrong type: ``TypeError``, wrong value: ``ValueError``, each naming the argument
and the shapes) before any Function or compiled kernel runs; the Functions in
``tinygrad_cnn.ops`` then receive valid arrays only.  One module per family:
``activation``, ``loss``, ``conv``, ``pooling``, ``vec``.
"""

from .activation import log_softmax, logsig, poslin, purelin, relu, sigmoid, softmax, tanh, tansig
from .conv import conv2d, conv2d_normalised, conv2d_tensors, rot180  # noqa: F401 (nn.Conv2d uses the last two)
from .loss import cross_entropy, mse_loss
from .pooling import avg_pool2d, max_pool2d
from .vec import unvec, vec

__all__ = [
    "relu", "tanh", "sigmoid", "softmax", "log_softmax", "poslin", "tansig", "logsig", "purelin",
    "mse_loss", "cross_entropy",
    "conv2d", "rot180", "max_pool2d", "avg_pool2d", "vec", "unvec",
]
