"""Kept for older imports: the naive references now sit beside their kernels and the figures in ``figures``."""
from .figures import *  # noqa: F401,F403
from .kernels.conv import conv2d_backward_reference as conv2d_backward, conv2d_reference as conv2d  # noqa: F401
from .kernels.pool import avg_pool2d_backward_reference as avg_pool2d_backward, avg_pool2d_reference as avg_pool2d, max_pool2d_backward_reference as max_pool2d_backward, max_pool2d_reference as max_pool2d  # noqa: F401,E501
from .ops.conv import rot180_reference as rot180; from .ops.vec import unvec_reference as unvec, vec_reference as vec  # noqa: F401,E501,E702
