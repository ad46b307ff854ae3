"""The thread policy: thread count, threading layer, BLAS limit, fork() safety, per-thread grad mode."""
import os
import signal
import subprocess
import sys
import textwrap
import threading

import numba
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, enable_grad, is_grad_enabled, no_grad, runtime, set_grad_enabled

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, timeout=120, **env):
    """Run ``code`` in a fresh interpreter from the project root; kill its whole process group on timeout."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("NUMBA_THREADING_LAYER", runtime.ENV_NUM_THREADS)}
    environ.update(env)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the forked children too
        proc.communicate()
        pytest.fail(f"timed out after {timeout} s (a deadlock?)")
    return proc.returncode, out, err


# ------------------------------------------------------------------ thread count

def test_set_get_num_threads_round_trip():
    before = tc.get_num_threads()
    try:
        tc.set_num_threads(1)
        assert tc.get_num_threads() == 1
        tc.set_num_threads(np.int64(numba.config.NUMBA_NUM_THREADS))
        assert tc.get_num_threads() == numba.config.NUMBA_NUM_THREADS
        assert type(tc.get_num_threads()) is int
    finally:
        tc.set_num_threads(before)
    assert tc.get_num_threads() == before


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (10**6, ValueError),
                                        (1.5, TypeError), (True, TypeError), ("2", TypeError),
                                        (None, TypeError)])
def test_set_num_threads_bad_values(bad, error):
    before = tc.get_num_threads()
    with pytest.raises(error, match="set_num_threads"):
        tc.set_num_threads(bad)
    assert tc.get_num_threads() == before


def test_num_threads_environment_variable():
    code = "import tinygrad_cnn; print(tinygrad_cnn.get_num_threads())"
    rc, out, err = run_python(code, TINYGRAD_CNN_NUM_THREADS="1")
    assert rc == 0, err
    assert out.strip() == "1"
    rc, out, err = run_python(code)
    assert rc == 0, err
    assert out.strip() == str(min(2, os.cpu_count(), numba.config.NUMBA_NUM_THREADS))
    for bad in ("abc", "0", "1.5", "100000"):
        rc, out, err = run_python(code, TINYGRAD_CNN_NUM_THREADS=bad)
        assert rc != 0
        assert "ValueError" in err and "TINYGRAD_CNN_NUM_THREADS" in err, err


def test_kernels_obey_a_lowered_numba_count_and_restore_it():
    from tinygrad_cnn.kernels import _parallel

    seen = []
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        _parallel.run_kernel(lambda: seen.append(numba.get_num_threads()), 1 << 30)
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(previous)
    _parallel.run_kernel(lambda: seen.append(numba.get_num_threads()), 1 << 30)
    _parallel.run_kernel(lambda: seen.append(numba.get_num_threads()), 1)
    assert seen == [1, min(tc.get_num_threads(), previous), 1]
    assert numba.get_num_threads() == previous


def test_kernels_run_on_one_thread_while_other_work_takes_the_cores(monkeypatch):
    """Every CONTENTION_PERIOD the run delay of the launching thread and the workers (time
    runnable but not running) over the time passed decides: above CONTENTION_SHARE the
    kernels run on the launching thread alone, below it on the framework's threads again."""
    from tinygrad_cnn.kernels import _parallel

    me = threading.get_native_id()
    clock, delays, looks = [100.0], {me: 0}, []

    def run_delays(tids):
        looks.append(tuple(tids))
        return {t: delays[t] for t in tids if t in delays}

    monkeypatch.setattr(runtime, "_adapt", True)
    monkeypatch.setattr(runtime, "_look", (0.0, {}, False))
    monkeypatch.setattr(runtime, "_clock", lambda: clock[0])
    monkeypatch.setattr(runtime, "_run_delays", run_delays)
    full = min(tc.get_num_threads(), numba.get_num_threads())
    seen = []

    def launch():
        _parallel.run_kernel(lambda: seen.append(numba.get_num_threads()), 1 << 30)

    assert not runtime.cores_taken() and looks[-1][0] == me        # the first look: a baseline
    clock[0] += 0.2 * runtime.CONTENTION_PERIOD
    assert not runtime.cores_taken() and len(looks) == 1            # between looks: no reading
    clock[0] = 101.0
    delays[me] = int(0.3e9)                                         # waited 30% of a second
    assert runtime.cores_taken() and runtime.kernel_threads() == 1
    launch()
    clock[0] = 102.0
    delays[me] += int(0.9 * runtime.CONTENTION_SHARE * 1e9)         # just below the share
    assert not runtime.cores_taken() and runtime.kernel_threads() == full
    launch()
    assert seen == [1, full]
    monkeypatch.setattr(runtime, "_workers", (4242,))               # workers found since: counted
    delays[4242] = 10 ** 12                                         # from their first look on
    clock[0] = 103.0
    assert not runtime.cores_taken() and looks[-1] == (me, 4242)
    delays[4242] += int(0.5e9)
    clock[0] = 104.0
    assert runtime.cores_taken()
    monkeypatch.setattr(runtime, "_adapt", False)                   # TINYGRAD_CNN_ADAPT_THREADS=0
    delays[me] += 10 ** 12
    clock[0] = 105.0
    assert not runtime.cores_taken()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="schedstat is Linux's")
def test_run_delays_reads_this_threads_schedstat():
    me = threading.get_native_id()
    delays = runtime._run_delays([me, -1])  # a thread that does not exist is left out
    assert list(delays) == [me] and isinstance(delays[me], int) and delays[me] >= 0


# ------------------------------------------------------------------ threading layer and BLAS

LAYER_SCENARIO = """
    import numba, numpy as np
    from tinygrad_cnn import runtime
    from tinygrad_cnn.kernels import conv2d_forward
    x = np.ones((64, 1, 32, 32), np.float32)
    conv2d_forward(x, np.ones((6, 1, 5, 5), np.float32), np.zeros(6, np.float32), 1, 1,
                   np.ones((6, 1), np.uint8))
    print(numba.threading_layer(), runtime._load_tbb())
"""


def test_threading_layer_in_use_is_the_chosen_one():
    rc, out, err = run_python(LAYER_SCENARIO)
    assert rc == 0, err
    layer, tbb_loads = out.split()
    assert layer == ("tbb" if tbb_loads == "True" else "workqueue")


def test_a_layer_chosen_by_the_user_is_kept():
    rc, out, err = run_python(LAYER_SCENARIO, NUMBA_THREADING_LAYER="workqueue")
    assert rc == 0, err
    assert out.split()[0] == "workqueue"


PLACEMENT_SCENARIO = """
import os, threading, time
import numpy as np
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, runtime
runtime.set_num_threads(2)
x = Tensor(np.random.default_rng(0).standard_normal((64, 6, 14, 14)).astype(np.float32))
w = Tensor(np.random.default_rng(1).standard_normal((16, 6, 5, 5)).astype(np.float32))
for _ in range(4):
    F.conv2d(x, w)
    time.sleep(0.05)
workers = runtime._workers or ()
python_threads = {t.native_id for t in threading.enumerate()}
cpu = runtime._caller_cpu   # the caller's core at the last placement
every = os.sched_getaffinity(0)
if runtime._restricted:     # an idle machine: every core but the caller's
    placed = all(os.sched_getaffinity(w) == every - {cpu} for w in workers)
else:                       # a busy one: left free
    placed = all(os.sched_getaffinity(w) == every for w in workers)
print(runtime.threading_layer(), len(workers), all(w not in python_threads for w in workers),
      placed if workers else "none")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                    reason="worker placement is for Linux with 2 or more cores")
def test_pool_workers_are_found_and_kept_off_the_callers_core():
    """Under TBB the pool's worker threads (never a Python thread) are found and allowed every
    core but the launching thread's (every core when the machine is busy);
    TINYGRAD_CNN_PLACE_WORKERS=0 leaves them alone."""
    rc, out, err = run_python(PLACEMENT_SCENARIO)
    assert rc == 0, err
    layer, n, not_python, off_caller = out.split()
    if layer != "tbb":
        assert n == "0"
        return
    assert int(n) >= 1 and not_python == "True" and off_caller == "True"
    rc, out, err = run_python(PLACEMENT_SCENARIO, **{runtime.ENV_PLACE_WORKERS: "0"})
    assert rc == 0, err
    assert out.split()[1] == "0"


def test_single_threaded_blas_limits_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]

    before = blas_threads()
    if not before:
        pytest.skip("numpy reports no BLAS library")
    with runtime.single_threaded_blas():
        with runtime.single_threaded_blas():
            assert blas_threads() == [1] * len(before)
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before


# ------------------------------------------------------------------ fork()

FORK_SCENARIO = """
    import multiprocessing, sys, threading
    import numpy as np
    import tinygrad_cnn as tc
    import tinygrad_cnn.functional as F

    def compute(seed):
        # every op family, large enough for the parallel path: direct conv
        # (C·kh·kw = 25), GEMM conv (dense, C·kh·kw = 200), max and avg pooling
        rng = np.random.default_rng(seed)
        def t(*shape, grad=True):
            return tc.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)
        x, w1, b1, w2 = t(64, 1, 32, 32), t(6, 1, 5, 5), t(6), t(16, 8, 5, 5)
        h = t(64, 8, 16, 16)
        outs = [F.conv2d(x, w1, b1), F.conv2d(h, w2, padding=2),
                F.max_pool2d(h, 2), F.avg_pool2d(h, 2)]
        loss = sum((o * tc.Tensor(rng.standard_normal(o.shape).astype(np.float32))).sum() for o in outs)
        loss.backward()
        return [o.data for o in outs] + [p.grad for p in (x, w1, b1, w2, h)]

    expected = compute(0)
    # kernels run from two threads at once (workqueue is not thread-safe by itself)
    got = [None, None]
    def worker(i):
        got[i] = compute(0)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for th in threads: th.start()
    for th in threads: th.join(timeout=60)
    assert all(g is not None for g in got), "a thread did not finish"
    for g in got:
        assert all(np.array_equal(a, b) for a, b in zip(g, expected))
    ctx = multiprocessing.get_context("fork")
    for attempt in range(2):
        with ctx.Pool(2) as pool:
            results = pool.map_async(compute, [0, 0, 0, 0]).get(timeout=60)
        for r in results:
            assert len(r) == len(expected)
            for a, b in zip(r, expected):
                assert np.array_equal(a, b), "a forked child computed a different result"
    expected_after = compute(0)  # the parent still works after forking
    assert all(np.array_equal(a, b) for a, b in zip(expected_after, expected))
    print("ok")
"""


@pytest.mark.parametrize("layer", [None, "workqueue"])
def test_forked_children_run_every_op_with_the_parents_results(layer):
    env = {"NUMBA_THREADING_LAYER": layer} if layer else {}
    rc, out, err = run_python(FORK_SCENARIO, timeout=240, **env)
    assert rc == 0, f"exit status {rc}\n{err[-3000:]}"
    assert out.strip().endswith("ok")


# ------------------------------------------------------------------ grad mode per thread

def _records():
    return (Tensor(np.ones(3, np.float32), requires_grad=True) * 2).requires_grad


def test_no_grad_is_per_thread():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def in_no_grad():
        with no_grad():
            seen["a_inside"] = (is_grad_enabled(), _records())
            inside.set()
            checked.wait(timeout=30)
            seen["a_still"] = (is_grad_enabled(), _records())
        seen["a_after"] = is_grad_enabled()

    def beside():
        inside.wait(timeout=30)
        seen["b"] = (is_grad_enabled(), _records())
        checked.set()

    threads = [threading.Thread(target=in_no_grad), threading.Thread(target=beside)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert seen == {"a_inside": (False, False), "b": (True, True), "a_still": (False, False),
                    "a_after": True}
    assert is_grad_enabled() and _records()


def test_enable_grad_and_set_grad_enabled():
    with no_grad():
        assert not _records()
        with enable_grad():
            assert is_grad_enabled() and _records()
        assert not is_grad_enabled()

        @enable_grad()
        def f():
            return _records()

        assert f() and not is_grad_enabled()
    assert is_grad_enabled()

    @no_grad()
    def g():
        return _records()

    assert not g() and is_grad_enabled()

    with set_grad_enabled(False):
        assert not _records()
    assert is_grad_enabled()
    set_grad_enabled(False)
    try:
        assert not is_grad_enabled()
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()
    with pytest.raises(TypeError, match="mode"):
        set_grad_enabled("yes")
    assert is_grad_enabled()
