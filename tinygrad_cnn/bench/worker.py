"""One contender of one case, timed in a process of its own: ``python -m tinygrad_cnn.bench.worker``.

The parent (:mod:`.harness`) starts a fresh worker per contender per case, so no other
contender's libraries or thread pools live in it.  Messages are pickles over stdin/stdout:

1. in: ``(case, contender, threads)``; out: ``{"outputs", "small", "label", "scale", "setup_s", "pid",
   "first_call_s", "threads"}`` after one untimed call (``outputs`` are checked by the parent;
   ``small`` are this contender's outputs on the naive contender's reduced batch, for
   ``tinygrad_cnn`` only), or ``{"error": text}``;
2. in: ``(warm, calls)``; out: the seconds of ``calls`` back-to-back calls after ``warm`` untimed
   ones (so the thread pools are awake, as in a training loop);
3. in: ``None``: exit.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import time


def _to_numpy(outputs) -> list:
    import numpy as np

    def one(v):
        if hasattr(v, "detach"):  # a torch tensor
            v = v.detach().numpy()
        elif hasattr(v, "data") and not isinstance(v, np.ndarray):  # a tinygrad_cnn Tensor
            v = v.data
        return np.array(v, dtype=np.float32)

    return [one(v) for v in outputs]


def limit_threads(n: int) -> dict:
    """``n`` threads for everything this process loaded: BLAS and OpenMP pools (threadpoolctl),
    PyTorch's intra-op pool, Numba's (tinygrad_cnn's) parallel loops.  Returns what is in force."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=n)  # the libraries loaded so far; the environment covers later ones
    used = {"blas": sorted({d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"})}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(n)
        used["torch"] = torch.get_num_threads()
    if "tinygrad_cnn" in sys.modules:
        import tinygrad_cnn

        tinygrad_cnn.set_num_threads(n)
        used["tinygrad_cnn"] = tinygrad_cnn.get_num_threads()
    return used


def serve(inp, out) -> None:
    def send(obj):
        pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    case, name, threads = pickle.load(inp)
    try:
        from .contenders import build

        t0 = time.perf_counter()
        step = build(case, name)
        used = limit_threads(threads)
        t1 = time.perf_counter()
        small = None
        if name == "tinygrad_cnn" and case.naive_n < case.batch:  # the naive contender's check
            small = _to_numpy(build(case, name, case.naive_n).run())
        t2 = time.perf_counter()
        outputs = _to_numpy(step.run())
        t2 = time.perf_counter() - t2
    except Exception as exc:  # reported by the parent; the other contenders go on
        send({"error": f"{type(exc).__name__}: {exc}"})
        return
    send({"outputs": outputs, "small": small, "label": step.label, "scale": step.scale,
          "setup_s": t1 - t0, "first_call_s": t2, "threads": used, "pid": os.getpid()})
    while (msg := pickle.load(inp)) is not None:
        warm, calls = msg
        for _ in range(warm):
            step.run()
        samples = []
        gc.collect()
        for _ in range(calls):
            t0 = time.perf_counter()
            step.run()
            samples.append(time.perf_counter() - t0)
        send(samples)


def main() -> None:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the channel
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
