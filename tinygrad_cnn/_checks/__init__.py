"""Argument validation for the whole package, in one place.

One policy: a value of the wrong *type* raises ``TypeError``, a value of the
right type but out of range raises ``ValueError``; every message names the
argument (and the shapes involved).  ``functional``, ``nn``, ``optim``, the
command line and the benchmark call these helpers; the Functions in ``ops``
and the compiled kernels receive arrays that already passed them.

Integers that size an allocation or index memory (strides, paddings, window
sizes, dilations) are bounded by ``MAX_EXTENT`` so that nothing overflows a
64-bit index inside a kernel and no absurd allocation is attempted.

One module per kind of check: ``scalars``, ``geometry``, ``tensors`` and ``files``;
this package re-exports them all, so callers write ``_checks.pair(...)``.
"""

from .files import *  # noqa: F401,F403
from .geometry import *  # noqa: F401,F403
from .scalars import *  # noqa: F401,F403
from .tensors import *  # noqa: F401,F403
