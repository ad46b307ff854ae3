"""The optimiser base class: parameter list, per-parameter state and the state dict.

``state_dict()`` returns plain ``{str: np.ndarray}`` (npz-friendly:
``tinygrad_cnn.save(optimizer, path)`` works) with keys::

    step                         number of step() calls so far
    lr, momentum, ...            the hyperparameters (restored by load_state_dict, as PyTorch)
    state.<i>.<name>             per-parameter state of parameter i (in the order given)
"""

from __future__ import annotations

import numbers
import re

import numpy as np

from ..tensor import Tensor

__all__ = ["Optimizer"]


def _real(value, name: str, high: float | None = None) -> float:
    """A real number >= 0 (and < ``high`` when given); NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not value >= 0 or (high is not None and not value < high):
        bound = f"in [0, {high})" if high is not None else ">= 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


class Optimizer:
    """Holds a list of parameters and per-parameter state.

    ``params``: an iterable of Parameters (or Tensors with ``requires_grad=True`` and a
    float dtype), e.g. ``model.parameters()``.
    """

    #: names of the per-parameter state arrays; subclasses set them
    _state_names: tuple = ()
    #: hyperparameter attribute names saved in the state dict
    _hyper_names: tuple = ()

    def __init__(self, params):
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Parameters, got a single Tensor; wrap it in a list")
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(f"params must be an iterable of Parameters, got a {type(params).__name__}; "
                            f"pass model.parameters()")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"params must be an iterable of Parameters, got {type(params).__name__}") from None
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"params[{i}] must be a Parameter/Tensor, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"params[{i}] must be float32 or float64, got dtype {p.dtype} with shape {p.shape}")
            if not p.requires_grad:
                raise ValueError(f"params[{i}] (shape {p.shape}) does not require grad")
            if id(p) in seen:
                raise ValueError(f"params[{i}] (shape {p.shape}) appears more than once")
            seen.add(id(p))
        self.params = params
        self.state = [{} for _ in params]
        self.step_count = 0

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to ``None``."""
        for p in self.params:
            p.grad = None

    def _grads(self):
        """(index, parameter, gradient array) for parameters that have a gradient."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = np.asarray(p.grad.data if isinstance(p.grad, Tensor) else p.grad)
            if g.shape != p.shape:
                raise ValueError(f"parameter {i} has shape {p.shape} but its grad has shape {g.shape}")
            if not p.data.flags.writeable:  # e.g. a read-only array the user passed in
                p.data = p.data.copy()
            yield i, p, g.astype(p.dtype, copy=False)

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ----------------------------------------------------------- state
    def state_dict(self) -> dict:
        out = {"step": np.array(self.step_count, dtype=np.int64)}
        for name in self._hyper_names:
            out[name] = np.array(getattr(self, name))
        for i, st in enumerate(self.state):
            for key, value in st.items():
                out[f"state.{i}.{key}"] = np.array(value, copy=True)
        return out

    def load_state_dict(self, state) -> None:
        """Restore :meth:`state_dict` output (e.g. from ``tinygrad_cnn.load``).

        Everything is validated first (unknown keys, parameter indices, shapes), and one
        ``ValueError`` lists every problem; only then is the optimiser changed.
        """
        if not hasattr(state, "items"):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, got {type(state).__name__}")
        problems, hyper, per_param = [], {}, [{} for _ in self.params]
        if "step" not in state:
            problems.append("missing key: step")
        pattern = re.compile(r"state\.(\d+)\.(\w+)$")
        for key, value in state.items():
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            if key == "step":
                if arr.shape != () or arr.dtype.kind not in "iu" or arr < 0:
                    problems.append(f"step must be a non-negative integer scalar, got {arr!r}")
                continue
            if key in self._hyper_names:
                current = np.asarray(getattr(self, key))
                if arr.shape != current.shape or arr.dtype.kind not in "biuf":
                    problems.append(f"hyperparameter {key}: expected a number of shape {current.shape}, "
                                    f"got {arr.dtype} of shape {arr.shape}")
                else:
                    hyper[key] = arr
                continue
            m = pattern.match(str(key))
            if m is None or m.group(2) not in self._state_names:
                problems.append(f"unexpected key: {key}")
                continue
            i, name = int(m.group(1)), m.group(2)
            if i >= len(self.params):
                problems.append(f"{key}: this optimizer has only {len(self.params)} parameters")
                continue
            expected = () if name == "step" else self.params[i].shape
            if arr.shape != expected:
                problems.append(f"shape mismatch for {key}: expected {expected}, got {arr.shape}")
                continue
            per_param[i][name] = arr
        for i, st in enumerate(per_param):
            if st and set(st) != set(self._state_names):
                missing = sorted(set(self._state_names) - set(st))
                problems.append(f"state.{i} is incomplete, missing " + ", ".join(missing))
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        self._set_hyper(hyper)
        self.step_count = int(state["step"])
        self.state = [
            {k: (int(v) if k == "step" else v.astype(self.params[i].dtype, copy=True)) for k, v in st.items()}
            for i, st in enumerate(per_param)
        ]

    def _set_hyper(self, hyper: dict) -> None:
        for name, arr in hyper.items():
            setattr(self, name, arr.item() if arr.shape == () else tuple(arr.tolist()))

    def __repr__(self) -> str:
        hp = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._hyper_names)
        return f"{type(self).__name__}({len(self.params)} parameters, {hp})"

