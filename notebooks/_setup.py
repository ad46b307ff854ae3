"""What every notebook of this folder shares: the package, numpy and matplotlib settings, and
the small drawing and reading helpers the notebooks would otherwise repeat.

The first code cell of a notebook runs ``from _setup import ...``. Jupyter starts a notebook's
kernel in the notebook's folder, so this module is found next to it.

The notebooks explain the source tree they sit in, so the ``tinygrad_cnn`` of that tree comes
first on ``sys.path``, ahead of an installed copy of another tree.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "tinygrad_cnn" / "__init__.py").is_file():
    sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt  # noqa: E402  (after the path is set)
import numpy as np  # noqa: E402

import tinygrad_cnn  # noqa: E402

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "image.interpolation": "nearest"})
np.set_printoptions(precision=4, suppress=True, linewidth=110)
print("tinygrad_cnn", tinygrad_cnn.__version__)

__all__ = ["ROOT", "np", "plt", "tinygrad_cnn", "hide_ticks", "show", "show_signed", "heatmap",
           "load_benchmark", "benchmark_table", "CONTENDERS", "CONTENDER_COLORS"]


# --------------------------------------------------------------------------------------------
# drawing
# --------------------------------------------------------------------------------------------

def hide_ticks(*axes):
    """No tick marks or labels on these axes (images are read by their pixels, not a scale)."""
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])


def show(ax, img, title="", vmin=None, vmax=None, values=False, cmap="gray", grid=True, fontsize=10):
    """One matrix as an image: 1 = white, 0 = black; optional pixel grid and printed values.
    Returns the image, for a colour bar."""
    img = np.asarray(img, dtype=float)
    im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=fontsize)
    hide_ticks(ax)
    if grid:
        ax.set_xticks(np.arange(-0.5, img.shape[1]), minor=True)
        ax.set_yticks(np.arange(-0.5, img.shape[0]), minor=True)
        ax.grid(which="minor", color="tab:gray", linewidth=0.4, alpha=0.6)
        ax.tick_params(which="minor", length=0)
    if values:
        lo, hi = (img.min() if vmin is None else vmin), (img.max() if vmax is None else vmax)
        for (i, j), v in np.ndenumerate(img):
            dark = (v - lo) < 0.5 * (hi - lo)
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    return im


def show_signed(ax, m, title="", lim=None, fontsize=10):
    """A matrix of signed values: red positive, blue negative, white 0, on a scale symmetric
    about 0 (``lim`` or the largest magnitude). Returns the image, for a colour bar."""
    m = np.asarray(m, dtype=float)
    lim = np.abs(m).max() if lim is None else lim
    im = ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title, fontsize=fontsize)
    hide_ticks(ax)
    return im


def heatmap(ax, m, text=str, cmap="Blues", vmin=0, vmax=None, fontsize=10, skip_zero=False,
            contrast=False):
    """A small integer matrix with its entries written in the cells (``text(v)`` for entry v;
    zeros left blank with ``skip_zero``; white text on the darker half with ``contrast``)."""
    m = np.asarray(m)
    ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax)
    top = m.max() if vmax is None else vmax
    for (i, j), v in np.ndenumerate(m):
        if skip_zero and not v:
            continue
        color = "white" if contrast and v > top / 2 else "black"
        ax.text(j, i, text(v), ha="center", va="center", fontsize=fontsize, color=color)


# --------------------------------------------------------------------------------------------
# benchmark results
# --------------------------------------------------------------------------------------------

CONTENDERS = ["naive", "numpy", "tinygrad_cnn", "torch"]
CONTENDER_COLORS = {"naive": "#bbbbbb", "numpy": "#4c72b0", "tinygrad_cnn": "#dd8452", "torch": "#55a868"}


def _number(x):
    """x as a float when it is a finite number, else None (missing, null, text, NaN)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def _contender(entry) -> dict:
    """One contender's timings: median and p90 in ms, the samples, the extrapolation scale."""
    if _number(entry) is not None:              # a bare median
        entry = {"median_ms": entry}
    if not isinstance(entry, dict):
        entry = {}
    samples = [float(s) for s in entry.get("samples_ms") or [] if _number(s) is not None]
    median = _number(entry.get("median_ms"))
    if median is None and samples:
        median = float(np.median(samples))
    p90 = _number(entry.get("p90_ms"))
    if p90 is None and samples:
        p90 = float(np.percentile(samples, 90))
    return {"median_ms": median, "p90_ms": p90, "samples_ms": samples,
            "scale": _number(entry.get("scale")) or 1.0, "label": entry.get("label"),
            "error": entry.get("error")}


def _ratio(case: dict, contenders: dict):
    """tinygrad_cnn's median over torch's: the case's own ``ratio`` (a number, or a mapping
    holding it under a key that names torch) or ``ours_over_torch``, else from the medians."""
    ratio = case.get("ratio")
    if isinstance(ratio, dict):
        ratio = next((v for k, v in ratio.items() if "torch" in k), None)
    ratio = _number(ratio) if _number(ratio) is not None else _number(case.get("ours_over_torch"))
    if ratio is None:
        ours, torch = (contenders.get(c, {}).get("median_ms") for c in ("tinygrad_cnn", "torch"))
        ratio = ours / torch if ours and torch else None
    return ratio


def _run(report: dict) -> dict:
    """The run's metadata from a ``run`` block (newer files) or ``machine``/``settings`` (older)."""
    run = report.get("run") if isinstance(report.get("run"), dict) else {}
    machine = run.get("machine", report.get("machine", {}))
    versions = dict(run.get("versions") or {})
    if isinstance(machine, dict):
        for name in ("python", "numpy", "numba", "torch"):
            versions.setdefault(name, machine.get(name))
        cpu = machine.get("cpu_model") or machine.get("cpu") or machine.get("name")
        cpus = machine.get("cpus_usable") or machine.get("cpu_count") or machine.get("cpus")
        machine_text = f"{cpu}, {cpus} CPUs" if cpu and cpus else (cpu or "unknown machine")
    else:
        machine, machine_text = {}, str(machine)
    settings = {**(report.get("settings") or {}), **(run.get("settings") or {})}
    return {
        "id": run.get("id") or report.get("run_id"),
        "date": str(run.get("date") or machine.get("date") or "")[:10] or None,
        "machine": machine_text,
        "versions": {k: v for k, v in versions.items() if v},
        "threads": run.get("threads", settings.get("threads", machine.get("threads"))),
        "repeats": run.get("repeats", settings.get("repeats")),
        "quick": run.get("quick", settings.get("quick")),
    }


def load_benchmark(path) -> dict:
    """A benchmark ``results.json`` in one shape, whichever version of the file it is.

    Returns ``{"run", "cases", "table", "geomean", "peak_gflops", "cold_start_s", "notes"}``;
    each case is ``{"key", "title", "detail", "contenders", "ratio", "gflops",
    "percent_of_peak", "speedup_over_naive", "speedup_over_numpy"}`` with ``contenders``
    mapping a name to ``{"median_ms", "p90_ms", "samples_ms", "scale", "label", "error"}``.
    Anything the file does not hold is None (or empty). ``table`` is the file's own Markdown
    table when it has one (the one the README quotes), else one built from the cases.
    """
    report = json.loads(Path(path).read_text())
    raw_cases = report.get("cases") or []
    if isinstance(raw_cases, dict):              # keyed by case name
        raw_cases = [{"key": k, **v} for k, v in raw_cases.items()]
    cases = []
    for raw in raw_cases:
        block = raw.get("contenders")
        if not isinstance(block, dict):          # contenders stored directly in the case
            block = {c: raw[c] for c in CONTENDERS if c in raw}
        contenders = {name: _contender(entry) for name, entry in block.items()}
        key = raw.get("key") or raw.get("name") or raw.get("title")
        cases.append({
            "key": key, "title": raw.get("title") or key, "detail": raw.get("detail"),
            "contenders": contenders, "ratio": _ratio(raw, contenders),
            **{k: _number(raw.get(k)) for k in ("gflops", "percent_of_peak",
                                                 "speedup_over_naive", "speedup_over_numpy")},
        })
    ratios = [c["ratio"] for c in cases if c["ratio"]]
    geomean = _number(report.get("geomean_ours_over_torch", report.get("geomean")))
    if geomean is None and ratios:
        geomean = float(np.exp(np.mean(np.log(ratios))))
    cold = report.get("cold_start")
    cold = _number(cold.get("total_s")) if isinstance(cold, dict) else _number(cold)
    peak = report.get("peak")
    peak = _number(peak.get("gflops")) if isinstance(peak, dict) else _number(peak)
    out = {"run": _run(report), "cases": cases, "geomean": geomean, "peak_gflops": peak,
           "cold_start_s": cold, "notes": list(report.get("notes") or [])}
    out["table"] = report.get("table") if isinstance(report.get("table"), str) else benchmark_table(out)
    return out


def _ms(x: float) -> str:
    """Milliseconds to three significant digits, thousands separated: 2.07, 56.1, 9,118."""
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def benchmark_table(bench: dict) -> str:
    """A Markdown table of the medians (and p90 where known) of a ``load_benchmark`` result."""
    present = [c for c in CONTENDERS if any(k["contenders"].get(c, {}).get("median_ms") for k in bench["cases"])]
    head = ["case", *(f"{c} ms" for c in present), "ours/torch"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for case in bench["cases"]:
        cells = [case["title"]]
        for c in present:
            t = case["contenders"].get(c, {})
            if not t.get("median_ms"):
                cells.append("—")
                continue
            notes = ["extrapolated"] if t["scale"] > 1 else []
            notes += [f"p90 {_ms(t['p90_ms'])}"] if t.get("p90_ms") else []
            cells.append(_ms(t["median_ms"]) + (f" ({', '.join(notes)})" if notes else ""))
        cells.append(f"{case['ratio']:.2f}×" if case["ratio"] else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
