"""Training on a busy machine: ``python benchmarks/busy.py [options]``.

The same as ``python -m tinygrad_cnn bench --busy [options]`` (:mod:`tinygrad_cnn.bench.busy`);
see ``--help`` and benchmarks/README.md.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from tinygrad_cnn.bench.busy import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
