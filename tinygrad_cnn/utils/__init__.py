"""PyTorch's ``torch.utils`` spelling: ``tinygrad_cnn.utils.data`` is :mod:`tinygrad_cnn.data`.

So ``from tinygrad_cnn.utils import data`` and ``torch.utils.data.DataLoader`` (after
``import tinygrad_cnn as torch``) work unchanged.
"""

from . import data  # noqa: F401
