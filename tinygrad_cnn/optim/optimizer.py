"""The optimiser base class: parameter groups, per-parameter state and the state dict.

An optimiser holds ``param_groups``, a list of dicts, each with ``'params'`` (a list of
Parameters) and its own hyperparameters (``'lr'``, ``'momentum'``, ...), as PyTorch does::

    opt = optim.SGD([{"params": model.features.parameters()},
                     {"params": model.classifier.parameters(), "lr": 1e-2}],
                    lr=1e-3, momentum=0.9)

Keys a group leaves out take the constructor's values (``opt.defaults``). Schedulers change
``group['lr']``. ``opt.lr`` (and every other hyperparameter name) reads group 0 and, when
assigned, sets the value in every group after the same checks as the constructor.

``state[i]`` is the state of parameter ``i``, counting through the groups in order (a
Parameter works as the index too). ``state_dict()`` has PyTorch's structure::

    {"state": {i: {"step": 3, "exp_avg": array, ...}, ...},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1, 2]}, ...]}

and :meth:`Optimizer.flat_state_dict` the same content as plain ``{str: np.ndarray}`` for an
``.npz`` file (``tinygrad_cnn.save(optimizer, path)`` writes it)::

    step                         number of step() calls so far
    lr, momentum, ...            the hyperparameters of a single group, or
    param_groups.<g>.<name>      of group g (with param_groups.<g>.params) when there are more
    state.<i>.<name>             state of parameter i

:meth:`Optimizer.load_state_dict` takes either form. Every hyperparameter goes through the
constructor's checks (one validation path; NaN and infinities refused) and every state array
is checked (shape, finite, non-negative where a square root is taken of it) before anything
changes; one ``ValueError`` names every offending key.
"""

from __future__ import annotations

import re

import numpy as np

from .. import _checks
from ..tensor import Tensor

__all__ = ["Optimizer", "nonneg", "unit_interval", "flag", "betas_pair", "grad_of"]


# --------------------------------------------------------------------------------------------
# hyperparameter checks (each: (value, name) -> the value in canonical Python form)
# --------------------------------------------------------------------------------------------

def nonneg(value, name):
    """A finite real number >= 0."""
    return _checks.real(value, name, 0.0)


def unit_interval(value, name):
    """A finite real number in [0, 1]."""
    return _checks.real(value, name, 0.0, 1.0)


def flag(value, name):
    """``True`` or ``False`` (a 0-d boolean array from a checkpoint too)."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype == bool:
        value = bool(value)
    return _checks.boolean(value, name)


def betas_pair(value, name):
    """``(beta1, beta2)``, each in [0, 1)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2), got {value!r}")
    return tuple(_checks.real(b, f"{name}[{k}]", 0.0, 1.0, high_open=True)
                 for k, b in enumerate(value))


def _scalar(value):
    """A 0-d array (from a checkpoint) as the Python number it holds."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return value.item()
    return value


def grad_of(p):
    """The gradient of ``p`` as an ndarray of ``p``'s dtype (``p.grad`` may be an ndarray or
    a Tensor), or ``None``."""
    g = p.grad
    if g is None:
        return None
    g = g.data if isinstance(g, Tensor) else np.asarray(g)
    data = p.data
    if g.shape != data.shape:
        raise ValueError(f"a parameter of shape {data.shape} has a grad of shape {g.shape}")
    return g if g.dtype == data.dtype else g.astype(data.dtype)


class _ParamState(list):
    """``state[i]`` for parameter ``i`` (in the order of the groups), or ``state[parameter]``."""

    def __init__(self, items=(), index=None):
        super().__init__(items)
        self.index = index if index is not None else {}

    def __getitem__(self, key):
        if isinstance(key, Tensor):
            key = self.index[id(key)]
        return super().__getitem__(key)


# --------------------------------------------------------------------------------------------
# the base class
# --------------------------------------------------------------------------------------------

class Optimizer:
    """Parameter groups, per-parameter state and the state dict; subclasses add ``step()``.

    Subclasses declare:

    - ``_hyper``: ``{name: check}``, the hyperparameters and the check each value passes;
    - ``_state_names``: every name a parameter's state may hold, ``_nonneg_state`` those
      that must be >= 0, and :meth:`_required_state` which of them a group's settings need;
    - optionally :meth:`_check_combination` for rules between hyperparameters.
    """

    _hyper: dict = {}
    _state_names: tuple = ()
    _nonneg_state: tuple = ()

    def __init__(self, params, defaults):
        object.__setattr__(self, "param_groups", [])
        self.defaults = self._check_group(dict(defaults), "")
        self.state = _ParamState()
        self.step_count = 0
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Parameters, got a single Tensor; "
                            "wrap it in a list")
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(f"params must be an iterable of Parameters, got a "
                            f"{type(params).__name__}; pass model.parameters()")
        if isinstance(params, (set, dict)):
            raise TypeError("params must be an ordered iterable (a list), not a set or dict: "
                            "the order decides the state's indices")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"params must be an iterable of Parameters, got "
                            f"{type(params).__name__}") from None
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if all(isinstance(p, dict) for p in params) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ hyperparameters
    @classmethod
    def _check_group(cls, group: dict, where: str) -> dict:
        """``group`` with every known hyperparameter checked (``where`` prefixes the names)."""
        out = dict(group)
        for name, check in cls._hyper.items():
            if name in out:
                out[name] = check(_scalar(out[name]), where + name)
        if "initial_lr" in out:
            out["initial_lr"] = nonneg(_scalar(out["initial_lr"]), where + "initial_lr")
        cls._check_combination(out, where)
        return out

    @classmethod
    def _check_combination(cls, group: dict, where: str) -> None:
        """Rules between hyperparameters of one group (e.g. Nesterov needs momentum)."""

    def _required_state(self, group: dict) -> set:
        """The state names a parameter of ``group`` has once it has been stepped."""
        return set(self._state_names)

    def __getattr__(self, name):  # only called when normal lookup fails
        groups = self.__dict__.get("param_groups")
        if groups and name in groups[0] and name != "params":
            return groups[0][name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name in self._hyper or name == "initial_lr":
            groups = [self._check_group({**g, name: value}, "") for g in self.param_groups]
            for group, checked in zip(self.param_groups, groups):
                group[name] = checked[name]
        else:
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> list:
        """Every parameter, group after group (the order of the state's indices)."""
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, param_group: dict) -> None:
        """Add a group ``{'params': [...], 'lr': ..., ...}``; missing settings come from
        ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry")
        g = len(self.param_groups)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, dict)):
            raise TypeError(f"param_groups[{g}]['params'] must be ordered (a list), not a set")
        else:
            params = list(params)
        if not params:
            raise ValueError(f"optimizer got an empty parameter list (param_groups[{g}])")
        seen = dict(self.state.index)
        start = len(seen)
        for k, p in enumerate(params):
            name = f"params[{k}]" if g == 0 else f"param_groups[{g}]['params'][{k}]"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} must be a Parameter/Tensor, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{name} must be float32 or float64, got dtype {p.dtype} with "
                                f"shape {p.shape}")
            # a frozen parameter (requires_grad False) is accepted, as PyTorch does: it gets no
            # gradient, and step() leaves a parameter without one alone
            if id(p) in seen:
                raise ValueError(f"{name} (shape {p.shape}) appears more than once")
            seen[id(p)] = start + k
        where = "" if g == 0 else f"param_groups[{g}]."
        settings = {k: v for k, v in param_group.items() if k != "params"}
        group = self._check_group({**self.defaults, **settings}, where)
        group["params"] = params
        self.param_groups.append(group)
        self.state.extend({} for _ in params)
        self.state.index = seen

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: ``None`` (default) or zeros in place."""
        set_to_none = _checks.boolean(set_to_none, "set_to_none")
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            elif isinstance(p.grad, Tensor):
                p.grad.data[...] = 0
            else:
                p.grad[...] = 0

    def _grads(self):
        """``(group, index, parameter, gradient)`` for each parameter that has a gradient;
        the gradient is negated for ``maximize=True``."""
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                g = grad_of(p)
                if g is not None:
                    if not p.data.flags.writeable:  # e.g. a read-only array the user passed
                        p.data = p.data.copy()
                    yield group, i, p, (-g if group.get("maximize", False) else g)
                i += 1

    def step(self, closure=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _closure(self, closure):
        """Run ``closure`` (re-evaluates the model, returns the loss) as PyTorch's step does."""
        if closure is None:
            return None
        if not callable(closure):
            raise TypeError(f"closure must be callable, got {type(closure).__name__}")
        return closure()

    # ------------------------------------------------------------------ state dict
    def _group_settings(self, group: dict) -> dict:
        return {k: (tuple(v) if isinstance(v, list) else v)
                for k, v in group.items() if k != "params"}

    def state_dict(self) -> dict:
        """PyTorch's structure: ``{'state': {index: {...}}, 'param_groups': [{..., 'params':
        [indices]}]}``; arrays are copies."""
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**self._group_settings(group), "params": list(range(start, start + n))})
            start += n
        state = {i: {k: (int(v) if k == "step" else np.array(v, copy=True)) for k, v in st.items()}
                 for i, st in enumerate(self.state) if st}
        return {"state": state, "param_groups": groups}

    def flat_state_dict(self) -> dict:
        """The state as ``{str: np.ndarray}`` (the ``.npz`` layout, see the module docs)."""
        out = {"step": np.array(self.step_count, dtype=np.int64)}
        single = len(self.param_groups) == 1
        start = 0
        for g, group in enumerate(self.param_groups):
            prefix = "" if single else f"param_groups.{g}."
            for name in self._hyper:
                out[prefix + name] = np.array(group[name])
            n = len(group["params"])
            if not single:
                out[prefix + "params"] = np.arange(start, start + n, dtype=np.int64)
            start += n
        for i, st in enumerate(self.state):
            for key, value in st.items():
                out[f"state.{i}.{key}"] = np.array(value, copy=True)
        return out

    def _unflatten(self, flat, problems):
        """The flat layout as ``(param_groups, state, step, label)``; ``label(i, name)`` names
        a state entry as its flat key."""
        if "step" not in flat:
            problems.append("missing key: step")
        groups, state = {}, {}
        pattern = re.compile(r"state\.(\d+)\.(\w+)$|param_groups\.(\d+)\.(\w+)$")
        single = {}
        for key, value in flat.items():
            key = str(key)
            if key == "step":
                continue
            if key in self._hyper:
                single[key] = value
                continue
            m = pattern.match(key)
            if m is None or (m.group(2) is not None and m.group(2) not in self._state_names):
                problems.append(f"unexpected key: {key}")
            elif m.group(1) is not None:
                state.setdefault(int(m.group(1)), {})[m.group(2)] = value
            elif m.group(4) in self._hyper or m.group(4) == "params":
                groups.setdefault(int(m.group(3)), {})[m.group(4)] = value
            else:
                problems.append(f"unexpected key: {key}")
        if groups and single:
            problems.append("the state mixes single-group keys "
                            f"({', '.join(sorted(single))}) with param_groups.<g> keys")
        if groups:
            if sorted(groups) != list(range(len(groups))):
                problems.append(f"param_groups are numbered {sorted(groups)}, expected 0..n-1")
            param_groups = [groups[g] for g in sorted(groups)]
            for g, group in enumerate(param_groups):
                if "params" not in group:
                    problems.append(f"missing key: param_groups.{g}.params")
                    group["params"] = []
                group["params"] = np.asarray(group["params"]).tolist()
        else:
            param_groups = [dict(single, params=list(range(len(self.params))))]
        return param_groups, state, flat.get("step"), (lambda i, name: f"state.{i}.{name}")

    def load_state_dict(self, state_dict) -> None:
        """Restore :meth:`state_dict` or :meth:`flat_state_dict` output (e.g. from
        ``tinygrad_cnn.load``). Everything is checked first; a problem raises one
        ``ValueError`` naming every offending key and leaves the optimiser unchanged."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict expects a mapping (a state dict), got "
                            f"{type(state_dict).__name__}")
        problems = []
        if "state" in state_dict and "param_groups" in state_dict:
            unknown = sorted(set(state_dict) - {"state", "param_groups"})
            if unknown:
                problems.append(f"unexpected keys: {unknown}")
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
            if not isinstance(saved_groups, (list, tuple)) or not hasattr(saved_state, "items"):
                raise TypeError("state_dict['param_groups'] must be a list of dicts and "
                                "state_dict['state'] a dict")
            step, label, flat = None, (lambda i, name: f"state[{i}][{name!r}]"), False
        else:
            saved_groups, saved_state, step, label = self._unflatten(state_dict, problems)
            flat = True
        if step is not None:
            arr = np.asarray(_scalar(step))
            if arr.shape != () or arr.dtype.kind not in "iu" or int(arr) < 0:
                problems.append(f"step must be a non-negative integer scalar, got {step!r}")
                step = None
            else:
                step = int(arr)

        # groups: the same number, the same sizes, and settings that pass the constructor's checks
        new_groups, index_of = [], {}
        if len(saved_groups) != len(self.param_groups):
            problems.append(f"param_groups: the state has {len(saved_groups)} groups, this "
                            f"optimizer {len(self.param_groups)}")
        flat_params = self.params
        start = 0
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict):
                problems.append(f"param_groups[{g}] must be a dict, got {type(saved).__name__}")
                continue
            ids = list(saved.get("params", []))
            if len(ids) != len(group["params"]):
                problems.append(f"param_groups[{g}] has {len(ids)} parameters, this optimizer's "
                                f"group {g} has {len(group['params'])}")
            for k, saved_id in enumerate(ids[:len(group["params"])]):
                index_of[int(saved_id) if _checks.is_int(saved_id) else saved_id] = start + k
            start += len(group["params"])
            where = "" if flat and len(saved_groups) == 1 else f"param_groups[{g}]."
            settings = {k: v for k, v in saved.items() if k != "params"}
            try:
                new_groups.append(self._check_group({**group, **settings}, where))
            except (TypeError, ValueError) as exc:
                problems.append(str(exc))

        # per-parameter state
        new_state = [{} for _ in flat_params]
        for saved_id, entry in saved_state.items():
            i = index_of.get(int(saved_id) if _checks.is_int(saved_id) else saved_id)
            if i is None:
                problems.append(f"state of parameter {saved_id!r}: no such parameter (this "
                                f"optimizer has only {len(flat_params)} parameters)")
                continue
            if not hasattr(entry, "items"):
                problems.append(f"state of parameter {saved_id} must be a dict")
                continue
            p = flat_params[i]
            for name, value in entry.items():
                key = label(saved_id, name)
                if name not in self._state_names:
                    problems.append(f"unexpected key: {key}")
                    continue
                arr = np.asarray(value.data if isinstance(value, Tensor) else value)
                if name == "step":
                    ok = arr.shape == () and arr.dtype.kind in "iuf" and np.isfinite(arr) \
                        and arr >= 0 and float(arr) == int(arr)
                    if not ok:
                        problems.append(f"{key} must be a non-negative integer, got {value!r}")
                        continue
                    new_state[i][name] = int(arr)
                    continue
                if arr.shape != p.shape:
                    problems.append(f"shape mismatch for {key}: expected {p.shape}, got {arr.shape}")
                elif arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)):
                    problems.append(f"{key} must hold finite numbers")
                elif name in self._nonneg_state and np.any(arr < 0):
                    problems.append(f"{key} must be >= 0 (its square root is taken)")
                else:
                    new_state[i][name] = arr.astype(p.dtype, copy=True)
        if not problems:
            g_of = [g for g, group in enumerate(new_groups) for _ in group["params"]]
            for i, st in enumerate(new_state):
                if not st:
                    continue
                required = self._required_state(new_groups[g_of[i]])
                if set(st) != required:
                    missing = sorted(required - set(st))
                    extra = sorted(set(st) - required)
                    what = (", missing " + ", ".join(missing) if missing else "") + \
                           (", unexpected " + ", ".join(extra) if extra else "")
                    problems.append(f"state of parameter {i} is incomplete or does not fit its "
                                    f"group's settings{what}")
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for group, checked in zip(self.param_groups, new_groups):
            group.update({k: v for k, v in checked.items() if k != "params"})
        self.state = _ParamState(new_state, self.state.index)
        if step is not None:
            self.step_count = step

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            lines += [f"    {k}: {v}" for k, v in sorted(self._group_settings(group).items())]
        return "\n".join(lines + [")"])
