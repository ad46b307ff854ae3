"""The fair timing harness.

Each contender of a case runs in a fresh process of its own (:mod:`.worker`), started with the
same thread settings as the others, so no contender's libraries or spinning thread pools slow
another.  The parent only asks: after one checked call per contender and the warm-up, each round
asks every worker for ``calls`` back-to-back timed calls (after one untimed call that wakes its
thread pools), in alternating order (A B C, then C B A, ...) so a drifting machine load falls
on all alike, with a short pause after each answer so that the idle thread pools of the worker
that just ran go to sleep before the next one starts.
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from .contenders import NAMES

#: the environment every worker starts with, so libraries loaded late get the same limit
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
TOLERANCE = 2e-3  # largest accepted max|a − b| / max|b| between a contender and tinygrad_cnn


@dataclass
class Settings:
    threads: int = 2
    repeats: int = 15  # rounds
    warmup: int = 3  # untimed calls per contender before the first round
    calls: int = 5  # timed calls per contender per round
    pause: float = 0.2  # seconds after each answer
    naive_budget: float = 20.0  # about this many seconds of naive timing per case
    contenders: tuple = NAMES


class Worker:
    """A running :mod:`.worker` process and its pickle channel."""

    def __init__(self, threads: int):
        env = dict(os.environ, **{v: str(threads) for v in THREAD_VARIABLES})
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn.bench.worker"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)

    def ask(self, message):
        try:
            pickle.dump(message, self.proc.stdin)
            self.proc.stdin.flush()
            return pickle.load(self.proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.stderr.seek(0)
            lines = self.stderr.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"worker exited ({lines[-1] if lines else 'no message'})") from None

    def close(self):
        try:
            pickle.dump(None, self.proc.stdin)
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def relative_error(a, b) -> float:
    """max|a − b| / max|b| (inf for different shapes)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return math.inf
    return float(np.abs(a - b).max(initial=0.0) / max(np.abs(b).max(initial=0.0), 1e-12))


def check(outputs, reference) -> str:
    worst = max(relative_error(a, b) for a, b in zip(outputs, reference))
    return f"{'ok' if worst <= TOLERANCE else 'MISMATCH'} (max rel err {worst:.1e})"


def summarise(samples_s: list, scale: float = 1.0) -> dict:
    ms = np.asarray(samples_s) * scale * 1e3
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "min_ms": float(ms.min()), "repeats": len(ms), "samples_ms": ms.tolist()}


def run_case(case, settings: Settings, log=print) -> dict:
    """Time every contender of ``case``; returns ``{name: result}`` (``error`` on failure)."""
    results, workers, samples = {}, {}, {}
    try:
        for name in settings.contenders:  # start one at a time: a check call is not disturbed
            workers[name] = Worker(settings.threads)
            try:
                reply = workers[name].ask((case, name, settings.threads))
            except RuntimeError as exc:
                reply = {"error": str(exc)}
            results[name] = reply
            if "error" in reply:
                log(f"    {name}: FAILED ({reply['error']})")
        alive = [n for n in settings.contenders if "error" not in results[n]]
        ours = results.get("tinygrad_cnn", {})
        for name in alive:
            r = results[name]
            ref = ours.get("small" if name == "naive" else "outputs")
            r["check"] = check(r["outputs"], ref) if ref is not None and name != "tinygrad_cnn" else ""
        rounds = {n: settings.repeats for n in alive}
        samples.update({n: [] for n in alive})
        if "naive" in rounds:  # the loops are slow: about naive_budget seconds of samples
            first = results["naive"]["first_call_s"]
            rounds["naive"] = min(settings.repeats, int(settings.naive_budget / max(first, 1e-9)))
            if rounds["naive"] == 0:  # too slow to repeat: its checked call, alone, is the sample
                samples["naive"] = [first]
        for name in alive:
            if name != "naive" and settings.warmup:
                workers[name].ask((settings.warmup, 0))
        for r in range(settings.repeats):
            for name in alive if r % 2 == 0 else alive[::-1]:
                if r >= rounds[name] or "error" in results[name]:
                    continue
                try:
                    samples[name] += workers[name].ask((0, 1) if name == "naive" else (1, settings.calls))
                except RuntimeError as exc:
                    results[name]["error"] = str(exc)
                time.sleep(settings.pause)
    finally:
        for w in workers.values():
            w.close()
    for name, r in results.items():
        for key in ("outputs", "small"):
            r.pop(key, None)
        if samples.get(name):
            r.update(summarise(samples[name], r["scale"]))
    return results
