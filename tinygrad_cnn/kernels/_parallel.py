"""How every kernel wrapper runs its compiled body: threads, BLAS and chunks.

The thread policy itself (layer, count, BLAS limit) is in
``tinygrad_cnn.runtime``; this module applies it to one kernel call.  A
call is one parallel region split over batch × maps, run on the calling
thread alone when its work is too small to pay for waking the pool.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .. import runtime

__all__ = ["PARALLEL_MIN_WORK", "run_kernel", "conn_array", "run_chunks"]

#: Below this many multiply-adds a kernel runs on the calling thread only:
#: waking the thread pool costs more than it saves for small maps (and far
#: more on a loaded machine, where a worker may be waiting for a core).
#: Measured on 2 cores, LeNet-5 steps in alternating processes: S4's three
#: passes (about 100 000 per call at batch 64, 51 000 at batch 32) pay on two
#: threads: batch 64 2.92 → 2.87 ms from 1 << 17 to 1 << 16, batch 32
#: 2.02 → 1.99 ms from 1 << 16 to 1 << 15; batch 8 the same either way.
PARALLEL_MIN_WORK = 1 << 15


def run_kernel(kernel, work, *args):
    """Call a compiled ``parallel=True`` kernel on the framework's threads,
    or on one thread when ``work`` (an estimate of its inner-loop
    operations) is below PARALLEL_MIN_WORK or other work takes the cores
    (``runtime.cores_taken``).

    The thread count is switched here, in Python, because Numba cannot cache
    a compiled function that calls ``numba.set_num_threads`` itself.  Numba's
    count is per thread, so it is set for the calling thread and restored.
    """
    previous = numba.get_num_threads()
    threads = 1 if work < PARALLEL_MIN_WORK else runtime.kernel_threads()
    watch = runtime.place_workers() if threads > 1 else None
    with runtime.kernel_guard():
        if threads == previous:
            out = kernel(*args)
        else:
            numba.set_num_threads(threads)
            try:
                out = kernel(*args)
            finally:
                numba.set_num_threads(previous)
    if watch is not None:
        runtime.workers_found(watch)
    return out


def conn_array(conn):
    """The connection matrix as a writeable C-contiguous uint8 array.

    Numba compiles a separate specialisation for every dtype, layout and
    read-only flag; a small (O, C) table is copied rather than trigger one
    (constant tables such as LeNet's are often marked read-only).
    """
    if conn.dtype == np.uint8 and conn.flags.c_contiguous and conn.flags.writeable:
        return conn
    return np.array(conn, dtype=np.uint8, order="C")


# ------------------------------------------------------------- chunked BLAS work

_pool = None        # worker threads for run_chunks, made on first use
_pool_lock = threading.Lock()


def _reset_pool_in_child():
    # The parent's worker threads do not exist in a forked child; an executor
    # that still counts them would queue work that nobody runs.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_in_child)


class _Chunks:
    """The chunks of one call, handed out one at a time to whichever thread asks next."""

    def __init__(self, chunks):
        self._items = list(enumerate(chunks))
        self._next = 0
        self._lock = threading.Lock()

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            if self._next == len(self._items):
                raise StopIteration
            item = self._items[self._next]
            self._next += 1
        return item


def run_chunks(work, chunks):
    """Run ``work(chunk_iterator)`` on the framework's threads, BLAS single-threaded.

    Every participant (the calling thread and up to ``threads - 1`` pool
    workers) calls ``work`` with one shared iterator of ``(index, chunk)``
    pairs and takes chunks from it until none are left: a worker the OS has
    descheduled simply takes fewer, and the caller never waits for work it
    could do itself.  Returns the list of ``work``'s return values, one per
    participant (their order varies; index any per-chunk result by the
    chunk index to keep sums deterministic).
    """
    global _pool
    threads = max(1, min(runtime.kernel_threads(), len(chunks)))
    shared = _Chunks(chunks)
    with runtime.single_threaded_blas():
        if threads == 1:
            return [work(shared)]
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS,
                                           thread_name_prefix="tinygrad_cnn")
            pool = _pool
        futures = [pool.submit(work, shared) for _ in range(threads - 1)]
        mine = work(shared)
        return [mine] + [f.result() for f in futures]
