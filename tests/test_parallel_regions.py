"""Every parallel region of a compiled kernel is a ``prange`` loop written in its source.

Inside a ``parallel=True`` kernel, Numba turns an array expression outside the
``prange`` loop (``np.zeros(...)``, ``total += partial[k]``) into a parallel loop of its
own: one more wake of the thread pool per call, or one per iteration of a serial loop
around it.  The weight gradient once launched 16 of them per call for a batch of 64
(C3's dW 303 µs instead of 236).  This test compiles the kernels afresh (a private
cache directory, so that Numba's parallel diagnostics exist) and checks the source
line of every top-level parallel loop.
"""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent(r'''
    import importlib, linecache, sys
    import numpy as np
    from numba import njit, prange

    def hidden_regions(dispatcher):
        """(line, source) of each top-level parallel loop that is not a prange."""
        found = []
        for sig in dispatcher.signatures:
            diag = dispatcher.get_metadata(sig)["parfor_diagnostics"]
            nested = {i for ids in diag.nested_fusion_info.values() for i in ids}
            for pf in diag.get_parfors():
                if pf.id in nested:
                    continue
                line = linecache.getline(pf.loc.filename, pf.loc.line).strip()
                if "prange(" not in line:
                    found.append((pf.loc.line, line))
        return found

    # negative control: the checker must see a hidden region
    @njit(parallel=True)
    def _bad(x):
        out = np.zeros(x.shape)
        for i in prange(x.shape[0]):
            out[i] += x[i]
        return out
    _bad(np.ones(4))
    assert hidden_regions(_bad), "the checker missed np.zeros outside prange"

    import tinygrad_cnn as T
    from tinygrad_cnn import functional as F
    from tinygrad_cnn.data import augment
    from tinygrad_cnn.figures import LENET_C3_TABLE
    from tinygrad_cnn.functional.pooling import subsampling

    rng = np.random.default_rng(0)  # float32 only: a kernel's loops are the same for float64

    def t(*shape):
        return T.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    x, x8 = t(2, 6, 9, 9), t(2, 6, 8, 8)
    runs = [
        lambda: F.conv2d(x, t(16, 6, 3, 3), t(16), connection=LENET_C3_TABLE),
        lambda: F.conv2d(x, t(4, 6, 3, 3), stride=2, padding=1),
        lambda: F.conv2d(x, t(4, 6, 3, 3), padding=1, dilation=2),
        lambda: F.max_pool2d(x, 2),
        lambda: F.max_pool2d(x, 3, 2, 1, dilation=2),
        lambda: F.avg_pool2d(x, 2),
        lambda: F.avg_pool2d(x, 3, 2, 1),
        lambda: F.adaptive_avg_pool2d(x, 4),
        lambda: F.adaptive_max_pool2d(x, 4),
        lambda: F.max_unpool2d(*F.max_pool2d(x8, 2, return_indices=True), 2),
        lambda: subsampling(x8, 2, t(6), t(6)),  # LeNet's weighted pooling, one pass backward
        lambda: F.pad(x, (1, 2, 2, 1), mode="reflect"),  # the fold of the padding modes
        lambda: F.fold(F.unfold(x, 3, padding=1), x.shape[2:], 3, padding=1),  # col2im
    ]
    from tinygrad_cnn import kernels as K
    with K.force_path("batch"):  # the examples-innermost path: forward, dW and dA
        z = F.conv2d(x, t(16, 6, 3, 3), t(16), padding=1, connection=LENET_C3_TABLE)
        z.backward(rng.standard_normal(z.shape).astype(np.float32))
    for run in runs:
        z = run()
        z.backward(rng.standard_normal(z.shape).astype(np.float32))
    augment.random_affine(10, 0.1, 1)(x.data, rng)

    bad = []
    checked = 0
    for name in ("correlation", "conv_weight_grad", "batch_inner", "window_sum", "pool", "im2col", "elementwise",
                 "pad", "unfold"):
        mod = importlib.import_module("tinygrad_cnn.kernels." + name)
        for obj in vars(mod).values():
            if getattr(obj, "targetoptions", {}).get("parallel") and obj.signatures:
                checked += 1
                bad += [(name, obj.__name__, line, src) for line, src in hidden_regions(obj)]
    if augment._affine_resample.signatures:
        checked += 1
        bad += [("augment", "_affine_resample", l, s) for l, s in hidden_regions(augment._affine_resample)]
    print("checked", checked)
    for b in bad:
        print("HIDDEN", *b)
''')


@pytest.mark.slow
def test_every_parallel_region_is_a_prange_loop(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    env.pop("NUMBA_DISABLE_JIT", None)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    checked = int(next(line for line in lines if line.startswith("checked")).split()[1])
    assert checked >= 20, out.stdout  # every parallel kernel the runs above compile was inspected
    hidden = [line for line in lines if line.startswith("HIDDEN")]
    assert not hidden, "parallel loops that are not a prange (array expressions outside it):\n" + "\n".join(hidden)
