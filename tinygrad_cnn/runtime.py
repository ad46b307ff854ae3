"""How tinygrad_cnn uses the machine's cores: one thread policy for every kernel.

* **Threading layer.**  Numba's parallel kernels run on TBB when it can be
  loaded, else on Numba's own ``workqueue``; never on GNU OpenMP, which
  aborts a child made by ``os.fork()`` after a parallel region ran.  TBB is
  thread- and fork-safe, and its work stealing lets the calling thread take
  over the share of a worker the OS has descheduled, which is what keeps a
  layer call near its fair share on a busy machine (OpenMP and workqueue
  hand each thread a fixed share and wait for the slowest).  A layer the
  user chose (``NUMBA_THREADING_LAYER`` or ``numba.config.THREADING_LAYER``)
  is kept.  The choice is made by setting ``numba.config.THREADING_LAYER``,
  not the environment, so child processes that never import tinygrad_cnn
  (and so lack the TBB loading below) keep Numba's own default.

  Measured on a shared 2-core machine with ``python benchmarks/threads_compare.py``
  (fresh process per run; a LeNet-5 step: batch 64, forward + loss +
  backward, median and p90 of 40 steps; ``train --epochs 3 --no-progress``
  wall time; median of 3 interleaved runs, the collapsed layers 1 run),
  idle / beside two ``python -c "while True: pass"``::

      layer                      step ms (p90)      train s       | loaded: step ms (p90)   train s
      tbb                        7.8  (8.1)         2.4           |         9.2  (9.6)      5.3
      workqueue                  12.9 (13.5)        2.9           |         31   (39)       7.8
      omp, OMP_WAIT_POLICY=passive 8.8 (9.3)        2.7           |         28   (32)       7.1
      omp (spinning, as before)  7.7  (8.0)         2.3           |         498  (797)      91

  TBB is as fast as spinning OpenMP when idle and keeps a fair share
  (about 2x) under load; the others lose 3x there.  Timings on a shared
  machine are noisy: the ratios, not the absolute times, carry over.

* **Thread count.**  :func:`set_num_threads` / :func:`get_num_threads`;
  the default is ``min(2, cores)`` or ``TINYGRAD_CNN_NUM_THREADS``.  Two
  threads, not all cores, because a LeNet-sized layer has too little work
  to feed more and every extra thread is one more to wait for when the
  machine is shared.  A thread that lowered Numba's own count
  (``numba.set_num_threads``) gets no more than that.

* **A busy machine.**  While other processes take the cores, so that this
  process's threads wait for one (Linux's per-thread run delay, looked at
  every 0.1 s: :func:`cores_taken`), every kernel runs on the launching
  thread alone: a parallel region would wait for a descheduled worker's
  chunk.  Beside two CPU-bound processes on two cores, ``train --epochs 6``
  took 1.8 s or 2.8 s depending on where the OS put the threads (median of
  ten 2.6 s) and now 2.0 to 2.5 s (median 2.2 s; idle 1.35 s).
  ``TINYGRAD_CNN_ADAPT_THREADS=0`` keeps the count.

* **BLAS.**  The framework's own matrix products (``@`` in MatMul, the GEMM
  convolution's chunks) run with BLAS on one thread
  (:func:`single_threaded_blas`): they are small, and BLAS's spinning
  worker threads would otherwise compete with the kernel threads for the
  same two cores.  The user's own numpy calls keep BLAS's setting.  Setting
  the limit per call costs about 17 us (threadpoolctl's ``limit()`` 56 us,
  ``threadpool_limits`` 2.4 ms); beside two busy processes a LeNet-sized
  product (64x400 @ 400x120) took 0.68 ms on one BLAS thread and 4.7 ms on
  BLAS's default two.

* **Memory.**  A layer's outputs and gradients are arrays of megabytes,
  freed and allocated again at every step.  glibc hands memory above its
  top pad back to the OS when freed, so the next step maps it afresh and
  page-faults every 4 KiB of it in again, from whichever thread first
  writes it; in a virtual machine that cost a 32-map 3x3 layer
  (32x32x32x32 -> 64@3x3) a third of its forward-backward time
  (median of 40 back-to-back calls, 2 threads: 50 -> 31 ms).  At
  import the framework raises glibc's top pad (``mallopt(M_TOP_PAD)``) to
  :data:`MALLOC_TOP_PAD` so that freed memory is kept for reuse, as the
  allocators PyTorch recommends for CPU training do.  It only changes how
  much freed memory the process keeps (at most that much per arena);
  ``TINYGRAD_CNN_MALLOC_TOP_PAD=0`` leaves glibc's default.

* **fork().**  Locks and counters kept here are reset in a forked child
  (``os.register_at_fork``); TBB and workqueue restart their pools there.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import sys
import threading
import time

import numba

from . import _checks

__all__ = ["set_num_threads", "get_num_threads", "threading_layer", "single_threaded_blas"]

#: Environment variable holding the default thread count.
ENV_NUM_THREADS = "TINYGRAD_CNN_NUM_THREADS"
#: Threads used when neither set_num_threads nor the variable says otherwise.
MAX_DEFAULT_THREADS = 2
#: Layers tried in order when the user chose none.
PREFERRED_LAYERS = ("tbb", "workqueue")


# ---------------------------------------------------------------- threading layer

def _load_tbb() -> bool:
    """Make ``libtbb`` findable for Numba's TBB pool; True when it loaded.

    Numba's ``tbbpool`` extension links ``libtbb.so.12`` by name.  The PyPI
    ``tbb`` wheel installs it in ``<prefix>/lib``, which the loader does not
    search in a virtual environment, so the layer fails to load although
    TBB is installed.  Loading the library once by its full path (globally)
    lets the loader resolve the extension's dependency by its soname.
    """
    if sys.platform.startswith("linux"):
        name = "libtbb.so.12"
    elif sys.platform == "darwin":
        name = "libtbb.12.dylib"
    else:
        name = "tbb12.dll"
    libdir = "Library/bin" if sys.platform == "win32" else "lib"
    for candidate in (os.path.join(sys.prefix, libdir, name), name):
        try:
            ctypes.CDLL(candidate, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
        except OSError:
            continue
        try:
            importlib.import_module("numba.np.ufunc.tbbpool")  # links libtbb
            from numba.np.ufunc import parallel
            parallel._check_tbb_version_compatible()
        except Exception:  # too old, or the extension is missing
            return False
        return True
    return False


def _pool_started() -> bool:
    from numba.np.ufunc import parallel
    return bool(getattr(parallel, "_is_initialized", False))


def _choose_layer() -> str:
    """Set Numba's threading layer (before its pool starts); return the layer asked for."""
    asked = str(numba.config.THREADING_LAYER)
    if asked != "default" or _pool_started():
        if asked in ("default", "tbb", "safe", "threadsafe"):
            _load_tbb()
        return asked
    for layer in PREFERRED_LAYERS:
        if layer != "tbb" or _load_tbb():
            numba.config.THREADING_LAYER = layer
            return layer
    return asked  # unreachable: workqueue is always built


_LAYER_ASKED = _choose_layer()


def threading_layer() -> str:
    """The Numba threading layer in use (or, before the first parallel kernel ran, the one asked for)."""
    try:
        return numba.threading_layer()
    except ValueError:  # the pool has not started yet
        return _LAYER_ASKED


_kernel_lock = threading.Lock()
_layer_in_use = None   # known once Numba's pool has started


def kernel_guard():
    """Context held around one parallel kernel launch: a lock under workqueue, else nothing.

    workqueue is not thread-safe (two threads launching parallel kernels at
    once abort the process), so there the framework serialises its launches.
    """
    global _layer_in_use
    if _layer_in_use is None:
        try:
            _layer_in_use = numba.threading_layer()
        except ValueError:  # the pool starts with the first launch: guard that one
            return _kernel_lock
    return _kernel_lock if _layer_in_use == "workqueue" else contextlib.nullcontext()


# ---------------------------------------------------------------- worker placement

#: ``TINYGRAD_CNN_PLACE_WORKERS=0`` turns the placement below off.
ENV_PLACE_WORKERS = "TINYGRAD_CNN_PLACE_WORKERS"
_place = sys.platform.startswith("linux") and os.environ.get(ENV_PLACE_WORKERS, "").strip() != "0"
_workers = None     # the pool's worker threads once found; () when there is nothing to place
_tries = 0          # launches spent looking for them
_caller_cpu = -1    # the core the launching thread was on at the last placement (-2: workers free)
_getcpu = None
_last_launch = 0.0  # perf_counter() of the last multi-threaded launch
_restricted = False  # whether the workers are kept off the caller's core now
#: A pause between launches longer than this (seconds) lets the workers fall asleep.
IDLE_GAP = 0.02


def _schedstat(tids, field):
    """One field of ``/proc/self/task/TID/schedstat`` per thread still alive, in nanoseconds:
    0 the time it has run, 1 the time it has waited for a core while runnable."""
    values = {}
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                values[tid] = int(f.read().split()[field])
        except (OSError, ValueError, IndexError):
            pass
    return values


def _cpu_times(tids):
    """Nanoseconds each thread has run, for those still alive."""
    return _schedstat(tids, 0)


def place_workers():
    """Keep the pool's workers off the core of the thread that launches a parallel kernel.

    After the process has been idle for a while (a notebook between cells, a
    benchmark between rounds), the OS wakes a sleeping TBB worker on the core
    of the thread that woke it, which is busy running the kernel: the worker
    waits, the caller steals all the work, and every layer call runs on one
    thread until the OS happens to move the worker, often hundreds of calls
    later.  Measured on this 2-core machine: LeNet's C3 forward + backward
    took 1.3 ms back to back and 2.2 ms (the 1-thread time) after a few
    0.2 s rests.  So, before each multi-threaded launch, the workers' allowed
    cores are set to the process's cores minus the caller's, whenever the
    caller has moved (``sched_getcpu`` costs a fraction of a microsecond; the
    affinity calls happen only on a move).  Not on a busy machine, where
    keeping a worker off one core would tie it to another that others are
    using (``train --epochs 6`` beside two CPU-bound processes took 3.5 s
    with it and 2.4 s without): after each pause longer than IDLE_GAP the
    count of runnable threads decides, and the workers are freed when it says
    the cores are taken.

    The workers are found by watching, during the first parallel launches,
    which threads other than Python's own ran while the kernel did.  Only
    under TBB and on Linux; ``TINYGRAD_CNN_PLACE_WORKERS=0`` turns it off.
    Returns what :func:`workers_found` needs after the launch (None when nothing).
    """
    global _workers, _caller_cpu, _getcpu, _place, _last_launch, _restricted
    if not _place:
        return None
    if _workers is None:
        if threading_layer() != "tbb" or _tries >= 5:
            _workers = ()
            return None
        try:
            mine = {t.native_id for t in threading.enumerate()} | {threading.get_native_id()}
            candidates = [int(t) for t in os.listdir("/proc/self/task") if int(t) not in mine]
            _getcpu = _getcpu or ctypes.CDLL(None).sched_getcpu
        except (OSError, AttributeError, ValueError):
            _place = False
            return None
        return _cpu_times(candidates)
    if not _workers:
        return None
    now = time.perf_counter()
    if now - _last_launch > IDLE_GAP:  # the workers have had time to fall asleep: look again
        _restricted = not _machine_busy()
        _caller_cpu = -1
    _last_launch = now
    if not _restricted:
        if _caller_cpu != -2:  # free the workers again (once)
            _set_workers_affinity(None)
            _caller_cpu = -2
        return None
    cpu = _getcpu()
    if cpu != _caller_cpu and cpu >= 0:
        _caller_cpu = cpu
        _set_workers_affinity(cpu)
    return None


def _machine_busy() -> bool:
    """Whether other runnable threads would fill the cores the workers could move to
    (``/proc/loadavg``'s count of runnable threads, this one included, right now)."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        return running > len(os.sched_getaffinity(0)) - 1
    except (OSError, ValueError, IndexError):
        return True


def _set_workers_affinity(cpu) -> None:
    """Allow the workers every core of the process but ``cpu`` (None: every core)."""
    global _workers
    try:
        allowed = os.sched_getaffinity(0)
        if cpu is not None:
            allowed = allowed - {cpu}
        if allowed:
            for tid in _workers:
                os.sched_setaffinity(tid, allowed)
    except OSError:  # a worker has ended or the affinity cannot be set: stop placing
        _workers = ()


def workers_found(before) -> None:
    """After a launch that :func:`place_workers` watched: the threads that ran are the pool's workers."""
    global _workers, _tries
    if before is None or _workers is not None:
        return
    _tries += 1
    after = _cpu_times(before)
    ran = tuple(sorted(tid for tid, t in after.items() if t > before[tid]))
    if ran:
        _workers = ran


# ---------------------------------------------------------------- contention

#: ``TINYGRAD_CNN_ADAPT_THREADS=0`` keeps the thread count when the cores are taken.
ENV_ADAPT_THREADS = "TINYGRAD_CNN_ADAPT_THREADS"
_adapt = sys.platform.startswith("linux") and os.environ.get(ENV_ADAPT_THREADS, "").strip() != "0"
#: Seconds between two looks at how long this process's threads waited for a core.
CONTENTION_PERIOD = 0.1
#: The time the launching thread and the pool's workers spent runnable but waiting for a
#: core, as a share of the last period, above which the cores count as taken.
CONTENTION_SHARE = 0.15
_look = (0.0, {}, False)  # (clock, run delay in ns per thread id, cores taken)
_clock = time.perf_counter


def _run_delays(tids):
    """Nanoseconds each thread has spent waiting for a core while runnable, for those still alive."""
    return _schedstat(tids, 1)


def cores_taken() -> bool:
    """Whether other work keeps this process's threads waiting for a core; then every kernel
    runs on the launching thread alone.

    Beside two CPU-bound processes on two cores, a parallel layer call waits, whenever the
    OS has descheduled a worker, for that worker's chunk: ``train --epochs 6`` took 1.8 s
    or 2.8 s by the luck of where the OS put the threads (median 2.6 s over 10 runs) and
    2.3 s every time on one thread (idle: 1.35 s).  Every CONTENTION_PERIOD seconds the
    run delay of the launching thread and of the pool's workers (Linux's ``schedstat``:
    time runnable but not running) is compared with the time passed; above
    CONTENTION_SHARE the cores count as taken until the launching thread alone waits less.
    A cheap check between looks (one clock read).  Off elsewhere than on Linux and with
    ``TINYGRAD_CNN_ADAPT_THREADS=0``.
    """
    global _look
    if not _adapt:
        return False
    now = _clock()
    then, before, taken = _look
    if now - then < CONTENTION_PERIOD:
        return taken
    tids = [threading.get_native_id(), *(_workers or ())]
    delays = _run_delays(tids)
    waited = sum(d - before[t] for t, d in delays.items() if t in before)
    if before:  # the first look only sets the baseline
        taken = waited > CONTENTION_SHARE * (now - then) * 1e9
    _look = (now, delays, taken)
    return taken


# ---------------------------------------------------------------- thread count

def _default_num_threads() -> int:
    text = os.environ.get(ENV_NUM_THREADS)
    if text is None or text.strip() == "":
        return max(1, min(MAX_DEFAULT_THREADS, os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS))
    try:
        n = int(text.strip())
    except ValueError:
        raise ValueError(f"{ENV_NUM_THREADS} must be a positive integer, got {text!r}") from None
    if n < 1:
        raise ValueError(f"{ENV_NUM_THREADS} must be a positive integer, got {text!r}")
    if n > numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"{ENV_NUM_THREADS}={n} is more than the {numba.config.NUMBA_NUM_THREADS} "
                         f"threads Numba may start here (NUMBA_NUM_THREADS)")
    return n


_num_threads = _default_num_threads()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in every compiled kernel, in every thread of this process.

    ``n`` is an int from 1 to ``numba.config.NUMBA_NUM_THREADS`` (the number
    of cores unless ``NUMBA_NUM_THREADS`` says otherwise).
    """
    global _num_threads
    limit = numba.config.NUMBA_NUM_THREADS
    _num_threads = _checks.positive_int(n, f"set_num_threads: n (at most NUMBA_NUM_THREADS = {limit})", limit)


def get_num_threads() -> int:
    """The threads every compiled kernel uses (see :func:`set_num_threads`)."""
    return _num_threads


def kernel_threads() -> int:
    """Threads for a kernel launched from the calling thread.

    The framework's count, capped by Numba's count for this thread, so that
    code which lowered it with ``numba.set_num_threads`` is obeyed; 1 while
    other work takes the cores (:func:`cores_taken`).
    """
    if cores_taken():
        return 1
    return min(_num_threads, numba.get_num_threads())


# ---------------------------------------------------------------- BLAS

_blas_libs = None          # threadpoolctl controllers of the loaded BLAS libraries
_blas_lock = threading.Lock()
_blas_depth = 0            # nesting of single_threaded_blas() over all threads
_blas_saved = ()           # thread counts to restore when the outermost one exits


class _SingleThreadedBlas:
    """Context manager: BLAS on one thread for the framework's own products.

    Calls BLAS's ``set_num_threads`` directly (through the controllers
    threadpoolctl found once), which costs a few microseconds, instead of
    ``threadpool_limits``' per-call bookkeeping.  Nested and concurrent uses
    share one limit: the first to enter sets it and the last to leave
    restores the previous counts.
    """

    __slots__ = ()

    def __enter__(self):
        global _blas_libs, _blas_depth, _blas_saved
        with _blas_lock:
            if _blas_depth == 0:
                if _blas_libs is None:
                    from threadpoolctl import ThreadpoolController
                    _blas_libs = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
                saved = []
                for lib in _blas_libs:
                    n = lib.num_threads
                    saved.append(n)
                    if n != 1:
                        lib.set_num_threads(1)
                _blas_saved = tuple(saved)
            _blas_depth += 1
        return self

    def __exit__(self, *exc):
        global _blas_depth
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0:
                for lib, n in zip(_blas_libs, _blas_saved):
                    if n != 1:
                        lib.set_num_threads(n)
        return False


_SINGLE_THREADED_BLAS = _SingleThreadedBlas()


def single_threaded_blas():
    """``with single_threaded_blas(): ...`` runs the BLAS calls inside on one thread."""
    return _SINGLE_THREADED_BLAS


# ---------------------------------------------------------------- memory

#: Bytes of freed memory glibc keeps at the top of each heap (see the module docstring).
MALLOC_TOP_PAD = 64 << 20
_M_TOP_PAD = -2   # glibc's mallopt parameter number


def _keep_freed_memory() -> bool:
    """Raise glibc's top pad to MALLOC_TOP_PAD (or $TINYGRAD_CNN_MALLOC_TOP_PAD); True when set."""
    text = os.environ.get("TINYGRAD_CNN_MALLOC_TOP_PAD", "").strip()
    try:
        pad = MALLOC_TOP_PAD if text == "" else int(text)
    except ValueError:
        raise ValueError(f"TINYGRAD_CNN_MALLOC_TOP_PAD must be a number of bytes, got {text!r}") from None
    if pad <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt  # glibc only (musl has none)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_TOP_PAD, min(pad, 2 ** 31 - 1)))


_keep_freed_memory()


# ---------------------------------------------------------------- fork

def _after_fork_in_child():
    # A lock held by a thread that does not exist in the child would never be released.
    global _kernel_lock, _blas_lock, _blas_depth, _workers, _tries, _caller_cpu, _last_launch, _restricted, _look
    _workers, _tries, _caller_cpu, _last_launch, _restricted = None, 0, -1, 0.0, False  # its own pool
    _look = (0.0, {}, False)  # its own threads
    _kernel_lock = threading.Lock()
    _blas_lock = threading.Lock()
    if _blas_depth:  # forked inside another thread's single_threaded_blas(): undo its limit
        for lib, n in zip(_blas_libs, _blas_saved):
            if n != 1:
                lib.set_num_threads(n)
    _blas_depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
