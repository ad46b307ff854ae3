"""Grad mode, per thread: whether Functions record a graph (``no_grad``, ``enable_grad``,
``set_grad_enabled``), and the backward hook that ``explain`` listens on.

Both are ``threading.local``, as in PyTorch: a ``no_grad()`` block in one thread
leaves every other thread recording.
"""

from __future__ import annotations

import functools
import threading



class _GradMode(threading.local):
    """Whether Functions record a graph, per thread (as in PyTorch): a
    ``no_grad()`` block in one thread leaves every other thread recording."""

    enabled = True


_grad_mode = _GradMode()


class _GradModeContext:
    """Base of :class:`no_grad` and :class:`enable_grad`: a context manager
    that sets the calling thread's grad mode to ``_mode`` and restores it on
    exit, and a decorator that does the same around every call."""

    _mode = True

    def __enter__(self):
        self._prev = _grad_mode.enabled
        _grad_mode.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager (and decorator) in which no graph is recorded, in the calling thread.

    >>> with no_grad():
    ...     y = model(x)        # y.requires_grad is False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager (and decorator) that records the graph again inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled:
    """Set the calling thread's grad mode to ``mode`` now; used in a ``with``
    block, restore the previous mode on exit (as PyTorch's)."""

    def __init__(self, mode: bool):
        from ._checks import boolean

        self._prev = _grad_mode.enabled
        _grad_mode.enabled = boolean(mode, "set_grad_enabled: mode")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._prev
        return False


def is_grad_enabled() -> bool:
    """Whether Functions called in this thread record a graph."""
    return _grad_mode.enabled


class _BackwardHook(threading.local):
    """``fn(ctx, grad)``, called before each ``ctx.backward`` while set (``tinygrad_cnn.explain``)."""

    fn = None


_backward_hook = _BackwardHook()
