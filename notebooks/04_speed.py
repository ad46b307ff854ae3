# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. How fast is it?
#
# `tinygrad_cnn` computes the lecture's rules with Numba-compiled loops. This notebook runs the
# project's benchmark suite (`python -m tinygrad_cnn bench`) in quick mode and compares four ways
# of doing the same work:
#
# * **naive** — `tinygrad_cnn.reference`, the lecture's scalar formulas as plain Python loops
#   (timed on 1–2 examples and scaled to the full batch, since it is linear in the batch size);
# * **numpy** — a vectorised numpy baseline (im2col + one BLAS matrix product per convolution);
# * **tinygrad_cnn** — this framework through its public API, autograd included;
# * **torch** — PyTorch on the CPU, when installed.
#
# Every case is one forward **and** backward pass in float32.

# %%
# %matplotlib inline
import os
import sys
from pathlib import Path

try:
    import tinygrad_cnn
except ImportError:  # a checkout without `pip install -e .`: look for the package above the notebook
    for parent in [Path.cwd(), *Path.cwd().parents]:
        if (parent / "tinygrad_cnn" / "__init__.py").exists():
            sys.path.insert(0, str(parent))
            break
    import tinygrad_cnn

import numpy as np
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "image.interpolation": "nearest"})
np.set_printoptions(precision=4, suppress=True, linewidth=110)
print("tinygrad_cnn", tinygrad_cnn.__version__)

import json
import subprocess
import tempfile
import time

from IPython.display import Markdown, display

ROOT = Path(tinygrad_cnn.__file__).resolve().parents[1]
# TINYGRAD_CNN_NOTEBOOK_QUICK=1 (the test suite) runs a smaller selection with fewer repeats
SMOKE = os.environ.get("TINYGRAD_CNN_NOTEBOOK_QUICK", "") not in ("", "0")
args = ["--quick"]
if SMOKE:
    args += ["--only", "conv_c1,maxpool,lenet", "--repeats", "3", "--naive-budget", "1"]
print("bench arguments:", " ".join(args))

# %% [markdown]
# ## 4.1 Run the suite
#
# The suite runs in a separate Python process (as `python -m tinygrad_cnn bench` would), so its
# thread settings stay out of this notebook. It writes `results.json` (every timing sample plus the
# machine's description), `results.md` and a chart into `--out`. About a minute on two cores.

# %%
out_dir = Path(tempfile.mkdtemp(prefix="tinygrad_cnn_bench_"))
t0 = time.perf_counter()
proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "bench", *args, "--out", str(out_dir)],
                      cwd=ROOT if (ROOT / "tinygrad_cnn").is_dir() else None,
                      capture_output=True, text=True)
print(proc.stdout[-2500:])
if proc.returncode != 0:
    print(proc.stderr[-3000:])
assert proc.returncode == 0, "the benchmark failed or found a mismatch"
print(f"({time.perf_counter() - t0:.0f} s)")

report = json.loads((out_dir / "results.json").read_text())
cases = report["cases"]

# %% [markdown]
# ## 4.2 The table
#
# Times are **medians** in milliseconds. Each case is repeated several times after a warm-up
# round (Numba compiles on first use and caches the machine code on disk; the first call of
# anything also pays for memory allocation and cache misses), and the contenders are timed
# *interleaved* — every repeat times each of them once, in turn — so a noisy neighbour on a shared
# machine slows them alike. The median ignores the occasional slow outlier that a mean would
# average in.
#
# *ours/torch* is tinygrad_cnn's median divided by PyTorch's (below 1 = faster than PyTorch); the
# *speed-up* columns divide the other contender's median by ours. Before timing, each contender's
# output and gradients are checked against tinygrad_cnn's, so only equal work is compared.

# %%
m = report["machine"]
display(Markdown(
    f"{m['cpu_model']}, {m['cpus_usable']} usable CPUs · numpy {m['numpy']}, numba {m['numba']}, "
    f"torch {m['torch'] or 'not installed'} · {report['settings']['threads']} threads each · "
    f"median of {report['settings']['repeats']} repeats · load average {m.get('loadavg_start')}\n\n"
    + report["table"]))

# %% [markdown]
# ## 4.3 The picture
#
# Log scale, because the naive loops are two to three orders of magnitude slower than the rest —
# on a linear axis the other three bars would be invisible. Hatched bars are extrapolated from a
# smaller batch.

# %%
contenders = ["naive", "numpy", "tinygrad_cnn", "torch"]
colors = {"naive": "#bbbbbb", "numpy": "#4c72b0", "tinygrad_cnn": "#dd8452", "torch": "#55a868"}
present = [c for c in contenders if any(r["contenders"].get(c, {}).get("median_ms") for r in cases)]
width = 0.8 / len(present)

fig, ax = plt.subplots(figsize=(max(6, 1.7 * len(cases) + 2), 4.6))
for i, c in enumerate(present):
    labelled = False
    for j, r in enumerate(cases):
        entry = r["contenders"].get(c, {})
        if entry.get("median_ms"):
            x = j + (i - (len(present) - 1) / 2) * width
            ax.bar(x, entry["median_ms"], width, color=colors[c], hatch="//" if entry.get("scale", 1) > 1 else None,
                   label=None if labelled else c + (" (extrapolated)" if c == "naive" else ""))
            labelled = True
ax.set_yscale("log")
ax.set_xticks(range(len(cases)), [r["title"] for r in cases], rotation=15, ha="right")
ax.set_ylabel("median ms, forward + backward (log)")
ax.grid(axis="y", which="both", alpha=0.3)
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The ratio to PyTorch per case (the dashed line is parity). PyTorch's CPU convolutions are
# hand-tuned C++ (oneDNN) — being within a small factor of it with a few hundred lines of Numba is
# the goal, not beating it everywhere.

# %%
rated = [r for r in cases if r.get("ours_over_torch")]
if rated:
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rated) + 1.2))
    ratios = [r["ours_over_torch"] for r in rated]
    ax.barh(range(len(rated)), ratios, color=["#55a868" if v <= 1 else "#dd8452" for v in ratios])
    ax.axvline(1, color="black", linestyle="--")
    ax.set_yticks(range(len(rated)), [r["title"] for r in rated])
    ax.invert_yaxis()
    ax.set_xlabel("tinygrad_cnn time / PyTorch time (lower is better)")
    for k, v in enumerate(ratios):
        ax.text(v, k, f" {v:.2f}×", va="center")
    plt.tight_layout()
    plt.show()
    gm = report.get("geomean_ours_over_torch")
    if gm:
        print(f"geometric mean of ours/torch over {report['geomean_cases']} cases: {gm:.2f}×")
else:
    print("PyTorch is not installed: no ratios")

# %% [markdown]
# ## 4.4 Why medians: the spread of the samples
#
# Every timed repeat of one case, per contender (the naive loops are left out, their scale is
# different). The spread comes from the machine — other processes, frequency changes, caches —
# not from the code; the median (black bar) is the robust summary.

# %%
fig, axes = plt.subplots(1, len(cases), figsize=(2.6 * len(cases), 3.2), squeeze=False)
for ax, r in zip(axes[0], cases):
    names = [c for c in ("numpy", "tinygrad_cnn", "torch") if r["contenders"].get(c, {}).get("samples_ms")]
    for k, c in enumerate(names):
        s = np.asarray(r["contenders"][c]["samples_ms"])
        ax.scatter(np.full(len(s), k) + np.linspace(-0.15, 0.15, len(s)), s, s=14, color=colors[c])
        ax.hlines(np.median(s), k - 0.3, k + 0.3, color="black")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title(r["title"], fontsize=10)
    ax.set_ylim(bottom=0)
axes[0, 0].set_ylabel("ms per repeat")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4.5 Threads, GFLOP/s and peak
#
# * **Threads.** Every contender gets the same number of threads (2 by default, `--threads`):
#   `torch.set_num_threads`, `numba.set_num_threads`, and the BLAS library under numpy through
#   threadpoolctl. Comparing a 16-thread library with a 1-thread loop would measure the machine,
#   not the code.
# * **GFLOP/s** counts the floating-point operations a case needs (2 per multiply-add, forward +
#   input gradient + weight gradient) divided by tinygrad_cnn's median time; **% peak** compares it
#   with a 1024×1024 float32 matrix product by numpy's BLAS on the same threads — about the best
#   this machine does. Small convolutions (few channels) are far from peak for everyone: they are
#   limited by memory traffic and per-call overhead, not arithmetic.
# * **Cold start**: importing the package and the first `F.conv2d` in a new process, with Numba's
#   on-disk cache already warm.

# %%
print(f"float32 matmul peak: {report['peak']['gflops']:.1f} GFLOP/s ({report['settings']['threads']} threads)")
for r in cases:
    if r.get("gflops"):
        naive = f"{r['speedup_over_naive']:7.0f}×" if r.get("speedup_over_naive") else "      —"
        peak = f"{r['percent_of_peak']:5.1f}%" if r.get("percent_of_peak") else "    —"
        print(f"{r['title']:<24} {r['gflops']:6.2f} GFLOP/s  {peak} of peak   speed-up vs naive {naive}")
cs = report.get("cold_start")
if cs and "error" not in cs:
    print(f"cold start: {cs['total_s'] * 1e3:.0f} ms in-process "
          f"({cs['import_s'] * 1e3:.0f} ms import + {cs['first_conv2d_s'] * 1e3:.0f} ms first conv)")
for note in report.get("notes", []):
    print("note:", note)

# %% [markdown]
# ## 4.6 The published full run
#
# A quick run uses few repeats, so its numbers are noisier. If the repository holds the results of
# a full run (`benchmarks/results/`, made with `python -m tinygrad_cnn bench`), they are shown here
# for comparison.

# %%
published = ROOT / "benchmarks" / "results" / "results.json"
if published.exists():
    full = json.loads(published.read_text())
    fm = full["machine"]
    display(Markdown(f"Full run of {fm['date'][:10]} ({fm['cpu_model']}, {full['settings']['repeats']} repeats):\n\n"
                     + full["table"]))
else:
    print("no published full run in", published.parent)
