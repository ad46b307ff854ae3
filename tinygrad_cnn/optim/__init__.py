"""Optimisers with PyTorch's names, defaults and exact update rules, and learning-rate schedules.

Each ``step()`` updates every parameter's array IN PLACE (``p.data`` stays the same array
object, so views and references remain valid; the dtype is kept) and skips parameters whose
``grad`` is ``None``. ``params`` is an iterable of Parameters or a list of parameter groups
(dicts with ``'params'`` and their own settings); see :mod:`.optimizer` for the groups and
the state dict.

Modules: :mod:`.optimizer` (the base class), :mod:`.sgd`, :mod:`.adam` (``Adam``, ``AdamW``),
:mod:`.adaptive` (``RMSprop``, ``Adagrad``, ``Adadelta``), :mod:`.lr_scheduler`.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .adaptive import Adadelta, Adagrad, RMSprop
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]
