"""Parity with PyTorch's own operator samples (``torch.testing._internal``'s ``op_db``).

PyTorch describes each operator by an ``OpInfo`` whose ``sample_inputs(device, dtype,
requires_grad=...)`` yields the inputs its own test suite runs: odd shapes, 0-d and empty
tensors, non-contiguous strides, every keyword form.  This module replays those samples
on tinygrad_cnn, call for call:

* every torch tensor becomes a tinygrad_cnn tensor over a copy of its data with the same
  strides (float tensors that require grad stay leaves that require grad), torch dtypes
  become ours, lists and tuples are converted element by element;
* the op runs forward on both sides, then backward with one random upstream gradient per
  differentiable output, and every input gradient is compared with torch's autograd;
* each sample ends in one class:

  ``agree``        forward values, shapes and dtypes, and every gradient, within tolerance;
  ``disagree``     a value, shape, dtype or gradient differs;
  ``crash``        our side raised something other than a clear refusal (below);
  ``unsupported``  our side refused clearly: a ``ValueError``/``TypeError``/``NotImplementedError``
                   raised by tinygrad_cnn's own code, a keyword our function does not take,
                   or a dtype we do not have (float16, complex, ...);
  ``skipped``      PyTorch itself raised, or the sample is random (dropout while training
                   with 0 < p < 1); not counted.

The ``with grads`` column counts the agreeing samples whose gradients were compared too.

``python tests/torch_samples.py`` prints the table (``--ops conv2d`` for one family,
``--verbose`` for every offender); ``tests/test_torch_samples.py`` asserts the totals.
Importing ``op_db`` needs the ``expecttest`` package next to torch.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

OUTCOMES = ("agree", "disagree", "crash", "unsupported")

#: Samples per (op, dtype) at most; chosen evenly over the op's list, so the run is deterministic.
DEFAULT_CAP = 120

_PACKAGE_DIR = None  # the directory of the tinygrad_cnn actually imported, set by load()


class Unsupported(Exception):
    """Raised by the translation for something tinygrad_cnn does not express."""


class Skip(Exception):
    """The sample cannot be compared (random, or PyTorch itself refuses it)."""


# ----------------------------------------------------------------------------- the ops
@dataclass
class Spec:
    """One OpInfo entry and how tinygrad_cnn spells it.

    ``ours(tg, F)`` returns the callable to apply as ``callable(input, *args, **kwargs)``;
    ``dtypes`` the torch dtypes whose samples are replayed; ``skip(sample)`` a reason to
    leave a sample out, or None.
    """

    name: str
    variant: str
    ours: Callable
    dtypes: tuple = ("float32", "float64")
    skip: Callable | None = None
    label: str = ""

    def __post_init__(self):
        if not self.label:
            short = self.name.replace("nn.functional.", "F.")
            self.label = short + (f"[{self.variant}]" if self.variant else "")


def _fn(name):
    return lambda tg, F: getattr(F, name)


def _top(name):
    return lambda tg, F: getattr(tg, name)


def _method(name):
    return lambda tg, F: (lambda x, *a, **k: getattr(x, name)(*a, **k))


def _where(tg, F):
    # OpInfo's where is lambda self, condition, other: torch.where(condition, self, other)
    return lambda x, condition, other, **k: tg.where(condition, x, other, **k)


def _random_dropout(sample):
    p = sample.kwargs.get("p", sample.args[0] if sample.args else 0.5)
    training = sample.kwargs.get("training", sample.args[1] if len(sample.args) > 1 else True)
    if training and 0 < p < 1:
        return "random mask (training with 0 < p < 1)"
    return None


SPECS = [
    Spec("nn.functional.conv2d", "", _fn("conv2d")),
    Spec("nn.functional.max_pool2d", "", _fn("max_pool2d")),
    Spec("nn.functional.avg_pool2d", "", _fn("avg_pool2d")),
    Spec("nn.functional.adaptive_avg_pool2d", "", _fn("adaptive_avg_pool2d")),
    Spec("nn.functional.adaptive_max_pool2d", "", _fn("adaptive_max_pool2d")),
    Spec("nn.functional.max_unpool2d", "", _fn("max_unpool2d")),
    Spec("nn.functional.max_unpool2d", "grad", _fn("max_unpool2d")),
    Spec("nn.functional.cross_entropy", "", _fn("cross_entropy")),
    Spec("nn.functional.nll_loss", "", _fn("nll_loss")),
    Spec("nn.functional.mse_loss", "", _fn("mse_loss")),
    Spec("nn.functional.l1_loss", "", _fn("l1_loss")),
    Spec("nn.functional.binary_cross_entropy_with_logits", "", _fn("binary_cross_entropy_with_logits")),
    Spec("nn.functional.relu", "", _fn("relu")),
    Spec("tanh", "", _top("tanh")),
    Spec("sigmoid", "", _top("sigmoid")),
    Spec("softmax", "", _top("softmax")),
    Spec("softmax", "with_dtype", _top("softmax")),
    Spec("log_softmax", "", _top("log_softmax")),
    Spec("log_softmax", "with_dtype", _top("log_softmax")),
    Spec("nn.functional.dropout", "", _fn("dropout"), skip=_random_dropout),
    Spec("nn.functional.batch_norm", "", _fn("batch_norm")),
    Spec("nn.functional.batch_norm", "without_cudnn", _fn("batch_norm")),
    *[Spec(name, "", _top(name)) for name in ("sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "exp2",
                                                 "rsqrt", "reciprocal", "erf", "sign", "floor", "ceil", "trunc",
                                                 "clamp_min", "clamp_max", "prod", "logsumexp", "tril", "triu",
                                                 "outer", "dot", "bmm")],
    *[Spec("round", variant, _top("round")) for variant in ("", "decimals_0", "decimals_3", "decimals_neg_3")],
    Spec("einsum", "", lambda tg, F: (lambda tensors, equation: tg.einsum(equation, tensors))),
    *[Spec(name, "", _top(name)) for name in ("narrow", "tile", "movedim", "broadcast_to", "rot90",
                                                 "diagonal", "trace", "diag", "lerp", "hypot", "masked_select",
                                                 "logical_and", "logical_or", "logical_xor", "logical_not",
                                                 "isclose", "nonzero", "argwhere", "count_nonzero", "remainder",
                                                 "fmod", "atan2", "scatter", "scatter_add", "cumprod")],
    *[Spec("meshgrid", variant, _top("meshgrid")) for variant in ("variadic_tensors", "list_of_tensors")],
    *[Spec(f"nn.functional.{name}", "", _fn(name))
      for name in ("conv_transpose2d", "unfold", "conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d",
                   "adaptive_avg_pool1d", "adaptive_max_pool1d", "instance_norm", "local_response_norm",
                   "pixel_shuffle", "pixel_unshuffle", "upsample_nearest", "upsample_bilinear")],
    # OpInfo's embedding takes the weight first: lambda weight, idx, **kwargs: embedding(idx, weight, **kwargs)
    Spec("nn.functional.embedding", "", lambda tg, F: (lambda weight, idx, **k: F.embedding(idx, weight, **k))),
    Spec("nn.functional.pad", "constant", _fn("pad")),
    Spec("nn.functional.pad", "reflect", _fn("pad")),
    Spec("nn.functional.pad", "replicate", _fn("pad")),
    Spec("nn.functional.pad", "replicate_negative", _fn("pad")),
    Spec("nn.functional.pad", "circular", _fn("pad")),
    Spec("nn.functional.linear", "", _fn("linear")),
    Spec("nn.functional.leaky_relu", "", _fn("leaky_relu")),
    Spec("nn.functional.elu", "", _fn("elu")),
    Spec("nn.functional.gelu", "", _fn("gelu")),
    Spec("nn.functional.one_hot", "", _fn("one_hot"), dtypes=("int64",)),
    Spec("sum", "", _top("sum")),
    Spec("mean", "", _top("mean")),
    Spec("amax", "", _top("amax")),
    Spec("amin", "", _top("amin")),
    Spec("max", "reduction_with_dim", _top("max")),
    Spec("max", "reduction_no_dim", _top("max")),
    Spec("max", "binary", _top("max")),
    Spec("min", "reduction_with_dim", _top("min")),
    Spec("min", "reduction_no_dim", _top("min")),
    Spec("min", "binary", _top("min")),
    Spec("argmax", "", _top("argmax")),
    Spec("argmin", "", _top("argmin")),
    Spec("var", "", _top("var")),
    Spec("var", "unbiased", _top("var")),
    Spec("std", "", _top("std")),
    Spec("std", "unbiased", _top("std")),
    Spec("norm", "", _top("norm")),
    Spec("norm", "fro", _top("norm")),
    Spec("norm", "inf", _top("norm")),
    Spec("norm", "nuc", _top("norm")),
    Spec("flip", "", _top("flip")),
    Spec("maximum", "", _top("maximum")),
    Spec("minimum", "", _top("minimum")),
    Spec("div", "no_rounding_mode", _top("div")),
    Spec("div", "trunc_rounding", _top("div")),
    Spec("div", "floor_rounding", _top("div")),
    Spec("add", "", _top("add")),
    Spec("sub", "", _top("sub")),
    Spec("mul", "", _top("mul")),
    Spec("abs", "", _top("abs")),
    Spec("sqrt", "", _top("sqrt")),
    Spec("clamp", "", _top("clamp")),
    Spec("where", "", _where),
    Spec("cat", "", _top("cat")),
    Spec("stack", "", _top("stack")),
    Spec("transpose", "", _top("transpose")),
    Spec("permute", "", _top("permute")),
    Spec("reshape", "", _top("reshape")),
    Spec("view", "", _method("view")),
    Spec("squeeze", "", _top("squeeze")),
    Spec("squeeze", "multiple", _top("squeeze")),
    Spec("unsqueeze", "", _top("unsqueeze")),
    Spec("flatten", "", _top("flatten")),
    Spec("expand", "", _method("expand")),
    Spec("matmul", "", _top("matmul")),
]


# ----------------------------------------------------------------------------- translation
class _Translator:
    """torch values -> tinygrad_cnn values; one tinygrad_cnn tensor per torch tensor (by identity)."""

    def __init__(self, torch, tg):
        self.torch, self.tg = torch, tg
        self.pairs = {}  # id(torch tensor) -> (torch tensor, our tensor)
        self.dtypes = {torch.float32: tg.float32, torch.float64: tg.float64, torch.int64: tg.int64,
                       torch.int32: tg.int32}

    def __call__(self, value):
        torch = self.torch
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        if isinstance(value, torch.dtype):
            if value not in self.dtypes:
                raise Unsupported(f"dtype {value}")
            return self.dtypes[value]
        if isinstance(value, torch.Size):
            return tuple(value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, (torch.device, torch.memory_format, torch.layout)):
            raise Unsupported(f"argument {value!r}")
        return value

    def tensor(self, t):
        if id(t) in self.pairs:
            return self.pairs[id(t)][1]
        if t.is_complex() or t.dtype not in (self.torch.float32, self.torch.float64, self.torch.int64,
                                             self.torch.int32, self.torch.bool, self.torch.uint8):
            raise Unsupported(f"tensor dtype {t.dtype}")
        ours = self.tg.from_numpy(_same_strides_copy(self.torch, t))
        if t.requires_grad and t.is_floating_point():
            ours.requires_grad_(True)
        self.pairs[id(t)] = (t, ours)
        return ours


def _same_strides_copy(torch, t) -> np.ndarray:
    """A numpy copy of ``t`` laid out with ``t``'s strides where possible (non-contiguous
    samples stay non-contiguous on our side), sharing no memory with ``t``."""
    t = t.detach()
    if t.is_contiguous() or 0 in t.stride() or t.numel() == 0:
        return t.clone().numpy()
    try:
        c = torch.empty_strided(t.size(), t.stride(), dtype=t.dtype)
        c.copy_(t)
        return c.numpy()
    except RuntimeError:
        return t.clone().numpy()


def _tensors_in(value, torch, out):
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensors_in(v, torch, out)
    elif isinstance(value, dict):
        for v in value.values():
            _tensors_in(v, torch, out)
    return out


def _outputs(value, torch_or_tg_tensor) -> list:
    """The tensors of an op's result (a tensor, a tuple of them, or a namedtuple)."""
    if isinstance(value, (tuple, list)):
        return [v for v in value]
    return [value]


# ----------------------------------------------------------------------------- one sample
@dataclass
class Result:
    outcome: str
    detail: str = ""

    def __post_init__(self):
        self.detail = " ".join(self.detail.split())[:240]  # one line, short


#: (rtol, atol relative to the largest finite reference value): float32 leaves room for another
#: summation order; every sample agrees within (2e-6, 1e-6) and (1e-13, 1e-14) today.
_TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-13)}


def _close(ours: np.ndarray, ref: np.ndarray, dtype_name: str) -> str:
    """'' when equal within tolerance (NaN where NaN, same infinities), else what differs."""
    if ours.shape != ref.shape:
        return f"shape {ours.shape} != {ref.shape}"
    if ref.dtype.kind != "f":
        if not np.array_equal(ours, ref):
            return f"values differ ({int(np.sum(ours != ref))} of {ref.size})"
        return ""
    rtol, atol = _TOL.get(dtype_name, _TOL["float32"])
    finite = np.isfinite(ref)
    scale = float(np.max(np.abs(ref[finite]), initial=1.0))
    ok = np.isclose(ours, ref, rtol=rtol, atol=atol * scale, equal_nan=True)
    if ok.all():
        return ""
    bad = np.argwhere(~ok)[0]
    return (f"{int((~ok).sum())} of {ref.size} differ, first at {tuple(int(i) for i in bad)}: "
            f"{ours[tuple(bad)]!r} vs {ref[tuple(bad)]!r}")


def _our_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a clear refusal raised by tinygrad_cnn's own Python code."""
    if not isinstance(exc, (ValueError, TypeError, NotImplementedError)):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(_PACKAGE_DIR)


def _unknown_keywords(fn, kwargs) -> list:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    return [k for k in kwargs if k not in params]


def run_sample(spec: Spec, opinfo, sample, dtype_name: str, torch, tg, F, seed: int) -> Result:
    """Replay one SampleInput on both sides and classify it (raises Skip when not comparable)."""
    if spec.skip is not None and (reason := spec.skip(sample)):
        raise Skip(reason)
    tr = _Translator(torch, tg)
    try:
        x, args, kwargs = tr(sample.input), tr(tuple(sample.args)), tr(dict(sample.kwargs))
    except Unsupported as exc:
        return Result("unsupported", str(exc))

    # PyTorch first: a sample it refuses is no test of ours.
    try:
        ref = opinfo(sample.input, *sample.args, **sample.kwargs)
    except Exception as exc:  # noqa: BLE001 - any refusal by torch skips the sample
        raise Skip(f"torch raises {type(exc).__name__}") from None
    ref_outs = _outputs(ref, torch)

    ours_fn = spec.ours(tg, F)
    unknown = _unknown_keywords(ours_fn, kwargs)
    if unknown:
        return Result("unsupported", f"keyword {', '.join(unknown)} not accepted")
    try:
        got = ours_fn(x, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - classified below
        kind = "unsupported" if _our_error(exc) else "crash"
        return Result(kind, f"forward {type(exc).__name__}: {exc}")
    got_outs = _outputs(got, tg)
    if len(got_outs) != len(ref_outs):
        return Result("disagree", f"{len(got_outs)} outputs, torch gives {len(ref_outs)}")

    for i, (o, r) in enumerate(zip(got_outs, ref_outs)):
        if not isinstance(o, tg.Tensor):
            return Result("disagree", f"output {i} is a {type(o).__name__}, not a Tensor")
        r_np = r.detach().numpy()
        if o.data.dtype != r_np.dtype:
            return Result("disagree", f"output {i} dtype {o.data.dtype}, torch {r_np.dtype}")
        if diff := _close(o.data, r_np, dtype_name):
            return Result("disagree", f"output {i}: {diff}")

    # Backward: one random upstream gradient per differentiable output, the same on both sides.
    leaves = [(t, o) for t, o in tr.pairs.values() if o.requires_grad]
    diff_outs = [(o, r) for o, r in zip(got_outs, ref_outs) if r.requires_grad]
    if not leaves or not diff_outs:
        return Result("agree", "forward only (nothing differentiable)")
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(r.shape).astype(r.detach().numpy().dtype) for _, r in diff_outs]
    try:
        ref_grads = torch.autograd.grad([r for _, r in diff_outs], [t for t, _ in leaves],
                                        [torch.from_numpy(g.copy()) for g in upstream], allow_unused=True)
    except Exception:  # noqa: BLE001 - torch has no gradient here: compare the forward only
        return Result("agree", "forward only (torch's backward raises)")
    try:
        pending = [(o, g) for (o, _), g in zip(diff_outs, upstream) if o.requires_grad]
        if not pending and any(g is not None and bool(g.abs().sum()) for g in ref_grads):
            return Result("disagree", "our output does not require grad, torch's does")
        for k, (o, g) in enumerate(pending):
            o.backward(g, retain_graph=k < len(pending) - 1)
    except Exception as exc:  # noqa: BLE001
        kind = "unsupported" if _our_error(exc) else "crash"
        return Result(kind, f"backward {type(exc).__name__}: {exc}")
    for n, ((t, o), rg) in enumerate(zip(leaves, ref_grads)):
        ref_g = np.zeros(tuple(t.shape), t.detach().numpy().dtype) if rg is None else rg.numpy()
        our_g = np.zeros(o.shape, o.dtype) if o.grad is None else o.grad.data
        if our_g.dtype != ref_g.dtype:
            return Result("disagree", f"grad of input {n} dtype {our_g.dtype}, torch {ref_g.dtype}")
        if diff := _close(our_g, ref_g, dtype_name):
            return Result("disagree", f"grad of input {n} {tuple(t.shape)}: {diff}")
    return Result("agree", "forward and backward")


# ----------------------------------------------------------------------------- the run
@dataclass
class Report:
    counts: dict = field(default_factory=dict)  # label -> Counter
    offenders: list = field(default_factory=list)  # (label, dtype, index, outcome, description, detail)
    caps: dict = field(default_factory=dict)  # label -> (replayed, available) where capped

    def totals(self) -> Counter:
        total = Counter()
        for c in self.counts.values():
            total.update(c)
        return total


def load():
    """(torch, op_db, tinygrad_cnn, functional); raises ImportError without torch/expecttest."""
    import torch
    from torch.testing._internal.common_methods_invocations import op_db

    import tinygrad_cnn
    import tinygrad_cnn.functional as F

    global _PACKAGE_DIR
    _PACKAGE_DIR = str(Path(tinygrad_cnn.__file__).resolve().parent)
    return torch, op_db, tinygrad_cnn, F


def describe(sample, torch) -> str:
    def d(v):
        if isinstance(v, torch.Tensor):
            extra = "" if v.is_contiguous() else " strided"
            return f"T{tuple(v.shape)}{extra}"
        if isinstance(v, (list, tuple)):
            inner = ", ".join(d(i) for i in v)
            return f"[{inner}]" if isinstance(v, list) else f"({inner})"
        return repr(v)

    parts = [d(sample.input)] + [d(a) for a in sample.args] + [f"{k}={d(v)}" for k, v in sample.kwargs.items()]
    return ", ".join(parts)


def _evenly(samples: list, cap: int | None) -> list:
    if cap is None or len(samples) <= cap:
        return samples
    idx = np.linspace(0, len(samples) - 1, cap).round().astype(int)
    return [samples[i] for i in sorted(set(idx.tolist()))]


def run(select: str | None = None, cap: int | None = DEFAULT_CAP, dtypes=None, specs=None) -> Report:
    """Replay the samples of every Spec (of ``specs``, default :data:`SPECS`) whose label
    contains ``select`` (all when None)."""
    torch, op_db, tg, F = load()
    by_key = {(o.name, o.variant_test_name): o for o in op_db}
    report = Report()
    for spec in SPECS if specs is None else specs:
        if select and select not in spec.label:
            continue
        opinfo = by_key.get((spec.name, spec.variant))
        counts = report.counts.setdefault(spec.label, Counter())
        if opinfo is None:
            continue
        for dtype_name in spec.dtypes:
            if dtypes and dtype_name not in dtypes and dtype_name in ("float32", "float64"):
                continue
            dtype = getattr(torch, dtype_name)
            torch.manual_seed(zlib.crc32(f"{spec.label}/{dtype_name}".encode()))
            grad = opinfo.supports_autograd and dtype.is_floating_point
            samples = list(opinfo.sample_inputs("cpu", dtype, requires_grad=grad))
            chosen = _evenly(samples, cap)
            if len(chosen) < len(samples):
                prev = report.caps.get(spec.label, (0, 0))
                report.caps[spec.label] = (prev[0] + len(chosen), prev[1] + len(samples))
            for i, sample in enumerate(chosen):
                try:
                    res = run_sample(spec, opinfo, sample, dtype_name, torch, tg, F, seed=i)
                except Skip:
                    counts["skipped"] += 1
                    continue
                counts[res.outcome] += 1
                if res.detail == "forward and backward":
                    counts["with grads"] += 1
                if res.outcome != "agree":
                    report.offenders.append((spec.label, dtype_name, i, res.outcome,
                                             describe(sample, torch), res.detail))
    return report


def table(report: Report) -> str:
    cols = OUTCOMES + ("skipped", "with grads")
    width = max([len(k) for k in report.counts] + [len("total")])
    lines = [f"{'op':<{width}} " + " ".join(f"{c:>11}" for c in cols)]
    for label, c in report.counts.items():
        lines.append(f"{label:<{width}} " + " ".join(f"{c.get(k, 0):>11}" for k in cols))
    total = report.totals()
    lines.append(f"{'total':<{width}} " + " ".join(f"{total.get(k, 0):>11}" for k in cols))
    counted = sum(total.get(k, 0) for k in OUTCOMES)
    if counted:
        lines.append(f"unsupported: {total.get('unsupported', 0) / counted:.1%} of {counted} compared samples")
    for label, (kept, avail) in report.caps.items():
        lines.append(f"capped: {label} replays {kept} of its {avail} samples (evenly spaced)")
    return "\n".join(lines)


def offenders_text(report: Report, outcomes=("disagree", "crash", "unsupported"), limit=None) -> str:
    rows = sorted((o for o in report.offenders if o[3] in outcomes), key=lambda o: OUTCOMES.index(o[3]))
    lines = [f"{label} {dt} #{i} {outcome}: {desc} -> {detail}" for label, dt, i, outcome, desc, detail in rows]
    if limit is not None and len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(rows) - limit} more"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Replay PyTorch's OpInfo samples on tinygrad_cnn.")
    parser.add_argument("--ops", help="only the ops whose label contains this text (e.g. conv2d, pool)")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help="samples per op and dtype (0: no cap)")
    parser.add_argument("--dtype", choices=("float32", "float64"), help="only this float dtype")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every sample that did not agree")
    args = parser.parse_args(argv)
    report = run(args.ops, cap=args.cap or None, dtypes=(args.dtype,) if args.dtype else None)
    print(table(report))
    text = offenders_text(report, limit=None if args.verbose else 40)
    if text:
        print("\n" + text)
    total = report.totals()
    return 1 if total.get("disagree", 0) or total.get("crash", 0) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
