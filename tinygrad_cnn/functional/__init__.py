"""The functional interface, ``import tinygrad_cnn.functional as F``.

Every function normalises and validates its arguments with ``tinygrad_cnn._checks``
(wrong type: ``TypeError``, wrong value: ``ValueError``, each naming the argument
and the shapes) before any Function or compiled kernel runs; the Functions in
``tinygrad_cnn.ops`` then receive valid arrays only.  One module per family:
``activation``, ``loss``, ``conv``, ``pooling``, ``vec``, ``dropout``,
``normalization``, ``shape`` (pad, one_hot), ``linear``, ``one_dimensional`` (conv1d, max_pool1d, …).
"""

# Each module lists its public functions in its own __all__; a new function is
# exported by adding its name there.
# (the modules named like one of their functions are imported under another name, so that
# F.dropout, F.linear and F.vec stay the functions)
from . import activation, conv, loss, normalization, one_dimensional, pooling, resample, shape
from . import dropout as _dropout_module, linear as _linear_module, vec as _vec_module
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .conv import conv2d_normalised, conv2d_tensors, grouped_connection  # noqa: F401 (nn.Conv2d calls these)
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .one_dimensional import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .resample import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .vec import *  # noqa: F401,F403

__all__ = (activation.__all__ + loss.__all__ + conv.__all__ + pooling.__all__ + _vec_module.__all__
           + _dropout_module.__all__ + normalization.__all__ + shape.__all__ + _linear_module.__all__
           + resample.__all__ + one_dimensional.__all__)
