"""Benchmark suite: ``python -m tinygrad_cnn bench [options]`` (or ``python benchmarks/run.py``).

Every case is one forward AND backward pass (output, then a fixed random upstream
gradient propagated back to dx and dW), in float32, timed for up to four contenders:

``naive``
    The plain-loop reference (``tinygrad_cnn.reference``) on a reduced batch (N = 1 for
    single ops, N = 2 for the LeNet-5 step), its time extrapolated linearly to the full
    batch (the loops are linear in N) and labelled so.
``numpy``
    A NumPy-vectorised baseline written in this file: im2col through
    ``sliding_window_view`` + one BLAS matmul for the convolution forward, dW and dX
    (col2im by strided adds), reshape-based pooling.
``tinygrad_cnn``
    This framework through its public API with autograd (``Tensor``, ``F.*``,
    ``backward``; ``LeNet5`` + ``optim.SGD`` for the training step).
``torch``
    PyTorch on the CPU, when importable (skipped otherwise).

Fairness rules: float32 everywhere; 2 threads on every side (``torch.set_num_threads``,
``numba.set_num_threads``, BLAS through threadpoolctl); all contenders of a case are
timed INTERLEAVED in one process (each repeat times every contender once, round-robin,
so a noisy neighbour hurts them alike); the reported figure is the median of the
repeats after warm-up.  Before timing, every contender's results are compared with
tinygrad_cnn's so that the table only compares equal work.

Also measured: the machine's float32 matmul "peak" (median GFLOP/s of a 1024×1024
``np.matmul`` on 2 threads), used for the "% peak" column, and the cold start of
``import tinygrad_cnn`` + one ``F.conv2d`` in a fresh interpreter (Numba cache warm).

Outputs, in ``--out`` (default ``benchmarks/results``): ``results.json`` (machine info
and every sample), ``results.md`` (the table) and ``results.png`` (log-scale bar chart).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .reference import LENET_C3_TABLE

__all__ = [
    "main",
    "numpy_conv2d",
    "numpy_conv2d_backward",
    "numpy_max_pool2d",
    "numpy_max_pool2d_backward",
    "numpy_avg_pool2d",
    "numpy_avg_pool2d_backward",
    "NumpyLeNet5",
    "TorchLeNet5",
]

THREADS = 2  # threads on every side (``--threads`` changes it for one run)
DTYPE = np.float32
SCALED_TANH_A = 1.7159
SCALED_TANH_S = 2.0 / 3.0



# =====================================================================================
# The NumPy-vectorised baseline
# =====================================================================================
def _pair(v) -> tuple:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _conv_forward(x, w, bias=None, stride=1, padding=0, connection=None):
    """im2col conv: returns ``(z, cache)``; ``cache`` feeds :func:`_conv_backward`.

    ``cols[(c,k,l), (n,i,j)] = xp[n, c, i·sh+k, j·sw+l]`` is one copy out of a
    ``sliding_window_view`` (the Caffe layout: rows are kernel taps, columns are
    output pixels, so the copy's inner loop runs along image rows); then
    ``Z = W · cols`` is a single BLAS matmul.  A connection matrix is applied as a
    mask on the weight (the dense work is done).
    """
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    Hp, Wp = H + 2 * ph, W + 2 * pw
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, : (Ho - 1) * sh + 1 : sh, : (Wo - 1) * sw + 1 : sw]
    cols = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3)).reshape(C * kh * kw, N * Ho * Wo)  # the one copy
    mask = None if connection is None else np.asarray(connection, dtype=w.dtype)[:, :, None, None]
    wm = w if mask is None else w * mask
    w2 = wm.reshape(O, C * kh * kw)
    z = w2 @ cols  # (O, N·Ho·Wo)
    if bias is not None:
        z += np.asarray(bias, dtype=z.dtype)[:, None]
    z = np.ascontiguousarray(z.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3))
    cache = (cols, w2, mask, x.shape, (sh, sw), (ph, pw), (kh, kw), (Ho, Wo))
    return z, cache


def _conv_backward(dz, cache, need_dx=True):
    """dW = dZ·colsᵀ (one matmul), dX = col2im(Wᵀ·dZ) (one matmul + kh·kw strided adds)."""
    cols, w2, mask, (N, C, H, W), (sh, sw), (ph, pw), (kh, kw), (Ho, Wo) = cache
    O = w2.shape[0]
    d = np.ascontiguousarray(dz.transpose(1, 0, 2, 3)).reshape(O, N * Ho * Wo)
    dw = (d @ cols.T).reshape(O, C, kh, kw)
    if mask is not None:
        dw *= mask
    db = dz.sum(axis=(0, 2, 3))
    dx = None
    if need_dx:
        dcols = (w2.T @ d).reshape(C, kh, kw, N, Ho, Wo)
        dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dz.dtype)
        dxt = dxp.transpose(1, 0, 2, 3)  # a (C, N, Hp, Wp) view of dxp
        for k in range(kh):
            for l in range(kw):
                dxt[:, :, k : k + (Ho - 1) * sh + 1 : sh, l : l + (Wo - 1) * sw + 1 : sw] += dcols[:, k, l]
        dx = dxp[:, :, ph : ph + H, pw : pw + W] if ph or pw else dxp
    return dx, dw, db


def numpy_conv2d(x, w, bias=None, stride=1, padding=0, connection=None):
    """NumPy baseline of ``F.conv2d`` on ``(N, C, H, W)`` arrays (int/pair stride and padding)."""
    return _conv_forward(x, w, bias, stride, padding, connection)[0]


def numpy_conv2d_backward(x, w, dz, stride=1, padding=0, connection=None):
    """``(dx, dw, db)`` of :func:`numpy_conv2d` for the upstream gradient ``dz``."""
    _, cache = _conv_forward(x, w, None, stride, padding, connection)
    return _conv_backward(dz, cache)


def _pool_geometry(shape, kernel_size, stride):
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = (kh, kw) if stride is None else _pair(stride)
    H, W = shape[-2], shape[-1]
    return kh, kw, sh, sw, (H - kh) // sh + 1, (W - kw) // sw + 1


def _windows(x, kh, kw, sh, sw, Ho, Wo):
    """``(N, C, Ho, Wo, kh·kw)`` copy of every window, taps in row-major window order."""
    N, C = x.shape[:2]
    if (sh, sw) == (kh, kw):  # non-overlapping: a reshape of the covered part
        v = x[:, :, : Ho * kh, : Wo * kw].reshape(N, C, Ho, kh, Wo, kw).transpose(0, 1, 2, 4, 3, 5)
    else:
        v = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, : (Ho - 1) * sh + 1 : sh, : (Wo - 1) * sw + 1 : sw]
    return v.reshape(N, C, Ho, Wo, kh * kw)


def _scatter_windows(dwin, shape, kh, kw, sh, sw, Ho, Wo):
    """Adjoint of :func:`_windows`: add ``(N, C, Ho, Wo, kh·kw)`` back into an ``shape`` array."""
    N, C, H, W = shape
    if (sh, sw) == (kh, kw):
        d = dwin.reshape(N, C, Ho, Wo, kh, kw).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho * kh, Wo * kw)
        if (Ho * kh, Wo * kw) == (H, W):
            return np.ascontiguousarray(d)
        dx = np.zeros(shape, dtype=dwin.dtype)
        dx[:, :, : Ho * kh, : Wo * kw] = d
        return dx
    dx = np.zeros(shape, dtype=dwin.dtype)
    for k in range(kh):
        for l in range(kw):
            dx[:, :, k : k + (Ho - 1) * sh + 1 : sh, l : l + (Wo - 1) * sw + 1 : sw] += dwin[..., k * kw + l]
    return dx


def _max_pool_forward(x, kernel_size, stride=None):
    kh, kw, sh, sw, Ho, Wo = _pool_geometry(x.shape, kernel_size, stride)
    win = _windows(x, kh, kw, sh, sw, Ho, Wo)
    idx = win.argmax(axis=-1)[..., None]  # first maximum, row-major window order
    z = np.take_along_axis(win, idx, axis=-1)[..., 0]
    return z, (idx, x.shape, (kh, kw, sh, sw, Ho, Wo))


def _max_pool_backward(dz, cache):
    idx, shape, geo = cache
    dwin = np.zeros(dz.shape + (geo[0] * geo[1],), dtype=dz.dtype)
    np.put_along_axis(dwin, idx, dz[..., None], axis=-1)
    return _scatter_windows(dwin, shape, *geo)


def numpy_max_pool2d(x, kernel_size, stride=None):
    """NumPy baseline of ``F.max_pool2d`` on ``(N, C, H, W)``."""
    return _max_pool_forward(x, kernel_size, stride)[0]


def numpy_max_pool2d_backward(x, dz, kernel_size, stride=None):
    """dx of :func:`numpy_max_pool2d`: dz routed to the first maximum of each window."""
    return _max_pool_backward(dz, _max_pool_forward(x, kernel_size, stride)[1])


def _window_sum(x, kh, kw, sh, sw, Ho, Wo):
    N, C = x.shape[:2]
    if (sh, sw) == (kh, kw):
        return x[:, :, : Ho * kh, : Wo * kw].reshape(N, C, Ho, kh, Wo, kw).sum(axis=(3, 5))
    return _windows(x, kh, kw, sh, sw, Ho, Wo).sum(axis=-1)


def _window_sum_backward(ds, shape, kh, kw, sh, sw, Ho, Wo):
    N, C = shape[:2]
    if (sh, sw) == (kh, kw):
        d = np.broadcast_to(ds[:, :, :, None, :, None], (N, C, Ho, kh, Wo, kw)).reshape(N, C, Ho * kh, Wo * kw)
        if d.shape == tuple(shape):
            return d
        dx = np.zeros(shape, dtype=ds.dtype)
        dx[:, :, : Ho * kh, : Wo * kw] = d
        return dx
    return _scatter_windows(np.broadcast_to(ds[..., None], ds.shape + (kh * kw,)), shape, kh, kw, sh, sw, Ho, Wo)


def numpy_avg_pool2d(x, kernel_size, stride=None, weight=None):
    """NumPy baseline of ``F.avg_pool2d``: the window mean, or ``weight[c]·Σ(window)``."""
    geo = _pool_geometry(x.shape, kernel_size, stride)
    s = _window_sum(x, *geo)
    if weight is None:
        return s * x.dtype.type(1.0 / (geo[0] * geo[1]))
    return s * np.asarray(weight, dtype=x.dtype).reshape(1, -1, 1, 1)


def numpy_avg_pool2d_backward(x, dz, kernel_size, stride=None, weight=None):
    """dx of :func:`numpy_avg_pool2d`, or ``(dx, dweight)`` when ``weight`` is given."""
    geo = _pool_geometry(x.shape, kernel_size, stride)
    if weight is None:
        return _window_sum_backward(dz * dz.dtype.type(1.0 / (geo[0] * geo[1])), x.shape, *geo)
    w = np.asarray(weight, dtype=x.dtype)
    dx = _window_sum_backward(dz * w.reshape(1, -1, 1, 1), x.shape, *geo)
    dw = (dz * _window_sum(x, *geo)).sum(axis=(0, 2, 3))
    return dx, dw


# ------------------------------------------------------------------ LeNet-5 by hand
class _NumpyPrims:
    """Conv / subsampling primitives of the hand-written LeNet-5: the NumPy baseline."""

    name = "numpy"

    @staticmethod
    def conv_fwd(x, w, b, conn):
        return _conv_forward(x, w, b, 1, 0, conn)

    @staticmethod
    def conv_bwd(dz, cache, need_dx):
        return _conv_backward(dz, cache, need_dx)

    @staticmethod
    def pool_fwd(x, w):
        """Subsampling z = w^h·Σ(2×2 window); returns ``(z, cache)``."""
        geo = _pool_geometry(x.shape, 2, 2)
        s = _window_sum(x, *geo)
        return s * w[None, :, None, None], (s, w, x.shape, geo)

    @staticmethod
    def pool_bwd(dz, cache):
        """``(dx, dw)``: dx = w ⊠ dZ, dw^h = Σ dZ ∘ Σ(window)."""
        s, w, shape, geo = cache
        return _window_sum_backward(dz * w[None, :, None, None], shape, *geo), (dz * s).sum(axis=(0, 2, 3))


class _NaivePrims:
    """The same primitives through the plain-loop reference (``tinygrad_cnn.reference``)."""

    name = "naive"

    def __init__(self, ref):
        self.ref = ref

    def conv_fwd(self, x, w, b, conn):
        return self.ref.conv2d(x, w, b, 1, 0, conn), (x, w, conn)

    def conv_bwd(self, dz, cache, need_dx):
        x, w, conn = cache
        dx, dw, db = self.ref.conv2d_backward(x, w, dz, 1, 0, conn)
        return (dx if need_dx else None), dw, db

    def pool_fwd(self, x, w):
        return self.ref.avg_pool2d(x, 2, 2, weight=w), (x, w)

    def pool_bwd(self, dz, cache):
        x, w = cache
        return self.ref.avg_pool2d_backward(x, dz, 2, 2, weight=w)


class NumpyLeNet5:
    """LeNet-5 forward, cross-entropy, hand-derived backward and momentum SGD in NumPy.

    Same layers as :class:`tinygrad_cnn.models.LeNet5` (parameters taken from its
    ``state_dict()``).  ``prims`` chooses how convolutions and 2×2 subsampling run:
    the vectorised baseline (default) or the naive reference loops.
    """

    def __init__(self, state: dict, conn=LENET_C3_TABLE, lr=0.01, momentum=0.9, prims=None):
        self.p = {k: np.array(v, dtype=DTYPE, copy=True) for k, v in state.items()}
        self.conn = np.asarray(conn, dtype=np.uint8)
        self.lr, self.momentum = lr, momentum
        self.prims = prims if prims is not None else _NumpyPrims()
        self.buf: dict = {}
        self.grads: dict = {}

    def loss_and_grads(self, x, y):
        p, P, A, S = self.p, self.prims, DTYPE(SCALED_TANH_A), DTYPE(SCALED_TANH_S)
        g = {}
        # forward
        z1, c1 = P.conv_fwd(x, p["c1.weight"], p["c1.bias"], None)
        n2, cp2 = P.pool_fwd(z1, p["s2.weight"])
        t2 = np.tanh(S * (n2 + p["s2.bias"][None, :, None, None]))
        a2 = A * t2
        z3, c3 = P.conv_fwd(a2, p["c3.weight"], p["c3.bias"], self.conn)
        n4, cp4 = P.pool_fwd(z3, p["s4.weight"])
        t4 = np.tanh(S * (n4 + p["s4.bias"][None, :, None, None]))
        a4 = A * t4
        z5, c5 = P.conv_fwd(a4, p["c5.weight"], p["c5.bias"], None)
        t5 = np.tanh(S * z5)
        v = (A * t5).transpose(0, 1, 3, 2).reshape(x.shape[0], -1)  # vec: stack columns
        t6 = np.tanh(S * (v @ p["f6.weight"].T + p["f6.bias"]))
        a6 = A * t6
        logits = a6 @ p["output.weight"].T + p["output.bias"]
        m = logits.max(axis=1, keepdims=True)
        e = np.exp(logits - m)
        ssum = e.sum(axis=1, keepdims=True)
        N = x.shape[0]
        loss = float(np.mean(np.log(ssum[:, 0]) + m[:, 0] - logits[np.arange(N), y]))
        # backward
        dl = e / ssum
        dl[np.arange(N), y] -= 1
        dl /= N
        g["output.weight"], g["output.bias"] = dl.T @ a6, dl.sum(axis=0)
        dn6 = (dl @ p["output.weight"]) * (A * S) * (1 - t6 * t6)
        g["f6.weight"], g["f6.bias"] = dn6.T @ v, dn6.sum(axis=0)
        dv = dn6 @ p["f6.weight"]
        dz5 = dv.reshape(z5.shape[0], z5.shape[1], z5.shape[3], z5.shape[2]).transpose(0, 1, 3, 2)  # unvec
        dz5 = dz5 * (A * S) * (1 - t5 * t5)
        da4, g["c5.weight"], g["c5.bias"] = P.conv_bwd(np.ascontiguousarray(dz5), c5, True)
        dn4 = da4 * (A * S) * (1 - t4 * t4)
        dz3, g["s4.weight"] = P.pool_bwd(dn4, cp4)
        g["s4.bias"] = dn4.sum(axis=(0, 2, 3))
        da2, g["c3.weight"], g["c3.bias"] = P.conv_bwd(np.ascontiguousarray(dz3), c3, True)
        dn2 = da2 * (A * S) * (1 - t2 * t2)
        dz1, g["s2.weight"] = P.pool_bwd(dn2, cp2)
        g["s2.bias"] = dn2.sum(axis=(0, 2, 3))
        _, g["c1.weight"], g["c1.bias"] = P.conv_bwd(np.ascontiguousarray(dz1), c1, False)
        self.grads = {k: np.asarray(v, dtype=DTYPE) for k, v in g.items()}
        return loss

    def sgd_step(self):
        """PyTorch's momentum SGD: buf = μ·buf + g (buf = g at first), p -= lr·buf."""
        for k, gk in self.grads.items():
            b = self.buf.get(k)
            if b is None:
                b = self.buf[k] = gk.copy()
            else:
                b *= self.momentum
                b += gk
            self.p[k] -= DTYPE(self.lr) * b

    def train_step(self, x, y):
        loss = self.loss_and_grads(x, y)
        self.sgd_step()
        return loss


# =====================================================================================
# PyTorch LeNet-5 (same layers and parameters as tinygrad_cnn.models.LeNet5)
# =====================================================================================
def TorchLeNet5(state: dict, conn=LENET_C3_TABLE):
    """An ``nn.Module`` doing LeNet5's work in torch, initialised from our ``state_dict()``.

    S2/S4: ``avg_pool2d·4·coef + bias`` (= coef·Σ(2×2 window) + bias) then
    1.7159·tanh(2x/3); C3: a dense conv whose weight is multiplied by the table.
    """
    import torch
    import torch.nn.functional as TF

    class _Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for k, v in state.items():
                param = torch.nn.Parameter(torch.tensor(np.asarray(v, dtype=DTYPE)))
                self.register_parameter(k.replace(".", "_"), param)
            self.register_buffer("mask", torch.tensor(np.asarray(conn, dtype=DTYPE))[:, :, None, None])

        @staticmethod
        def squash(t):
            return SCALED_TANH_A * torch.tanh(t * SCALED_TANH_S)

        def sub(self, t, name):
            w, b = getattr(self, name + "_weight"), getattr(self, name + "_bias")
            return TF.avg_pool2d(t, 2) * (4.0 * w.view(1, -1, 1, 1)) + b.view(1, -1, 1, 1)

        def forward(self, x):
            x = TF.conv2d(x, self.c1_weight, self.c1_bias)
            x = self.squash(self.sub(x, "s2"))
            x = TF.conv2d(x, self.c3_weight * self.mask, self.c3_bias)
            x = self.squash(self.sub(x, "s4"))
            x = self.squash(TF.conv2d(x, self.c5_weight, self.c5_bias))
            x = x.transpose(2, 3).flatten(1)  # vec (column stacking; 1×1 maps here)
            x = self.squash(TF.linear(x, self.f6_weight, self.f6_bias))
            return TF.linear(x, self.output_weight, self.output_bias)

    return _Net()


# =====================================================================================
# Timing machinery
# =====================================================================================
@dataclass
class Contender:
    name: str
    fn: Callable[[], object]  # one forward+backward; returns outputs for the check
    scale: float = 1.0  # multiply measured seconds by this (naive extrapolation)
    label: str = ""
    budget_s: float | None = None  # cap on total timed seconds (the naive loops)
    samples: list = field(default_factory=list)
    error: str | None = None
    check: str = ""
    max_repeats: int | None = None  # None: every round
    out: object = field(default=None, repr=False)  # outputs of the check call

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass
class Case:
    key: str
    title: str
    detail: str
    flops: float  # floating-point operations of one forward+backward (ours)
    flops_note: str
    contenders: list
    check_refs: dict = field(default_factory=dict)  # contender name -> callable giving the outputs to compare with


def _relerr(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    scale = max(np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def _to_numpy(v):
    if v is None:
        return None
    if type(v).__module__.startswith("torch"):
        return v.detach().cpu().numpy()
    if hasattr(v, "data") and not isinstance(v, np.ndarray):  # a tinygrad_cnn Tensor
        return np.asarray(v.data)
    return np.asarray(v)


def _check(outputs, refs, tol=2e-3) -> str:
    errs = [_relerr(_to_numpy(o), _to_numpy(r)) for o, r in zip(outputs, refs)]
    worst = max(errs) if errs else 0.0
    return f"{'ok' if worst <= tol else 'MISMATCH'} (max rel err {worst:.1e})"


def _run_case(case: Case, warmup: int, repeats: int, log) -> None:
    """Check round, warm-up rounds, then ``repeats`` interleaved timed rounds."""
    alive = []
    ours_out = None
    for c in case.contenders:  # check round (also the first warm-up)
        try:
            t0 = time.perf_counter()
            out = c.fn()
            first = time.perf_counter() - t0
        except Exception as exc:  # a contender failing must not kill the suite
            c.error = f"{type(exc).__name__}: {exc}"
            log(f"    {c.display}: FAILED ({c.error})")
            continue
        if c.budget_s is not None:
            c.max_repeats = max(1, min(repeats, int(c.budget_s / max(first, 1e-9))))
            if first > c.budget_s / 2:  # too slow to repeat: the check call is the sample
                c.samples.append(first * c.scale)
                c.max_repeats = 0
        if c.name == "tinygrad_cnn":
            ours_out = out
        c.out = out
        alive.append(c)
    for c in alive:
        ref = case.check_refs.get(c.name, ours_out if c.name != "tinygrad_cnn" else None)
        if callable(ref):
            ref = ref()
        if ref is not None and c.out is not None:
            c.check = _check(c.out, ref)
        c.out = None
    for _ in range(warmup):
        for c in alive:
            if c.budget_s is None:
                c.fn()
    for r in range(repeats):
        gc.collect()
        for c in alive:
            if c.max_repeats is not None and r >= c.max_repeats:
                continue
            t0 = time.perf_counter()
            c.fn()
            c.samples.append((time.perf_counter() - t0) * c.scale)


# =====================================================================================
# The cases
# =====================================================================================
def _conv_flops(N, C, O, Ho, Wo, kh, kw, conn=None, dx=True, dw=True) -> float:
    pairs = O * C if conn is None else int(np.asarray(conn).sum())
    fwd = 2.0 * N * Ho * Wo * kh * kw * pairs
    return fwd * (1 + int(dx) + int(dw))


def _rng(seed):
    return np.random.default_rng(seed)


def _conv_case(key, title, N, C, H, W, O, k, padding, conn, n_naive, mods, seed, slow_naive=False):
    ref, F, Tensor, torch = mods["reference"], mods["F"], mods["Tensor"], mods["torch"]
    if slow_naive and mods["quick"]:
        ref = None  # one naive call would take about a minute
        mods["notes"].append(f"{title}: naive skipped with --quick (one reference call at N=1 takes about a minute)")
    rng = _rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(DTYPE)
    w = (rng.standard_normal((O, C, k, k)) / math.sqrt(C * k * k)).astype(DTYPE)
    if conn is not None:
        w *= conn[:, :, None, None]
    b = rng.standard_normal(O).astype(DTYPE)
    Ho, Wo = H + 2 * padding - k + 1, W + 2 * padding - k + 1
    g = rng.standard_normal((N, O, Ho, Wo)).astype(DTYPE)
    contenders = []
    refs = {}
    if ref is not None:
        xs, gs = x[:n_naive].copy(), g[:n_naive].copy()

        def naive():
            z = ref.conv2d(xs, w, b, 1, padding, conn)
            dx, dw, db = ref.conv2d_backward(xs, w, gs, 1, padding, conn)
            return z, dx, dw

        contenders.append(Contender("naive", naive, N / n_naive, f"naive (extrapolated from N={n_naive})",
                                    budget_s=mods["naive_budget"]))

        def ours_small():
            tx, tw = Tensor(xs, requires_grad=True), Tensor(w, requires_grad=True)
            z = F.conv2d(tx, tw, Tensor(b), padding=padding, connection=conn)
            z.backward(gs)
            return z, tx.grad, tw.grad

        refs["naive"] = ours_small

    def numpy_fb():
        z, cache = _conv_forward(x, w, b, 1, padding, conn)
        dx, dw, db = _conv_backward(g, cache)
        return z, dx, dw

    contenders.append(Contender("numpy", numpy_fb))
    tx, tw, tb = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)

    def ours():
        tx.grad = tw.grad = tb.grad = None
        z = F.conv2d(tx, tw, tb, padding=padding, connection=conn)
        z.backward(g)
        return z, tx.grad, tw.grad

    contenders.append(Contender("tinygrad_cnn", ours))
    if torch is not None:
        px, pw, pb, pg = (torch.tensor(a, requires_grad=r) for a, r in ((x, True), (w, True), (b, True), (g, False)))
        pmask = None if conn is None else torch.tensor(conn.astype(DTYPE))[:, :, None, None]

        def torch_fb():
            px.grad = pw.grad = pb.grad = None
            ww = pw if pmask is None else pw * pmask
            z = torch.nn.functional.conv2d(px, ww, pb, padding=padding)
            z.backward(pg)
            return z, px.grad, pw.grad

        contenders.append(Contender("torch", torch_fb))
    detail = f"{N}×{C}×{H}×{W} → {O}@{k}×{k}" + (f", padding {padding}" if padding else "") + (
        f", connection table ({int(conn.sum())} of {O * C} pairs)" if conn is not None else "")
    note = "2·MACs forward + 2·MACs dx + 2·MACs dW" + (", connected pairs only" if conn is not None else "")
    return Case(key, title, detail, _conv_flops(N, C, O, Ho, Wo, k, k, conn), note, contenders, refs)


def _pool_case(key, title, kind, N, C, H, W, k, n_naive, mods, seed):
    ref, F, Tensor, torch = mods["reference"], mods["F"], mods["Tensor"], mods["torch"]
    rng = _rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(DTYPE)
    Ho, Wo = H // k, W // k
    g = rng.standard_normal((N, C, Ho, Wo)).astype(DTYPE)
    contenders, refs = [], {}
    if ref is not None:
        xs, gs = x[:n_naive].copy(), g[:n_naive].copy()
        if kind == "max":
            def naive():
                return ref.max_pool2d(xs, k, k), ref.max_pool2d_backward(xs, gs, k, k)
        else:
            def naive():
                return ref.avg_pool2d(xs, k, k), _first(ref.avg_pool2d_backward(xs, gs, k, k))

        contenders.append(Contender("naive", naive, N / n_naive, f"naive (extrapolated from N={n_naive})",
                                    budget_s=mods["naive_budget"]))

        def ours_small():
            tx = Tensor(xs, requires_grad=True)
            z = (F.max_pool2d if kind == "max" else F.avg_pool2d)(tx, k)
            z.backward(gs)
            return z, tx.grad

        refs["naive"] = ours_small
    if kind == "max":
        def numpy_fb():
            z, cache = _max_pool_forward(x, k)
            return z, _max_pool_backward(g, cache)
    else:
        geo = _pool_geometry(x.shape, k, None)
        inv = DTYPE(1.0 / (k * k))

        def numpy_fb():
            z = _window_sum(x, *geo) * inv
            return z, _window_sum_backward(g * inv, x.shape, *geo)

    contenders.append(Contender("numpy", numpy_fb))
    tx = Tensor(x, requires_grad=True)
    op = F.max_pool2d if kind == "max" else F.avg_pool2d

    def ours():
        tx.grad = None
        z = op(tx, k)
        z.backward(g)
        return z, tx.grad

    contenders.append(Contender("tinygrad_cnn", ours))
    if torch is not None:
        px, pg = torch.tensor(x, requires_grad=True), torch.tensor(g)
        top = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d

        def torch_fb():
            px.grad = None
            z = top(px, k)
            z.backward(pg)
            return z, px.grad

        contenders.append(Contender("torch", torch_fb))
    flops = 2.0 * N * C * Ho * Wo * k * k  # one compare/add per window element forward, one per element backward
    return Case(key, title, f"{N}×{C}×{H}×{W}, {k}×{k} window, stride {k}", flops,
                "1 op per window element forward + 1 backward (memory-bound)", contenders, refs)


def _first(v):
    return v[0] if isinstance(v, tuple) else v


def _lenet_flops(N) -> float:
    """2·MACs per layer forward, + 2·MACs for dW and (except C1) for dx."""
    layers = [  # (MACs per example, has dx)
        (6 * 28 * 28 * 25, False),  # C1
        (int(LENET_C3_TABLE.sum()) * 10 * 10 * 25, True),  # C3 (connected pairs)
        (120 * 16 * 25, True),  # C5
        (120 * 84, True),  # F6
        (84 * 10, True),  # output
    ]
    return sum(2.0 * N * m * (2 + int(dx)) for m, dx in layers)


def _lenet_case(N, n_naive, mods, seed):
    ref, F, Tensor, torch = mods["reference"], mods["F"], mods["Tensor"], mods["torch"]
    from .models import LeNet5
    from .optim import SGD

    rng = _rng(seed)
    x = rng.standard_normal((N, 1, 32, 32)).astype(DTYPE)
    y = rng.integers(0, 10, size=N).astype(np.int64)
    model = LeNet5()
    state = {k: np.asarray(v, dtype=DTYPE) for k, v in model.state_dict().items()}
    model.load_state_dict(state)  # float32 everywhere
    lr, mom = 0.01, 0.9
    contenders, refs = [], {}
    if ref is not None:
        naive_net = NumpyLeNet5(state, lr=lr, momentum=mom, prims=_NaivePrims(ref))
        xs, ys = x[:n_naive].copy(), y[:n_naive].copy()

        def naive():
            loss = naive_net.train_step(xs, ys)
            return (np.float32(loss),)

        contenders.append(Contender("naive", naive, N / n_naive, f"naive (extrapolated from N={n_naive})",
                                    budget_s=mods["naive_budget"]))

        def numpy_small():  # the check: the vectorised baseline's first step on the same small batch
            return (np.float32(NumpyLeNet5(state, lr=lr, momentum=mom).train_step(xs, ys)),)

        refs["naive"] = numpy_small
    np_net = NumpyLeNet5(state, lr=lr, momentum=mom)

    def numpy_step():
        loss = np_net.train_step(x, y)
        return np.float32(loss), np_net.grads["c1.weight"], np_net.grads["c3.weight"], np_net.grads["f6.weight"]

    contenders.append(Contender("numpy", numpy_step))
    opt = SGD(model.parameters(), lr=lr, momentum=mom)
    tx, ty = Tensor(x), Tensor(y)

    def ours():
        opt.zero_grad()
        loss = F.cross_entropy(model(tx), ty)
        loss.backward()
        opt.step()
        return loss, model.c1.weight.grad, model.c3.weight.grad, model.f6.weight.grad

    contenders.append(Contender("tinygrad_cnn", ours))
    if torch is not None:
        tnet = TorchLeNet5(state)
        topt = torch.optim.SGD(tnet.parameters(), lr=lr, momentum=mom)
        px, py = torch.tensor(x), torch.tensor(y)

        def torch_step():
            topt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(tnet(px), py)
            loss.backward()
            topt.step()
            return loss, tnet.c1_weight.grad, tnet.c3_weight.grad, tnet.f6_weight.grad

        contenders.append(Contender("torch", torch_step))
    return Case("lenet_step", "LeNet-5 training step",
                f"batch {N}: forward, cross-entropy, backward, SGD (momentum 0.9)",
                _lenet_flops(N),
                "2·MACs per conv/linear layer forward + dW + dx (no dx for C1); elementwise ops not counted",
                contenders, refs)


# =====================================================================================
# Machine: peak, info, cold start
# =====================================================================================
def _limit_blas():
    """Limit BLAS/OpenMP pools to THREADS; returns (context or None, how)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=THREADS), "threadpoolctl"
    except ImportError:  # only effective if set before numpy loaded its BLAS
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(THREADS)
        return None, "environment variables (threadpoolctl not installed; effective only before numpy is imported)"


def measure_peak(repeats: int, n: int = 1024) -> dict:
    rng = _rng(1)
    a = rng.standard_normal((n, n)).astype(DTYPE)
    b = rng.standard_normal((n, n)).astype(DTYPE)
    out = np.empty((n, n), dtype=DTYPE)
    for _ in range(3):
        np.matmul(a, b, out=out)
    ts = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        ts.append(time.perf_counter() - t0)
    med = statistics.median(ts)
    return {"n": n, "median_ms": med * 1e3, "gflops": 2.0 * n**3 / med / 1e9, "best_gflops": 2.0 * n**3 / min(ts) / 1e9}


def _loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_info(blas_how: str, torch) -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba

    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "torch": getattr(torch, "__version__", None),
        "threads": THREADS,
        "blas_thread_limit": blas_how,
        "loadavg_end": _loadavg(),
    }
    try:
        info["numba_threading_layer"] = numba.threading_layer()
    except Exception:  # raised before any parallel kernel ran
        info["numba_threading_layer"] = None
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
                        for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        pass
    return info


_COLD_SCRIPT = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    import numpy as np
    import tinygrad_cnn
    import tinygrad_cnn.functional as F
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 32, 32)).astype(np.float32)
    w = rng.standard_normal((6, 1, 5, 5)).astype(np.float32)
    F.conv2d(x, w)
    t2 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "first_conv2d_s": t2 - t1, "total_s": t2 - t0}))
    """
)


def measure_cold_start(runs: int = 2) -> dict:
    """``import tinygrad_cnn`` + one forward ``F.conv2d`` (64×1×32×32, 6@5×5) in a fresh interpreter.

    Run ``runs`` times; the last run is reported (the first may populate Numba's
    on-disk cache).  ``process_s`` is the whole subprocess, interpreter start included.
    """
    env = dict(os.environ)
    env.update({"NUMBA_NUM_THREADS": str(THREADS), "OMP_NUM_THREADS": str(THREADS),
                "OPENBLAS_NUM_THREADS": str(THREADS), "MKL_NUM_THREADS": str(THREADS)})
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    results = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _COLD_SCRIPT], capture_output=True, text=True, env=env,
                              timeout=600)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["process_s"] = wall
        results.append(r)
    out = dict(results[-1])
    out["runs"] = results
    return out


# =====================================================================================
# Reporting
# =====================================================================================
CONTENDER_ORDER = ["naive", "numpy", "tinygrad_cnn", "torch"]


def _summarise(case: Case, peak_gflops: float | None) -> dict:
    res = {"key": case.key, "title": case.title, "detail": case.detail, "flops": case.flops,
           "flops_note": case.flops_note, "contenders": {}}
    for c in case.contenders:
        entry = {"label": c.display, "check": c.check, "error": c.error, "scale": c.scale,
                 "samples_ms": [s * 1e3 for s in c.samples]}
        if c.samples:
            entry["median_ms"] = statistics.median(c.samples) * 1e3
            entry["min_ms"] = min(c.samples) * 1e3
            entry["repeats"] = len(c.samples)
        res["contenders"][c.name] = entry
    med = {k: v.get("median_ms") for k, v in res["contenders"].items()}
    ours = med.get("tinygrad_cnn")
    if ours:
        if med.get("torch"):
            res["ours_over_torch"] = ours / med["torch"]
        if med.get("naive"):
            res["speedup_over_naive"] = med["naive"] / ours
        if med.get("numpy"):
            res["speedup_over_numpy"] = med["numpy"] / ours
        res["gflops"] = case.flops / (ours / 1e3) / 1e9
        if peak_gflops:
            res["percent_of_peak"] = 100.0 * res["gflops"] / peak_gflops
    return res


def _fmt_ms(v) -> str:
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _fmt_x(v, digits=2) -> str:
    return "—" if v is None else f"{v:.{digits}f}×" if v < 100 else f"{v:,.0f}×"


def render_table(results: list, naive_labels: dict) -> str:
    head = ["case", "naive ms", "numpy ms", "tinygrad_cnn ms", "torch ms", "ours/torch",
            "speed-up vs naive", "speed-up vs numpy", "GFLOP/s (ours)", "% peak"]
    rows = []
    for r in results:
        c = r["contenders"]
        med = {k: c.get(k, {}).get("median_ms") for k in CONTENDER_ORDER}
        naive = _fmt_ms(med["naive"])
        if med["naive"] is not None and r["key"] in naive_labels:
            naive += f" ({naive_labels[r['key']]})"
        rows.append([
            r["title"], naive, _fmt_ms(med["numpy"]), _fmt_ms(med["tinygrad_cnn"]), _fmt_ms(med["torch"]),
            _fmt_x(r.get("ours_over_torch")), _fmt_x(r.get("speedup_over_naive"), 0),
            _fmt_x(r.get("speedup_over_numpy"), 1),
            "—" if r.get("gflops") is None else f"{r['gflops']:.2f}",
            "—" if r.get("percent_of_peak") is None else f"{r['percent_of_peak']:.1f}%",
        ])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def geomean_ours_over_torch(results: list):
    ratios = [r["ours_over_torch"] for r in results if r.get("ours_over_torch")]
    if not ratios:
        return None, 0
    return math.exp(sum(math.log(v) for v in ratios) / len(ratios)), len(ratios)


def write_chart(results: list, path: str) -> str | None:
    """Grouped bar chart, log-scale ms, one bar per contender; returns a note when skipped."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib not installed: results.png not written"
    names = [n for n in CONTENDER_ORDER
             if any(r["contenders"].get(n, {}).get("median_ms") for r in results)]
    # a bare Figure, so running the suite never switches a notebook's plotting backend
    fig = Figure(figsize=(max(6.0, 1.6 * len(results) + 2), 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(len(names), 1)
    colors = {"naive": "#bbbbbb", "numpy": "#4c72b0", "tinygrad_cnn": "#dd8452", "torch": "#55a868"}
    for i, n in enumerate(names):
        xs, ys = [], []
        for j, r in enumerate(results):
            v = r["contenders"].get(n, {}).get("median_ms")
            if v:
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                ys.append(v)
        label = n + (" (extrapolated)" if n == "naive" else "")
        ax.bar(xs, ys, width, label=label, color=colors.get(n))
    ax.set_yscale("log")
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([r["title"] for r in results], rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("median ms (forward + backward), log scale")
    ax.set_title(f"tinygrad_cnn benchmark, float32, {THREADS} threads")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return None


def render_markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# tinygrad_cnn benchmark results",
        "",
        f"{m['date']} · {m['cpu_model']} ({m['cpus_usable']} usable of {m['cpu_count']} CPUs) · "
        f"numpy {m['numpy']}, numba {m['numba']}, torch {m['torch'] or 'not installed'} · "
        f"float32, {THREADS} threads each · median of {report['settings']['repeats']} interleaved repeats "
        f"after {report['settings']['warmup']} warm-up rounds · load average {m.get('loadavg_start')} at start, "
        f"{m.get('loadavg_end')} at end",
        "",
        report["table"],
        "",
    ]
    gm, n = report["geomean_ours_over_torch"], report["geomean_cases"]
    if gm is not None:
        lines.append(f"Geometric mean of ours/PyTorch over {n} case(s): **{gm:.2f}×** "
                     "(below 1 = faster than PyTorch).")
    p = report["peak"]
    lines.append(f"Machine float32 matmul peak ({p['n']}×{p['n']} np.matmul, {THREADS} threads, "
                 f"{m['blas_thread_limit']}): {p['gflops']:.1f} GFLOP/s (median).")
    cs = report.get("cold_start")
    if cs and "error" not in cs:
        lines.append(f"Cold start (`import tinygrad_cnn` + one `F.conv2d`, Numba cache warm, 2nd run): "
                     f"{cs['total_s'] * 1e3:.0f} ms in-process ({cs['import_s'] * 1e3:.0f} ms import + "
                     f"{cs['first_conv2d_s'] * 1e3:.0f} ms first conv); "
                     f"{cs['process_s'] * 1e3:.0f} ms for the whole subprocess.")
    elif cs:
        lines.append(f"Cold start: failed ({cs['error']}).")
    lines += ["", "Cases:", ""]
    for r in report["cases"]:
        checks = ", ".join(f"{k}: {v['check']}" for k, v in r["contenders"].items() if v.get("check"))
        lines.append(f"- **{r['title']}**: {r['detail']}. FLOPs: {r['flops'] / 1e6:.1f} M ({r['flops_note']}). "
                     f"Checks vs tinygrad_cnn: {checks or 'n/a'}.")
    lines += ["", "The naive column is the plain-loop reference timed on a reduced batch and scaled linearly "
              "to the full batch (see the label). Ratios and GFLOP/s use tinygrad_cnn's median."]
    for note in report.get("notes", []):
        lines.append(f"\nNote: {note}")
    return "\n".join(lines) + "\n"


# =====================================================================================
# main
# =====================================================================================
CASE_KEYS = ["conv_c1", "conv_c3", "conv_mid", "maxpool", "avgpool", "lenet_step", "cold_start"]


class _Parser(argparse.ArgumentParser):
    """Argument errors are one line on stderr (``error: ...``) and exit status 2, as in ``__main__``."""

    def error(self, message):
        self.exit(2, f"error: {' '.join(str(message).split())} (see '{self.prog} --help')\n")


def _parse(argv):
    p = _Parser(prog="python -m tinygrad_cnn bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="cases: " + ", ".join(CASE_KEYS))
    p.add_argument("--quick", action="store_true", help="fewer repeats and a smaller time budget for the naive loops")
    p.add_argument("--repeats", type=int, default=None, help="timed interleaved rounds per case (default 15, quick 5)")
    p.add_argument("--warmup", type=int, default=None, help="untimed rounds before timing (default 3, quick 1)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="run only cases whose name contains NAME (repeatable or comma-separated), "
                        "e.g. c3, pool, lenet, cold")
    p.add_argument("--out", default=os.path.join("benchmarks", "results"),
                   help="output directory (default benchmarks/results)")
    p.add_argument("--naive-budget", type=float, default=None,
                   help="max seconds of naive timing per case (default 20, quick 3); fewer naive repeats when slow")
    p.add_argument("--no-naive", action="store_true", help="skip the naive reference loops")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    p.add_argument("--threads", type=int, default=2,
                   help="threads for every contender: torch, Numba, BLAS (default 2, the published setting)")
    a = p.parse_args(argv)
    a.repeats = a.repeats if a.repeats is not None else (5 if a.quick else 15)
    a.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 3)
    a.naive_budget = a.naive_budget if a.naive_budget is not None else (3.0 if a.quick else 20.0)
    if a.repeats < 1 or a.warmup < 0 or a.threads < 1:
        p.error("--repeats and --threads must be >= 1 and --warmup >= 0")
    filters = [f.strip().lower() for item in (a.only or []) for f in item.split(",") if f.strip()]
    a.selected = [k for k in CASE_KEYS if not filters or any(f in k for f in filters)]
    if not a.selected:
        p.error(f"--only {','.join(a.only)} matches no case; cases: {', '.join(CASE_KEYS)}")
    return a


def _import_torch(disabled: bool):
    if disabled:
        return None, "torch skipped (--no-torch)"
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install
        return None, f"torch not importable ({type(exc).__name__}: {exc}); its column is empty"
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set or parallel work already started
        pass
    return torch, None


def main(argv=None) -> int:
    """Run the suite with command-line ``argv`` (default ``sys.argv[1:]``); returns the exit status
    (0, or 1 when some contender's results differ from tinygrad_cnn's)."""
    global THREADS
    args = _parse(argv)
    THREADS = args.threads
    notes = []
    load_start = _loadavg()
    blas_ctx, blas_how = _limit_blas()
    torch, note = _import_torch(args.no_torch)
    if note:
        notes.append(note)
    import numba

    numba.set_num_threads(min(THREADS, numba.config.NUMBA_NUM_THREADS))
    from . import functional as F
    from .tensor import Tensor

    reference = None
    if not args.no_naive:
        try:
            from . import reference
        except ImportError as exc:
            notes.append(f"tinygrad_cnn.reference not importable ({exc}); naive column empty")
    mods = {"reference": reference, "F": F, "Tensor": Tensor, "torch": torch, "naive_budget": args.naive_budget,
            "quick": args.quick, "notes": notes}

    def log(msg):
        print(msg, flush=True)

    try:
        peak = measure_peak(5 if args.quick else 15)
        log(f"float32 matmul peak ({peak['n']}×{peak['n']}, {THREADS} threads, {blas_how}): "
            f"{peak['gflops']:.1f} GFLOP/s")
        builders = {
            "conv_c1": lambda: _conv_case("conv_c1", "conv C1", 64, 1, 32, 32, 6, 5, 0, None, 1, mods, 10),
            "conv_c3": lambda: _conv_case("conv_c3", "conv C3", 64, 6, 14, 14, 16, 5, 0, LENET_C3_TABLE, 1, mods, 11),
            "conv_mid": lambda: _conv_case("conv_mid", "conv mid", 32, 32, 32, 32, 64, 3, 1, None, 1, mods, 12,
                                          slow_naive=True),
            "maxpool": lambda: _pool_case("maxpool", "max pool", "max", 64, 16, 28, 28, 2, 1, mods, 13),
            "avgpool": lambda: _pool_case("avgpool", "avg pool", "avg", 64, 16, 28, 28, 2, 1, mods, 14),
            "lenet_step": lambda: _lenet_case(64, 2, mods, 15),
        }
        results, naive_labels = [], {}
        for key in args.selected:
            if key == "cold_start":
                continue
            case = builders[key]()
            log(f"[{case.title}] {case.detail}")
            _run_case(case, args.warmup, args.repeats, log)
            r = _summarise(case, peak["gflops"])
            for c in case.contenders:
                if c.name == "naive" and c.label:
                    naive_labels[key] = c.label.split("(", 1)[1].rstrip(")")
                entry = r["contenders"][c.name]
                if entry.get("median_ms") is not None:
                    log(f"    {c.display:>36}: {_fmt_ms(entry['median_ms']):>9} ms  "
                        f"({entry['repeats']} runs)  {c.check}")
            r["naive_label"] = naive_labels.get(key)
            results.append(r)
        cold = None
        if "cold_start" in args.selected:
            log("[cold start] import tinygrad_cnn + one F.conv2d in a fresh interpreter (2 runs, 2nd reported)")
            cold = measure_cold_start()
            if "error" in cold:
                log(f"    failed: {cold['error']}")
            else:
                log(f"    {cold['total_s'] * 1e3:.0f} ms in-process ({cold['import_s'] * 1e3:.0f} import + "
                    f"{cold['first_conv2d_s'] * 1e3:.0f} first conv), {cold['process_s'] * 1e3:.0f} ms whole process")
        info = machine_info(blas_how, torch)
        info["loadavg_start"] = load_start
    finally:
        if blas_ctx is not None:
            blas_ctx.restore_original_limits()

    mismatches = [f"{r['title']}: {k} {v['check']}" for r in results for k, v in r["contenders"].items()
                  if v.get("check", "").startswith("MISMATCH")]
    failures = [f"{r['title']}: {k} failed ({v['error']})"
                for r in results for k, v in r["contenders"].items() if v.get("error")]
    notes.extend(f"results differ from tinygrad_cnn's: {m}" for m in mismatches)
    notes.extend(failures)
    table = render_table(results, naive_labels)
    gm, n_gm = geomean_ours_over_torch(results)
    if results and "lenet_step" in args.selected and reference is not None:
        notes.append("LeNet-5 naive: the step with conv and pooling through the reference loops on N=2 "
                     "(dense layers, loss and SGD in numpy), scaled ×32 to batch 64.")
    report = {"machine": info, "peak": peak,
              "settings": {"repeats": args.repeats, "warmup": args.warmup, "quick": args.quick,
                           "naive_budget_s": args.naive_budget, "threads": THREADS, "dtype": "float32"},
              "cases": results, "table": table, "geomean_ours_over_torch": gm, "geomean_cases": n_gm,
              "cold_start": cold, "notes": notes}
    os.makedirs(args.out, exist_ok=True)
    chart_note = write_chart(results, os.path.join(args.out, "results.png")) if results else "no cases run: no chart"
    if chart_note:
        notes.append(chart_note)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(report, fh, indent=2)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(render_markdown(report))
    print()
    print(table)
    if gm is not None:
        print(f"\ngeometric mean ours/torch over {n_gm} case(s): {gm:.2f}x")
    for note in notes:
        print(f"note: {note}")
    print(f"\nwrote {os.path.join(args.out, 'results.json')}, results.md" + ("" if chart_note else ", results.png"))
    return 1 if mismatches else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
