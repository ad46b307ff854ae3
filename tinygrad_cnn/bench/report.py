"""The run's report: metadata, ratios, the markdown table, results.json / results.md / results.png."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import secrets
from importlib import metadata as importlib_metadata

NAMES = ("naive", "numpy", "tinygrad_cnn", "torch")
MARKER = "<!-- bench-run: {} -->"  # in results.md and next to README's table: which run is quoted


def _version(package):
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return None


def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict:
    """When, where and with what: date, run id, CPU, cores, load, library versions."""
    now = datetime.datetime.now().astimezone()
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "run_id": f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}",
        "date": now.isoformat(timespec="seconds"),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{name: _version(name) for name in ("numpy", "numba", "torch", "threadpoolctl")},
        "loadavg_start": loadavg(),
    }


def case_entry(case, results: dict, peak_gflops) -> dict:
    entry = {"key": case.key, "title": case.title, "detail": case.detail, "flops": case.flops,
             "flops_note": case.flops_note, "contenders": results}
    med = {n: r.get("median_ms") for n, r in results.items()}
    ours = med.get("tinygrad_cnn")
    if ours:
        for key, other in (("ours_over_torch", "torch"), ("speedup_over_naive", "naive"),
                           ("speedup_over_numpy", "numpy")):
            if med.get(other):
                entry[key] = ours / med[other] if key == "ours_over_torch" else med[other] / ours
        entry["gflops"] = case.flops / ours / 1e6
        if peak_gflops:
            entry["percent_of_peak"] = 100 * entry["gflops"] / peak_gflops
    return entry


def geomean(values):
    values = [v for v in values if v]
    return (math.exp(sum(map(math.log, values)) / len(values)), len(values)) if values else (None, 0)


def build(cases: list, peak: dict | None, settings: dict, info: dict, notes: list) -> dict:
    gm, n = geomean(c.get("ours_over_torch") for c in cases)
    report = {"run_id": info["run_id"], "machine": info, "settings": settings, "peak": peak, "cases": cases,
              "geomean_ours_over_torch": gm, "geomean_cases": n, "notes": notes}
    report["table"] = table(report)
    return report


def fmt_ms(v) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def fmt_x(v, digits=2) -> str:
    return "—" if v is None else f"{v:,.0f}×" if v >= 100 else f"{v:.{digits}f}×"


def table(report: dict) -> str:
    head = ["case", "naive ms", "numpy ms", "tinygrad_cnn ms", "torch ms", "ours/torch",
            "speed-up vs naive", "speed-up vs numpy", "GFLOP/s (ours)", "% peak"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for c in report["cases"]:
        con = c["contenders"]
        cells = [fmt_ms(con.get(n, {}).get("median_ms")) for n in NAMES]
        if con.get("naive", {}).get("scale", 1) > 1 and con["naive"].get("median_ms"):
            cells[0] += f" ({con['naive']['label'].split('(', 1)[1]}"
        cells += [fmt_x(c.get("ours_over_torch")), fmt_x(c.get("speedup_over_naive"), 0),
                  fmt_x(c.get("speedup_over_numpy"), 1),
                  "—" if c.get("gflops") is None else f"{c['gflops']:.2f}",
                  "—" if c.get("percent_of_peak") is None else f"{c['percent_of_peak']:.1f}%"]
        lines.append("| " + " | ".join([c["title"]] + cells) + " |")
    return "\n".join(lines)


def spread_table(report: dict) -> str:
    lines = ["| case | " + " | ".join(f"{n} median / p90 ms" for n in NAMES) + " |",
             "|---" + "|---:" * len(NAMES) + "|"]
    for c in report["cases"]:
        cells = [f"{fmt_ms(r.get('median_ms'))} / {fmt_ms(r.get('p90_ms'))}" if r.get("median_ms") else "—"
                 for r in (c["contenders"].get(n, {}) for n in NAMES)]
        lines.append("| " + " | ".join([c["title"]] + cells) + " |")
    return "\n".join(lines)


def summary_line(report: dict) -> str | None:
    gm = report["geomean_ours_over_torch"]
    if gm is None:
        return None
    return (f"Geometric mean of ours/PyTorch over {report['geomean_cases']} case(s): **{gm:.2f}×** "
            "(below 1 = faster than PyTorch).")


def markdown(report: dict) -> str:
    m, s = report["machine"], report["settings"]
    lines = [MARKER.format(report["run_id"]), "", "# tinygrad_cnn benchmark results", "",
             f"Run {report['run_id']}{' (quick)' if s['quick'] else ''} · {m['date']} · {m['cpu_model']} "
             f"({m['cpus_usable']} usable of {m['cpu_count']} CPUs) · python {m['python']}, numpy {m['numpy']}, "
             f"numba {m['numba']}, torch {m['torch'] or 'not installed'} · float32, {s['threads']} thread(s) "
             f"on every side, each contender in its own process · {s['repeats']} alternating rounds of "
             f"{s['calls']} calls after {s['warmup']} warm-up calls · load average {m['loadavg_start']} at "
             f"start, {m.get('loadavg_end')} at end", "", report["table"], ""]
    if summary_line(report):
        lines.append(summary_line(report))
    p = report.get("peak")
    if p:
        lines.append(f"Machine float32 matmul peak ({p['detail']}, {s['threads']} thread(s)): "
                     f"{p['gflops']:.1f} GFLOP/s (median).")
    lines += ["", "Spread (median / 90th percentile of the samples):", "", spread_table(report), "", "Cases:", ""]
    for c in report["cases"]:
        checks = ", ".join(f"{n}: {r['check']}" for n, r in c["contenders"].items() if r.get("check"))
        lines.append(f"- **{c['title']}**: {c['detail']}. FLOPs: {c['flops'] / 1e6:.1f} M ({c['flops_note']}). "
                     f"Checks vs tinygrad_cnn: {checks or 'n/a'}.")
    lines += [""] + [f"Note: {n}" for n in report["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def chart(report: dict, path: str) -> bool:
    """Median ms per case, log scale, one bar per contender; False when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    cases = report["cases"]
    names = [n for n in NAMES if any(c["contenders"].get(n, {}).get("median_ms") for c in cases)]
    fig = Figure(figsize=(max(6.0, 1.6 * len(cases) + 2), 4.5))  # no pyplot: no backend switch
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(len(names), 1)
    colors = {"naive": "#bbbbbb", "numpy": "#4c72b0", "tinygrad_cnn": "#dd8452", "torch": "#55a868"}
    for i, n in enumerate(names):
        pts = [(j + (i - (len(names) - 1) / 2) * width, c["contenders"][n]["median_ms"])
               for j, c in enumerate(cases) if c["contenders"].get(n, {}).get("median_ms")]
        ax.bar(*zip(*pts), width, label=n + (" (extrapolated)" if n == "naive" else ""), color=colors[n])
    ax.set_yscale("log")
    ax.set_xticks(range(len(cases)), [c["title"] for c in cases], rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("median ms (forward + backward), log scale")
    ax.set_title(f"tinygrad_cnn benchmark, float32, {report['settings']['threads']} thread(s)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def write(report: dict, out_dir: str) -> list:
    """results.json, results.md (and results.png) in ``out_dir``; returns the paths written."""
    paths = [os.path.join(out_dir, name) for name in ("results.json", "results.md", "results.png")]
    with open(paths[0], "w") as fh:
        json.dump(report, fh, indent=1)
    with open(paths[1], "w") as fh:
        fh.write(markdown(report))
    return paths if report["cases"] and chart(report, paths[2]) else paths[:2]
