"""The benchmark suite (``python -m tinygrad_cnn bench``): cases, contenders, a fair harness.

:mod:`.cases` what is timed, :mod:`.contenders` the four ways of doing it (:mod:`.baseline` is
the NumPy one), :mod:`.worker` one contender in a process of its own, :mod:`.harness` the
alternating rounds, :mod:`.report` the tables and files, :mod:`.cli` the command line,
:mod:`.busy` training beside CPU-bound processes.  Entry point: :func:`.cli.main`.
"""
