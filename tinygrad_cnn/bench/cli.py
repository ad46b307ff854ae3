"""``python -m tinygrad_cnn bench [options]``: run the suite, print its table, write reports on request.

Nothing is written unless asked: ``--out DIR`` writes results.json, results.md (and results.png
with matplotlib) to DIR, ``--publish`` to the repository's benchmarks/results/.  The output
directory is checked before any timing starts.  ``--busy`` runs :mod:`.busy` instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import sys

from .. import _checks
from . import cases as C
from . import harness, report

PROG = "python -m tinygrad_cnn bench"
PUBLISH_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "benchmarks", "results")
FULL = {"repeats": 15, "warmup": 3, "calls": 5, "pause": 0.2, "naive_budget": 20.0}
QUICK = {"repeats": 5, "warmup": 1, "calls": 3, "pause": 0.05, "naive_budget": 3.0}


class Parser(argparse.ArgumentParser):
    """Argument errors: one line on stderr (``error: ...``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {' '.join(str(message).split())} (see '{self.prog} --help')\n")


def checked(check, convert, **bounds):
    """An argparse type: ``convert`` the text, then validate it with a :mod:`.._checks` helper."""
    def parse(text):
        try:
            return check(convert(text), "value", **bounds)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc}".replace("value ", "")) from None
    parse.__name__ = convert.__name__
    return parse


def writable_dir(path: str) -> str:
    """Create ``path`` if needed and make sure files can be written in it; ValueError if not."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create directory {path!r}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"directory {path!r} is not writable")
    return path


def build_parser() -> Parser:
    p = Parser(prog=PROG, description="Time the naive loops, a NumPy baseline, tinygrad_cnn and PyTorch "
               "on LeNet-style work, each contender in its own process (see benchmarks/README.md).",
               epilog="cases: " + ", ".join(c.key for c in C.CASES[False]) + "; '--busy --help' for "
               "the busy-machine benchmark")
    nonneg = checked(_checks.nonneg_int, int)
    pos = checked(_checks.positive_int, int)
    p.add_argument("--quick", action="store_true",
                   help="fewer rounds and calls: " + ", ".join(f"{k} {v}" for k, v in QUICK.items()))
    p.add_argument("--repeats", type=pos, help=f"alternating rounds per case (default {FULL['repeats']})")
    p.add_argument("--warmup", type=nonneg, help=f"untimed calls before the rounds (default {FULL['warmup']})")
    p.add_argument("--calls", type=pos, help=f"timed calls per contender per round (default {FULL['calls']})")
    p.add_argument("--pause", type=checked(_checks.real, float, low=0, high=10),
                   help=f"seconds of rest after each contender's turn (default {FULL['pause']})")
    p.add_argument("--naive-budget", type=checked(_checks.real, float, low=0, low_open=True),
                   help=f"about this many seconds of naive timing per case (default {FULL['naive_budget']:g})")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="only the cases whose name contains NAME (repeatable or comma-separated)")
    p.add_argument("--no-naive", action="store_true", help="leave the naive loops out")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--threads", type=pos, default=2, help="threads for every contender (default 2)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="write results.json/.md/.png to DIR")
    where.add_argument("--publish", action="store_true", help=f"write them to {PUBLISH_DIR}")
    p.add_argument("--tiny", action="store_true",
                   help="tiny shapes: tests the harness in seconds, the timings mean nothing")
    return p


def parse(argv) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for key, default in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    filters = [f.strip().lower() for item in args.only or [] for f in item.split(",") if f.strip()]
    args.cases = C.select(filters, args.tiny)
    if not args.cases:
        parser.error(f"--only {','.join(args.only)} matches no case; cases: "
                     + ", ".join(c.key for c in C.CASES[False]))
    if args.publish and not os.path.isdir(os.path.dirname(PUBLISH_DIR)):
        parser.error(f"--publish writes to a source checkout's benchmarks/results; "
                     f"{os.path.dirname(PUBLISH_DIR)} does not exist (use --out DIR)")
    args.out = PUBLISH_DIR if args.publish else args.out
    if args.out:
        try:
            writable_dir(args.out)
        except ValueError as exc:
            parser.error(f"--{'publish' if args.publish else 'out'}: {exc}")
    return args


def main(argv=None) -> int:
    """Run the suite with ``argv`` (default ``sys.argv[1:]``); 0, or 1 when a contender's results
    differ from tinygrad_cnn's (argument errors exit with status 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--busy" in argv:
        from . import busy

        return busy.main([a for a in argv if a != "--busy"])
    args = parse(argv)
    notes = []
    names = [n for n in harness.NAMES if not (n == "naive" and args.no_naive or n == "torch" and args.no_torch)]
    if "torch" in names and importlib.util.find_spec("torch") is None:
        names.remove("torch")
        notes.append("torch is not installed: its column is empty")
    settings = harness.Settings(args.threads, args.repeats, args.warmup, args.calls, args.pause,
                                args.naive_budget, tuple(names))
    info = report.machine()
    print(f"run {info['run_id']}: {len(args.cases)} case(s), {', '.join(names)}; {args.threads} thread(s) each, "
          f"every contender in its own process", flush=True)

    def log(line):
        print(line, flush=True)

    peak_case = C.PEAK[args.tiny]
    timed = harness.run_case(peak_case, dataclasses.replace(settings, contenders=("numpy",)), log)["numpy"]
    peak = None
    if timed.get("median_ms"):
        peak = {"detail": peak_case.detail, "median_ms": timed["median_ms"],
                "gflops": peak_case.flops / timed["median_ms"] / 1e6}
        log(f"{peak_case.title} ({peak_case.detail}): {peak['gflops']:.1f} GFLOP/s")
    entries = []
    for case in args.cases:
        log(f"[{case.title}] {case.detail}")
        here = settings
        if args.quick and case.slow_naive and "naive" in names:
            here = dataclasses.replace(settings, contenders=tuple(n for n in names if n != "naive"))
            notes.append(f"{case.title}: naive left out with --quick (one call takes about half a minute)")
        results = harness.run_case(case, here, log)
        for name, r in results.items():
            if r.get("median_ms") is not None:
                log(f"    {r['label']:>32}: {report.fmt_ms(r['median_ms']):>9} ms median, "
                    f"{report.fmt_ms(r['p90_ms'])} p90 ({r['repeats']} samples)  {r.get('check', '')}")
        entries.append(report.case_entry(case, results, peak and peak["gflops"]))
    info["loadavg_end"] = report.loadavg()
    problems = [f"{e['title']}: {n} {'failed: ' + r['error'] if r.get('error') else r['check']}"
                for e in entries for n, r in e["contenders"].items()
                if r.get("error") or r.get("check", "").startswith("MISMATCH")]
    notes += problems
    if any(c.kind == "lenet" for c in args.cases) and "naive" in names:
        notes.append("LeNet-5 naive: convolutions and subsampling through the reference loops, dense layers, "
                     "loss and SGD in NumPy, on a reduced batch scaled to the full one.")
    settings_out = dict(dataclasses.asdict(settings), quick=args.quick, tiny=args.tiny, dtype="float32")
    rep = report.build(entries, peak, settings_out, info, notes)
    print("\n" + rep["table"])
    if report.summary_line(rep):
        print("\n" + report.summary_line(rep).replace("**", ""))
    for note in notes:
        print(f"note: {note}")
    if args.out:
        print("\nwrote " + ", ".join(report.write(rep, args.out)))
    return 1 if any("MISMATCH" in p for p in problems) else 0
