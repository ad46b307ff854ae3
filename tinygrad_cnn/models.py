"""Ready-made networks: LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998).

::

    layer   operation                                      output        trainable parameters
    input                                                  1 × 32 × 32
    c1      Conv2d(1, 6, 5)                                6 × 28 × 28    6·25 + 6        =    156
    s2      Subsampling(6): w^h·Σ(2×2) + b^h, scaled tanh  6 × 14 × 14    6 + 6           =     12
    c3      Conv2d(6, 16, 5, connection=C3_TABLE)         16 × 10 × 10    60·25 + 16      =  1,516
    s4      Subsampling(16), scaled tanh                  16 × 5 × 5      16 + 16         =     32
    c5      Conv2d(16, 120, 5), scaled tanh              120 × 1 × 1      120·16·25 + 120 = 48,120
    vec     F.vec                                          120
    f6      Linear(120, 84), scaled tanh                   84             84·120 + 84     = 10,164
    output  Linear(84, num_classes) (logits)               10             10·84 + 10      =    850
                                                                          total             60,850

The squashing function is LeCun's scaled tanh 1.7159·tanh(2x/3).  As in the paper's
description of the S layers, C1 and C3 feed their weighted sums straight into the
subsampling layers and the squashing follows S2, S4, C5 and F6.  The output layer is
a linear layer producing logits for softmax cross-entropy, the accepted modern stand-in
for the original RBF units.  C3's weight tensor is stored dense ``(16, 6, 5, 5)``
(2,400 numbers, see ``num_parameters()`` = 61,750) but only the 60 kernels of Table I are
free: the others are 0 and get exactly zero gradient (``trainable_parameter_count()``
= 60,850).
"""

from __future__ import annotations

from . import _checks as check
from . import functional as F
from .figures import LENET_C3_TABLE
from .nn import Conv2d, Linear, Module, ScaledTanh, Subsampling
from .tensor import Tensor

__all__ = ["C3_TABLE", "LeNet5", "ScaledTanh", "Subsampling"]

#: LeCun et al. 1998, Table I: row h = C3 feature map, column l = S2 feature map (read-only).
C3_TABLE = LENET_C3_TABLE


class LeNet5(Module):
    """LeNet-5 on ``(N, 1, 32, 32)`` input (or one ``(1, 32, 32)`` image); returns logits
    ``(N, num_classes)`` (``(num_classes,)`` for one image).

    Sub-modules ``c1, s2, c3, s4, c5, f6, output`` give readable state-dict names
    (``c3.weight``, ``s2.bias``, …); see the module docstring for the layer table.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.num_classes = check.positive_int(num_classes, "num_classes")
        self.c1 = Conv2d(1, 6, 5)
        self.s2 = Subsampling(6, 2)
        self.c3 = Conv2d(6, 16, 5, connection=C3_TABLE)
        self.s4 = Subsampling(16, 2)
        self.c5 = Conv2d(16, 120, 5)
        self.f6 = Linear(120, 84)
        self.output = Linear(84, self.num_classes)
        self.squash = ScaledTanh()

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.ndim == 3:
            return self.forward(x.reshape((1,) + x.shape)).reshape(self.num_classes)
        if x.ndim != 4 or x.shape[1:] != (1, 32, 32):
            raise ValueError(f"LeNet5: input must be (N, 1, 32, 32) or (1, 32, 32), got shape {x.shape}")
        act = self.squash
        x = self.c1(x)             # (N, 6, 28, 28)
        x = act(self.s2(x))        # (N, 6, 14, 14)
        x = self.c3(x)             # (N, 16, 10, 10)
        x = act(self.s4(x))        # (N, 16, 5, 5)
        x = act(self.c5(x))        # (N, 120, 1, 1)
        x = F.vec(x)               # (N, 120)
        x = act(self.f6(x))        # (N, 84)
        return self.output(x)      # (N, num_classes) logits

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"
