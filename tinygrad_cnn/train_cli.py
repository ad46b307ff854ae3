"""The ``train`` command: from parsed arguments to a :class:`~tinygrad_cnn.recipe.TrainingRecipe`
run, with every user error as one line (``error: ...``, exit status 2) before training starts.

Settings: an option given > the checkpoint's setting (with ``--resume``) > the recipe's
default. Failures during training (interrupt, a diverging loss, a checkpoint that cannot be
written) end with one ``error:`` line and exit status 130 or 1.
"""

from __future__ import annotations

import os
import sys

import numba

from . import _checks, runtime
from .recipe import CHECKPOINT_CHOICES, TrainingRecipe

#: at most this many kernel threads unless --threads says otherwise
MAX_DEFAULT_THREADS = runtime.MAX_DEFAULT_THREADS
#: the options that, with --resume, default to the checkpoint's setting
RESUMABLE = ("optimizer", "lr", "momentum", "weight_decay", "schedule", "augment", "batch_size",
             "seed")


def _describe(exc) -> str:
    """A one-line description of an exception (no '[Errno 2]' noise)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
        if exc.filename is not None and str(exc.filename) not in text:
            text += f": {exc.filename}"
    return " ".join(text.split())


def _set_threads(n) -> int:
    """Run the kernels on ``n`` threads (the package's one thread policy); returns the previous number."""
    previous = runtime.get_num_threads()
    runtime.set_num_threads(n)
    return previous


def _max_threads() -> int:
    return numba.config.NUMBA_NUM_THREADS


def _check_outputs(args, parser) -> None:
    """Every file the run will write must be writable before any work starts (a directory
    that exists and takes a new file, a name the file system allows, not a directory or a
    FIFO), and a plot's suffix must name a format Matplotlib can write."""
    for option, path in (("--save", args.save), ("--plot", args.plot)):
        if path:
            try:
                _checks.output_file(path, option)
            except (TypeError, ValueError) as exc:
                parser.error(str(exc))
    if args.save and args.plot and os.path.abspath(args.save) == os.path.abspath(args.plot):
        parser.error("--save and --plot name the same file")
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (an optional extra)
            from matplotlib.backends.backend_agg import FigureCanvasAgg
        except ImportError:
            from .plots import INSTALL_HINT

            parser.error(f"--plot needs matplotlib: {INSTALL_HINT}")
        suffix = os.path.splitext(args.plot)[1][1:].lower()
        formats = FigureCanvasAgg.get_supported_filetypes()
        if suffix and suffix not in formats:
            parser.error(f"--plot: Matplotlib cannot write {suffix!r} files; use one of "
                         f"{', '.join(sorted(formats))} (or no suffix for PNG)")


def run_train(args, parser) -> int:
    """Run ``train`` with the ``argparse`` namespace ``args``; returns the exit status."""
    if args.dataset == "mnist" and not args.data_dir:
        parser.error("--dataset mnist needs --data-dir DIR (the directory of the MNIST IDX files)")
    if args.dataset != "mnist" and args.data_dir:
        parser.error("--data-dir is only used with --dataset mnist")
    _check_outputs(args, parser)
    from .checkpoint import read_training_checkpoint

    checkpoint = None
    if args.resume:
        try:
            checkpoint = read_training_checkpoint(args.resume, choices=CHECKPOINT_CHOICES)
        except (OSError, ValueError) as exc:
            parser.error(f"--resume: cannot use {args.resume!r}: {_describe(exc)}")
    given = {name: getattr(args, name) for name in RESUMABLE + ("dataset", "data_dir", "limit",
                                                                 "epochs")}
    try:
        recipe = TrainingRecipe.resuming(checkpoint, **given) if checkpoint else \
            TrainingRecipe(**{k: v for k, v in given.items() if v is not None})
    except (TypeError, ValueError) as exc:  # combinations argparse cannot see
        parser.error(_describe(exc))
    threads = args.threads or runtime.get_num_threads()  # min(2, cores) or TINYGRAD_CNN_NUM_THREADS
    if threads > _max_threads():
        parser.error(f"--threads {threads} is more than the {_max_threads()} threads Numba may "
                     f"use here (NUMBA_NUM_THREADS)")
    previous = _set_threads(threads)
    try:
        return _run(recipe, checkpoint, args, parser)
    finally:
        _set_threads(previous)


def _run(recipe, checkpoint, args, parser) -> int:
    try:
        data = recipe.load_data()
    except (OSError, ValueError) as exc:
        parser.error(f"cannot load {recipe.dataset}: {_describe(exc)}")
    try:
        model, optimizer = recipe.build(checkpoint)
    except (TypeError, ValueError) as exc:
        if checkpoint is None:
            raise
        parser.error(f"--resume: {args.resume!r} does not fit LeNet-5 / {recipe.optimizer}: "
                     f"{_describe(exc)}")
    saved = [None]
    try:
        result = recipe.run(data=data, resume=checkpoint, save=args.save, model=model,
                            optimizer=optimizer, progress=not args.no_progress,
                            log=lambda line: print(line, flush=True),
                            on_epoch=lambda epoch, _history: saved.__setitem__(0, epoch))
    except KeyboardInterrupt:
        where = f"; checkpoint of epoch {saved[0]} in {args.save}" if args.save and saved[0] else ""
        print(f"error: interrupted{where}", file=sys.stderr)
        return 130
    except FloatingPointError as exc:
        print(f"error: {exc} (try a smaller --lr)", file=sys.stderr)
        return 1
    except OSError as exc:  # writing the checkpoint failed (disk full, permissions, ...)
        print(f"error: cannot write checkpoint {args.save!r}: {_describe(exc)}", file=sys.stderr)
        return 1
    if args.save:
        print(f"saved checkpoint (epoch {saved[0]}) to {args.save}")
    if args.plot:
        from .plots import plot_history

        try:
            plot_history(result.history, args.plot, title=f"LeNet-5 on {recipe.dataset}")
        except (OSError, ValueError) as exc:
            print(f"error: cannot write plot {args.plot!r}: {_describe(exc)}", file=sys.stderr)
            return 1
        print(f"saved plot to {args.plot}")
    print(f"test accuracy: {result.test_accuracy:.4f}")
    return 0
