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
# `tinygrad_cnn` computes the lecture's rules with Numba-compiled loops. This notebook shows the
# published run of the project's benchmark suite, `benchmarks/results/results.json` — the numbers
# the README quotes — which compares four ways of doing the same work:
#
# * **naive** — the `*_reference` functions beside the kernels, the lecture's scalar formulas as plain Python loops
#   (timed on 1–2 examples and scaled to the full batch, since it is linear in the batch size);
# * **numpy** — a vectorised numpy baseline (im2col + one BLAS matrix product per convolution);
# * **tinygrad_cnn** — this framework through its public API, autograd included;
# * **torch** — PyTorch on the CPU, when installed.
#
# Every case is one forward **and** backward pass in float32. To measure your own machine, run
# `python -m tinygrad_cnn bench --out my_run` (a few minutes; `--quick` for a rough first look)
# and point `RESULTS` below at `my_run/results.json`.

# %%
from _setup import CONTENDER_COLORS, CONTENDERS, ROOT, load_benchmark, np, plt  # the package, plot settings

from IPython.display import Markdown, display

RESULTS = ROOT / "benchmarks" / "results" / "results.json"   # or the results.json of your own run
bench = load_benchmark(RESULTS)
run, cases = bench["run"], bench["cases"]
print(f"{len(cases)} cases from {RESULTS.relative_to(ROOT) if RESULTS.is_relative_to(ROOT) else RESULTS}")

# %% [markdown]
# ## 4.1 The run
#
# Which machine, which versions, how many threads and repeats. Timings on a shared machine move
# with its load: compare the contenders *within* one run, never absolute times of different runs.

# %%
versions = ", ".join(f"{name} {v}" for name, v in run["versions"].items())
facts = [("run", run["id"]), ("date", run["date"]), ("machine", run["machine"]), ("versions", versions),
         ("threads per contender", run["threads"]), ("repeats (median of)", run["repeats"]),
         ("quick run", run["quick"])]
display(Markdown("\n".join(f"* **{name}**: {value}" for name, value in facts if value not in (None, ""))))

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
display(Markdown(bench["table"]))
if bench["geomean"]:
    rated = sum(1 for case in cases if case["ratio"])
    print(f"geometric mean of ours/torch over {rated} cases: {bench['geomean']:.2f}×")

# %% [markdown]
# ## 4.3 The picture
#
# Log scale, because the naive loops are two to three orders of magnitude slower than the rest —
# on a linear axis the other three bars would be invisible. Hatched bars are extrapolated from a
# smaller batch.

# %%
present = [c for c in CONTENDERS if any(case["contenders"].get(c, {}).get("median_ms") for case in cases)]
width = 0.8 / len(present)

fig, ax = plt.subplots(figsize=(max(6, 1.7 * len(cases) + 2), 4.6))
for i, c in enumerate(present):
    labelled = False
    for j, case in enumerate(cases):
        entry = case["contenders"].get(c, {})
        if entry.get("median_ms"):
            x = j + (i - (len(present) - 1) / 2) * width
            ax.bar(x, entry["median_ms"], width, color=CONTENDER_COLORS[c], hatch="//" if entry["scale"] > 1 else None,
                   label=None if labelled else c + (" (extrapolated)" if c == "naive" else ""))
            labelled = True
ax.set_yscale("log")
ax.set_xticks(range(len(cases)), [case["title"] for case in cases], rotation=15, ha="right")
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
rated = [case for case in cases if case["ratio"]]
if rated:
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rated) + 1.2))
    ratios = [case["ratio"] for case in rated]
    ax.barh(range(len(rated)), ratios, color=["#55a868" if v <= 1 else "#dd8452" for v in ratios])
    ax.axvline(1, color="black", linestyle="--")
    ax.set_yticks(range(len(rated)), [case["title"] for case in rated])
    ax.invert_yaxis()
    ax.set_xlabel("tinygrad_cnn time / PyTorch time (lower is better)")
    for k, v in enumerate(ratios):
        ax.text(v, k, f" {v:.2f}×", va="center")
    plt.tight_layout()
    plt.show()
else:
    print("no PyTorch timings in this run: no ratios")

# %% [markdown]
# ## 4.4 Why medians: the spread of the samples
#
# Every timed repeat of one case, per contender (the naive loops are left out, their scale is
# different), where the results keep the samples; otherwise the median and the 90th percentile.
# The spread comes from the machine — other processes, frequency changes, caches — not from the
# code; the median (black bar) is the robust summary.

# %%
fig, axes = plt.subplots(1, len(cases), figsize=(2.6 * len(cases), 3.2), squeeze=False)
for ax, case in zip(axes[0], cases):
    names = [c for c in ("numpy", "tinygrad_cnn", "torch") if case["contenders"].get(c, {}).get("median_ms")]
    for k, c in enumerate(names):
        entry = case["contenders"][c]
        s = np.asarray(entry["samples_ms"] or [entry["p90_ms"] or entry["median_ms"]])
        ax.scatter(np.full(len(s), k) + np.linspace(-0.15, 0.15, len(s)), s, s=14, color=CONTENDER_COLORS[c])
        ax.hlines(entry["median_ms"], k - 0.3, k + 0.3, color="black")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title(case["title"], fontsize=10)
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
if bench["peak_gflops"]:
    print(f"float32 matmul peak: {bench['peak_gflops']:.1f} GFLOP/s ({run['threads']} threads)")
for case in cases:
    if case["gflops"]:
        naive = f"{case['speedup_over_naive']:7.0f}×" if case["speedup_over_naive"] else "      —"
        peak = f"{case['percent_of_peak']:5.1f}%" if case["percent_of_peak"] else "    —"
        print(f"{case['title']:<24} {case['gflops']:6.2f} GFLOP/s  {peak} of peak   speed-up vs naive {naive}")
if bench["cold_start_s"]:
    print(f"cold start: {bench['cold_start_s'] * 1e3:.0f} ms (import + first conv2d)")
for note in bench["notes"]:
    print("note:", note)
