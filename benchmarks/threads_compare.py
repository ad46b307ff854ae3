"""Compare Numba threading layers for tinygrad_cnn, idle and on a busy machine.

    python benchmarks/threads_compare.py [--repeats 3] [--epochs 3] [--configs tbb workqueue omp omp-passive]
                                         [--baseline DIR] [--phases idle loaded]

For every configuration (a Numba threading layer, plus environment), in a
fresh process each time and interleaved over repeats:

* a LeNet-5 step (batch 64: forward, cross-entropy, backward): median and
  90th percentile of 40 steps after 5 warm-up steps;
* the wall time of ``python -m tinygrad_cnn train --epochs E --no-progress``;

first with the machine as it is, then beside two CPU-bound processes
(``python -c "while True: pass"``), which are stopped at the end.  Prints
the median over repeats.  ``--baseline DIR`` adds a configuration that
runs another checkout of the package (in DIR) with Numba's defaults.  Takes a few minutes; timings move with the
machine's other load, so compare configurations from one run only.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "tbb": {"NUMBA_THREADING_LAYER": "tbb"},
    "workqueue": {"NUMBA_THREADING_LAYER": "workqueue"},
    "omp": {"NUMBA_THREADING_LAYER": "omp"},
    "omp-passive": {"NUMBA_THREADING_LAYER": "omp", "OMP_WAIT_POLICY": "PASSIVE"},
}

STEP = r"""
import time, numpy as np
import tinygrad_cnn as tc, tinygrad_cnn.functional as F
from tinygrad_cnn.models import LeNet5
rng = np.random.default_rng(0)
x = tc.Tensor(rng.standard_normal((64, 1, 32, 32)).astype(np.float32))
y = rng.integers(0, 10, 64)
model = LeNet5()
times = []
for i in range(45):
    t0 = time.perf_counter()
    for p in model.parameters():
        p.grad = None
    F.cross_entropy(model(x), y).backward()
    times.append(time.perf_counter() - t0)
t = np.array(times[5:]) * 1e3
import numba
print(f"{np.median(t):.2f} {np.percentile(t, 90):.2f} {numba.threading_layer()}")
"""


def run(args, env, timeout, cwd=None):
    t0 = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if out.returncode:
        raise RuntimeError(f"{args} failed: {out.stderr[-500:]}")
    return time.perf_counter() - t0, out.stdout


def measure(configs, repeats, epochs, timeout, baseline=None):
    names = list(configs) + (["baseline"] if baseline else [])
    results = {name: {"step": [], "p90": [], "train": []} for name in names}
    for _ in range(repeats):
        for name in names:
            env = {**os.environ, **CONFIGS.get(name, {})}
            cwd = baseline if name == "baseline" else None
            _, out = run([sys.executable, "-c", STEP], env, timeout, cwd)
            med, p90, layer = out.split()
            assert name == "baseline" or layer == CONFIGS[name]["NUMBA_THREADING_LAYER"], (name, layer)
            results[name]["step"].append(float(med))
            results[name]["p90"].append(float(p90))
            wall, _ = run([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", str(epochs),
                           "--no-progress"], env, timeout, cwd)
            results[name]["train"].append(wall)
    return results


def report(title, results):
    print(title)
    print(f"  {'config':12s} {'step ms':>8s} {'p90 ms':>8s} {'train s':>8s}")
    for name, r in results.items():
        print(f"  {name:12s} {statistics.median(r['step']):8.2f} {statistics.median(r['p90']):8.2f} "
              f"{statistics.median(r['train']):8.2f}")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--baseline", metavar="DIR", help="another checkout to run with Numba's defaults")
    p.add_argument("--phases", nargs="+", default=["idle", "loaded"], choices=["idle", "loaded"])
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per child process")
    a = p.parse_args()
    if "idle" in a.phases:
        report("idle", measure(a.configs, a.repeats, a.epochs, a.timeout, a.baseline))
    if "loaded" not in a.phases:
        return
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        report("beside two CPU-bound processes", measure(a.configs, a.repeats, a.epochs, a.timeout, a.baseline))
    finally:
        for h in hogs:
            h.kill()
            h.wait()


if __name__ == "__main__":
    main()
