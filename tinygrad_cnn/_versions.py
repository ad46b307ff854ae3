"""Version counters: how the engine notices an in-place change to a value backward needs.

A recorded operation keeps references to arrays (its inputs, its output) that its
backward reads.  Changing one of them in place after the forward pass (a
``zero_()``, ``p -= lr * g`` under ``no_grad()``) would make backward compute with
the new values and return a wrong gradient without any error.  As in PyTorch,
every in-place Tensor method bumps a counter for the memory it writes, the forward
pass records the counters of the operation's inputs and output, and backward
refuses to run an operation whose counters moved.

The counter belongs to the memory, not to the Tensor: views (``reshape``, basic
indexing, ``detach()``) share their base array's counter, so writing through a
view is seen too.  Counters are kept only for arrays that were ever changed in
place, keyed by the array that owns the memory and dropped when it is freed, so a
program that never writes in place pays one empty-dict test per operation.
Writing to ``t.data`` with numpy directly bypasses the counter (as ``.data`` does
in PyTorch).
"""

from __future__ import annotations

import weakref

import numpy as np

#: id(owner array) -> [version, weak reference to the owner]; only written-to arrays appear.
#: Empty (false) while no live array has been changed in place: every version is then 0.
written: dict = {}


def _owner(arr: np.ndarray) -> np.ndarray:
    """The ndarray at the end of ``arr``'s chain of views: the one whose memory it uses."""
    base = arr.base
    while isinstance(base, np.ndarray):
        arr, base = base, base.base
    return arr


def bump(arr: np.ndarray) -> None:
    """Record that ``arr``'s memory was changed in place."""
    owner = _owner(arr)
    key = id(owner)
    entry = written.get(key)
    if entry is not None:
        entry[0] += 1
        return
    # The callback drops the entry when the owner is freed, before its id can be reused.
    ref = weakref.ref(owner, lambda _ref, key=key: written.pop(key, None))
    written[key] = [1, ref]


def version(arr: np.ndarray) -> int:
    """How many in-place changes ``arr``'s memory has seen (0 for one never written in place)."""
    if not written:
        return 0
    entry = written.get(id(_owner(arr)))
    return 0 if entry is None else entry[0]

