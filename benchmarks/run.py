"""Run the tinygrad_cnn benchmark suite: ``python benchmarks/run.py [options]``.

A thin wrapper around :func:`tinygrad_cnn.benchmark.main`, the same as
``python -m tinygrad_cnn bench [options]``; see ``--help`` and benchmarks/README.md.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from tinygrad_cnn.benchmark import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
