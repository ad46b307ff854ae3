"""Training on a busy machine: ``python benchmarks/busy.py`` (or ``python -m tinygrad_cnn bench --busy``).

Times ``python -m tinygrad_cnn train --epochs E --no-progress`` (whole process, wall clock) in
three settings, interleaved round by round so that drift falls on all three: idle with the
default threads, idle with ``--threads 1``, and with the default threads beside ``--burners``
CPU-bound processes (started for that run and always killed after it; each also stops by itself
after ``--timeout`` seconds).  Reports the medians and the ratios busy/idle and
default-threads/1-thread: how much a parallel kernel suffers when its threads must wait for a
core, which is what a shared machine does to every multi-threaded library.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from . import report

SETTINGS = (("idle", [], False), ("idle, 1 thread", ["--threads", "1"], False), ("busy", [], True))


def _burner(seconds: float) -> subprocess.Popen:
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def run(epochs=6, repeats=7, burners=2, timeout=600.0, command=None, log=print) -> dict:
    """Time ``command`` (default: the training command line) in the three settings."""
    command = command or [sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", str(epochs), "--no-progress"]
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    info = report.machine()
    seconds = {name: [] for name, _, _ in SETTINGS}
    for r in range(repeats):
        for name, extra, busy in SETTINGS:
            others = [_burner(timeout + 5) for _ in range(burners if busy else 0)]
            try:
                t0 = time.perf_counter()
                proc = subprocess.run(command + extra, env=env, capture_output=True, text=True, timeout=timeout)
                elapsed = time.perf_counter() - t0
            finally:
                for p in others:
                    p.kill()
                    p.wait()
            if proc.returncode:
                lines = proc.stderr.strip().splitlines()
                raise RuntimeError(f"{' '.join(command + extra)} failed ({lines[-1] if lines else proc.returncode})")
            seconds[name].append(elapsed)
            log(f"  round {r + 1}/{repeats}, {name}: {elapsed:.2f} s")
    info["loadavg_end"] = report.loadavg()
    median = {name: statistics.median(v) for name, v in seconds.items()}
    return {"run_id": info["run_id"], "machine": info, "command": " ".join(command[1:]),
            "settings": {"epochs": epochs, "repeats": repeats, "burners": burners},
            "seconds": seconds, "median_s": median,
            "busy_over_idle": median["busy"] / median["idle"],
            "default_threads_over_1_thread": median["idle"] / median["idle, 1 thread"]}


def markdown(rep: dict) -> str:
    m, s = rep["machine"], rep["settings"]
    lines = [report.MARKER.format(rep["run_id"]), "", "# Training on a busy machine", "",
             f"Run {rep['run_id']} · {m['date']} · {m['cpu_model']} ({m['cpus_usable']} usable CPUs) · "
             f"`{rep['command']}`, whole process, {s['repeats']} interleaved runs per setting · "
             f"load average {m['loadavg_start']} at start, {m['loadavg_end']} at end", "",
             "| setting | median s | runs (s) |", "|---|---:|---|"]
    for name, _, busy in SETTINGS:
        label = name + (f", beside {s['burners']} CPU-bound processes" if busy else "")
        runs = ", ".join(f"{v:.2f}" for v in rep["seconds"][name])
        lines.append(f"| {label} | {rep['median_s'][name]:.2f} | {runs} |")
    lines += ["", f"busy / idle: **{rep['busy_over_idle']:.2f}×** · default threads / 1 thread (idle): "
              f"**{rep['default_threads_over_1_thread']:.2f}×**"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from .. import _checks
    from .cli import PUBLISH_DIR, Parser, checked, writable_dir

    p = Parser(prog="python -m tinygrad_cnn bench --busy", description=__doc__.split("\n\n")[0])
    pos = checked(_checks.positive_int, int)
    p.add_argument("--epochs", type=pos, default=6, help="training epochs per run (default 6)")
    p.add_argument("--repeats", type=pos, default=7, help="runs per setting (default 7: a busy machine's runs vary by 1.5x)")
    p.add_argument("--burners", type=pos, default=2, help="CPU-bound processes beside the busy runs (default 2)")
    p.add_argument("--timeout", type=checked(_checks.real, float, low=1), default=600.0,
                   help="seconds one training run may take (default 600)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="write busy.json and busy.md to DIR")
    where.add_argument("--publish", action="store_true", help=f"write them to {PUBLISH_DIR}")
    args = p.parse_args(argv)
    if args.publish and not os.path.isdir(os.path.dirname(PUBLISH_DIR)):
        p.error(f"--publish writes to a source checkout's benchmarks/results; "
                f"{os.path.dirname(PUBLISH_DIR)} does not exist (use --out DIR)")
    out = PUBLISH_DIR if args.publish else args.out
    if out:
        try:
            writable_dir(out)
        except ValueError as exc:
            p.error(f"--{'publish' if args.publish else 'out'}: {exc}")
    try:
        rep = run(args.epochs, args.repeats, args.burners, args.timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = markdown(rep)
    print("\n" + text)
    if out:
        with open(os.path.join(out, "busy.json"), "w") as fh:
            json.dump(rep, fh, indent=1)
        with open(os.path.join(out, "busy.md"), "w") as fh:
            fh.write(text)
        print(f"wrote {os.path.join(out, 'busy.json')}, busy.md")
    return 0
