"""The package's one random number generator.

Every random draw of the package (``randn``/``rand``/``randint``, weight
initialisation, dropout, shuffling) takes its numbers from the single
``np.random.Generator`` returned by :func:`get_rng`, so that one call to
:func:`manual_seed` makes a whole program repeatable, as ``torch.manual_seed``
does.  Reseeding replaces the generator's state in place rather than the object,
so a module that kept a reference to it sees the new seed too.
"""

from __future__ import annotations

import numpy as np

from . import _checks

# Seeded from the operating system until the program calls manual_seed (as PyTorch).
_rng = np.random.default_rng()


def manual_seed(seed) -> np.random.Generator:
    """Seed every random draw of the package; returns the generator.

    ``seed`` is a non-negative int (numpy's seeding takes no negative seeds, and a
    silent wrap-around would make two different seeds give one stream).
    """
    seed = _checks.nonneg_int(seed, "manual_seed: seed")
    _rng.bit_generator.state = np.random.PCG64(seed).state
    return _rng


def get_rng() -> np.random.Generator:
    """The generator every random draw of the package uses."""
    return _rng
