import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

# Kernels normally drop to one thread while other processes take the cores
# (runtime.cores_taken); the tests that compare one and two threads must get the
# count they ask for on a loaded machine too.  test_runtime turns it on to test it.
os.environ.setdefault("TINYGRAD_CNN_ADAPT_THREADS", "0")

# The conv_path fixture only patches a module constant, so reusing it across examples is safe.
# First calls compile Numba kernels, so no per-example deadline.
settings.register_profile(
    "default", deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a whole program (runs by default; deselect with -m 'not slow')")
