"""Back-to-back timing of one contender in a process of its own: ``python benchmarks/steady.py``.

The published benchmark rests between turns, so that one contender's idle thread pool cannot
slow the next; this script shows the other regime, a contender alone, one call after the other
(a training loop's rhythm): each case ``--calls`` times after ``--warmup`` untimed calls, median
and p90.  Run it once per contender and compare the two tables::

    python benchmarks/steady.py --contender tinygrad_cnn
    python benchmarks/steady.py --contender torch
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import numpy as np  # noqa: E402

from tinygrad_cnn.bench import cases, contenders  # noqa: E402
from tinygrad_cnn.bench.worker import limit_threads  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contender", choices=("tinygrad_cnn", "torch", "numpy"), default="tinygrad_cnn")
    p.add_argument("--only", default="", help="comma-separated case keys (default: all but the matmul peak)")
    p.add_argument("--calls", type=int, default=40, help="timed calls per case (default 40)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    p.add_argument("--threads", type=int, default=2, help="threads (default 2)")
    args = p.parse_args(argv)
    keys = [k for k in args.only.split(",") if k]
    print(f"{args.contender}, {args.threads} thread(s), {args.calls} calls back to back after {args.warmup}")
    print("| case | median ms | p90 ms |\n|---|---:|---:|")
    for case in cases.CASES[False]:
        if case.kind == "matmul" or (keys and case.key not in keys):
            continue
        step = contenders.build(case, args.contender)
        limit_threads(args.threads)
        for _ in range(args.warmup):
            step.run()
        times = []
        for _ in range(args.calls):
            t = time.perf_counter()
            step.run()
            times.append(time.perf_counter() - t)
        print(f"| {case.title} | {np.median(times) * 1e3:.2f} | {np.percentile(times, 90) * 1e3:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
