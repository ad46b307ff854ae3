"""``tinygrad_cnn.nn.functional`` is ``tinygrad_cnn.functional`` (``import tinygrad_cnn.nn.functional as F``,
PyTorch's spelling)."""

from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
