"""Optimisers with PyTorch's exact update rules, and learning-rate schedules.

Each ``step()`` updates every parameter's array IN PLACE (``p.data`` stays the same array
object, so views and references remain valid; the dtype is kept) and skips parameters whose
``grad`` is ``None``. ``state_dict()`` returns plain ``{str: np.ndarray}`` with keys::

    step                         number of step() calls so far
    lr, momentum, ...            the hyperparameters (restored by load_state_dict, as PyTorch)
    state.<i>.momentum_buffer    SGD, parameter i (in the order given to the optimiser)
    state.<i>.step / exp_avg / exp_avg_sq    Adam

Modules: :mod:`.optimizer` (the base class), :mod:`.sgd`, :mod:`.adam`, :mod:`.lr_scheduler`
(``CosineAnnealingLR``, ``cosine_schedule``).
"""

from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "lr_scheduler"]
