"""Integers, reals, flags, names and pairs: the building blocks of every check."""

from __future__ import annotations

import numbers

import numpy as np


#: The largest stride, padding, window or dilation accepted (far beyond any image).
MAX_EXTENT = 1 << 20

#: The dtypes the compiled kernels are built for (native byte order only).
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------- scalars
def is_int(value) -> bool:
    """True for Python and numpy integers, never for ``bool``."""
    if type(value) is int:  # the common case, without the slower abstract-class check
        return True
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` within ``[minimum, maximum]``."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def positive_int(value, name: str, maximum: int | None = None) -> int:
    """An int >= 1."""
    return integer(value, name, 1, maximum)


def nonneg_int(value, name: str, maximum: int | None = None) -> int:
    """An int >= 0."""
    return integer(value, name, 0, maximum)


def real(value, name: str, low: float | None = None, high: float | None = None, *,
         low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number in the interval given by ``low``/``high`` (closed unless ``*_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "-inf" if low is None else f"{low:g}"
        right = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{left}, {right}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def norm_order(value, name: str) -> float:
    """The order p of a vector norm: a real number >= 0, or ``inf`` (the largest magnitude)."""
    if isinstance(value, (numbers.Real, np.floating)) and not isinstance(value, (bool, np.bool_)) \
            and value == float("inf"):
        return float("inf")
    return real(value, name, 0.0)


def boolean(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(value, name: str, choices) -> str:
    """One of the names in ``choices`` (a setting such as an optimiser or dataset name)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(map(repr, choices))}; got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def pair(value, name: str, minimum: int = 1, maximum: int | None = MAX_EXTENT) -> tuple:
    """An int or a pair of ints, each in ``[minimum, maximum]``, as a 2-tuple.

    A one-element sequence counts as its int, as PyTorch reads ``padding=(1,)``.
    ``maximum=None`` leaves the upper bound to a later check that knows the
    input's shape (:func:`window_geometry`), so that its message can name it.
    """
    if type(value) is int and minimum <= value and (maximum is None or value <= maximum):
        return value, value  # the common case, one valid int for both axes
    items = (value, value) if is_int(value) else value
    if isinstance(items, (tuple, list)) and len(items) == 1:
        items = (items[0], items[0])
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(is_int(v) for v in items):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    a, b = int(items[0]), int(items[1])
    if min(a, b) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and max(a, b) > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return a, b


def nonzero_real(value, name: str) -> float:
    """A finite real number other than 0 (a divisor such as softplus's ``beta``)."""
    value = real(value, name)
    if value == 0:
        raise ValueError(f"{name} must be nonzero, got {value!r}")
    return value


def ordered(low, high, low_name: str, high_name: str, op: str, strict: bool = False) -> tuple:
    """Two finite reals with ``low <= high`` (``low < high`` when ``strict``), as floats."""
    low, high = real(low, f"{op}: {low_name}"), real(high, f"{op}: {high_name}")
    if strict and not low < high:
        raise ValueError(f"{op}: {high_name} ({high!r}) must be greater than {low_name} ({low!r})")
    if low > high:
        raise ValueError(f"{op}: {low_name} ({low!r}) cannot be greater than {high_name} ({high!r})")
    return low, high
