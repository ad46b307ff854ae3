"""``from tinygrad_cnn import benchmark; benchmark.main(argv)``: the suite lives in :mod:`tinygrad_cnn.bench`."""

from .bench.cli import main

__all__ = ["main"]
