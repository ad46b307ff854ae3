"""Command line: ``python -m tinygrad_cnn train|bench`` (also installed as ``tinygrad-cnn``).

``train`` fits LeNet-5 on scikit-learn's bundled handwritten digits (or MNIST), prints one
line per epoch and ends with ``test accuracy: 0.XXXX``. ``bench`` runs the benchmark suite
(:mod:`tinygrad_cnn.benchmark`). Bad arguments give a one-line ``error: ...`` on stderr and
exit status 2; the heavy imports (Numba kernels, scikit-learn) happen only after the arguments
have been checked.

A checkpoint written by ``--save`` is one ``.npz`` (see :func:`tinygrad_cnn.save`) holding
``model.<name>`` (the model's state dict), ``optim.<key>`` (the optimiser's state dict),
``meta.epoch`` (epochs done), the run's settings ``meta.optimizer``, ``meta.lr`` (initial
learning rate), ``meta.schedule``, ``meta.augment``, ``meta.batch_size``, ``meta.seed``,
``meta.dataset``, and ``meta.history.<key>`` (the per-epoch curves so far). ``--resume``
restores all of it (an option given again overrides the stored setting). Shuffling,
augmentation and the cosine schedule depend only on the seed and the epoch number, so
``train --epochs 1 --save ck.npz`` followed by ``train --resume ck.npz --epochs 2`` ends with
the same weights as ``train --epochs 3``. (The cosine schedule spans ``start + --epochs``
epochs, so this holds exactly when the first run was a single epoch or used
``--schedule constant``; otherwise the resumed run continues on the longer schedule.)
"""

from __future__ import annotations

import argparse
import math
import os
import sys

PROG = "python -m tinygrad_cnn"

# Defaults of `train`, chosen so that a plain `python -m tinygrad_cnn train` reaches >= 98% test
# accuracy on the digits split in well under a minute on two idle cores: SGD with momentum and
# weight decay, a cosine learning-rate decay and random affine distortions of the training
# images (rotation <= 10 degrees, scale +-10%, shift <= 2 px). Without augmentation LeNet-5
# fits the 1,438 training images perfectly within a few epochs and stalls at ~96-97% test.
DEFAULT_EPOCHS = 25
DEFAULT_BATCH_SIZE = 32
DEFAULT_OPTIMIZER = "sgd"
DEFAULT_LR = {"sgd": 0.05, "adam": 2e-3}
DEFAULT_MOMENTUM = 0.9
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adam": 0.0}
DEFAULT_SCHEDULE = "cosine"
DEFAULT_AUGMENT = "affine"
AUGMENTATIONS = {  # --augment choice -> description
    "affine": "random rotation <= 10 degrees, scale 0.9-1.1 and shift <= 2 px, bilinear",
    "shift": "random whole-pixel shifts of up to 2 px",
    "none": "no augmentation",
}
DEFAULT_SEED = 0
MAX_DEFAULT_THREADS = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``error: <message> (see ... --help)``."""

    def error(self, message):
        message = " ".join(str(message).split())
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


# --------------------------------------------------------------------------------------------
# argument types
# --------------------------------------------------------------------------------------------

def _int_type(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _float_type(low, high=None, low_inclusive=False):
    bound = f"{'>=' if low_inclusive else '>'} {low:g}" + (f" and < {high:g}" if high is not None else "")

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}") from None
        ok = math.isfinite(value) and (value >= low if low_inclusive else value > low)
        if ok and high is not None:
            ok = value < high
        if not ok:
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _default_threads():
    return max(1, min(MAX_DEFAULT_THREADS, os.cpu_count() or 1))


# --------------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="tinygrad_cnn: train LeNet-5 with a small autograd framework, or run the "
                    "benchmarks.",
        epilog=f"Run '{PROG} train --help' for the training options and '{PROG} bench --help' "
               f"for the benchmark's.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"tinygrad_cnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,bench}", required=True)

    t = sub.add_parser(
        "train",
        help="train LeNet-5 on the bundled digits (default) or MNIST",
        description="Train LeNet-5 (LeCun et al. 1998) on scikit-learn's bundled handwritten\n"
                    "digits, resized to 32x32 (no download), or on MNIST. Shows a progress bar\n"
                    "on stderr, prints one line per epoch and ends with 'test accuracy: 0.XXXX'.",
        epilog="Examples:\n"
               f"  {PROG} train\n"
               f"  {PROG} train --epochs 2 --save ck.npz && {PROG} train --resume ck.npz --epochs 3\n"
               f"  {PROG} train --dataset mnist --data-dir ~/data/mnist --epochs 3 --plot curves.png\n"
               f"  {PROG} train --limit 200 --epochs 1 --no-progress     # quick smoke test",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = t.add_argument_group("data")
    data.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                      help="digits: scikit-learn's 1,797 8x8 digits resized to 32x32, fixed "
                           "80/20 split; mnist: the 60,000/10,000 MNIST IDX files padded to "
                           "32x32 (default: digits)")
    data.add_argument("--data-dir", metavar="DIR",
                      help="directory holding the four MNIST IDX files (raw or .gz); required "
                           "with --dataset mnist")
    data.add_argument("--limit", type=_int_type(1), metavar="N",
                      help="use only the first N training and the first N test examples "
                           "(useful for smoke tests; default: all)")

    opt = t.add_argument_group("optimisation")
    opt.add_argument("--epochs", type=_int_type(1), default=DEFAULT_EPOCHS, metavar="N",
                     help=f"number of epochs to train (with --resume: additional epochs) "
                          f"(default: {DEFAULT_EPOCHS})")
    opt.add_argument("--batch-size", type=_int_type(1), metavar="N",
                     help=f"mini-batch size (default: {DEFAULT_BATCH_SIZE})")
    opt.add_argument("--optimizer", choices=("sgd", "adam"),
                     help=f"optimiser (default: {DEFAULT_OPTIMIZER})")
    opt.add_argument("--lr", type=_float_type(0.0), metavar="LR",
                     help=f"(initial) learning rate > 0 (default: {DEFAULT_LR['sgd']:g} for sgd, "
                          f"{DEFAULT_LR['adam']:g} for adam)")
    opt.add_argument("--schedule", choices=("cosine", "constant"),
                     help="learning rate per epoch: cosine decay from --lr towards 0 over the "
                          f"epochs, or constant (default: {DEFAULT_SCHEDULE})")
    opt.add_argument("--momentum", type=_float_type(0.0, 1.0, low_inclusive=True), metavar="M",
                     help=f"SGD momentum in [0, 1) (sgd only; default: {DEFAULT_MOMENTUM:g})")
    opt.add_argument("--weight-decay", type=_float_type(0.0, low_inclusive=True), metavar="WD",
                     help=f"L2 weight decay >= 0 (default: {DEFAULT_WEIGHT_DECAY['sgd']:g} for "
                          f"sgd, {DEFAULT_WEIGHT_DECAY['adam']:g} for adam)")
    opt.add_argument("--augment", choices=tuple(AUGMENTATIONS),
                     help="random distortion of every training image: "
                          + "; ".join(f"{k}: {v}" for k, v in AUGMENTATIONS.items() if k != "none")
                          + f"; none: off (default: {DEFAULT_AUGMENT})"),
    opt.add_argument("--seed", type=_int_type(0), metavar="S",
                     help=f"seed (>= 0) of the weight initialisation, the shuffling and the "
                          f"augmentation; the same seed gives the same result (default: "
                          f"{DEFAULT_SEED})")

    io = t.add_argument_group("checkpoints and output")
    io.add_argument("--save", metavar="PATH",
                    help="write a checkpoint (.npz: model and optimiser state, epoch counter, "
                         "curves) to PATH after every epoch")
    io.add_argument("--resume", metavar="PATH",
                    help="continue from a checkpoint written by --save: model, optimiser state, "
                         "epoch counter and curves; the run's settings (optimizer, lr, schedule, "
                         "momentum, weight decay, augment, batch size, seed) are taken from the "
                         "checkpoint unless given again")
    io.add_argument("--plot", metavar="PATH",
                    help="save the loss and accuracy curves as a PNG to PATH (needs matplotlib: "
                         "pip install tinygrad-cnn[plot])")
    io.add_argument("--no-progress", action="store_true",
                    help="do not show the progress bar")
    io.add_argument("--threads", type=_int_type(1), metavar="N",
                    help=f"number of Numba threads (default: {MAX_DEFAULT_THREADS} or the "
                         f"number of CPUs, whichever is smaller)")
    t.set_defaults(handler=_train, subparser=t)

    sub.add_parser(
        "bench", add_help=False,
        help="run the benchmark suite and print its table (options: "
             f"'{PROG} bench --help')",
    )
    return parser


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _describe(exc) -> str:
    """A one-line description of an exception from a loader (no '[Errno 2]' noise)."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
        if exc.filename is not None and str(exc.filename) not in text:
            text += f": {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


#: run settings stored in a checkpoint as ``meta.<name>``, with their Python type
_META = {"epoch": int, "seed": int, "optimizer": str, "dataset": str, "lr": float,
         "schedule": str, "augment": str, "batch_size": int}


def _scalar(state, key, kind):
    """``state[key]`` as a Python int/float/str, or ``None`` if absent; ValueError if malformed."""
    if key not in state:
        return None
    arr = state[key]
    if arr.shape != ():
        raise ValueError(f"{key} must be a scalar, got shape {arr.shape}")
    if kind is int:
        if arr.dtype.kind not in "iu" or int(arr) < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {arr!r}")
        return int(arr)
    if kind is float:
        if arr.dtype.kind not in "iuf" or not math.isfinite(float(arr)) or float(arr) <= 0:
            raise ValueError(f"{key} must be a positive number, got {arr!r}")
        return float(arr)
    if arr.dtype.kind not in "US":
        raise ValueError(f"{key} must be a string, got dtype {arr.dtype}")
    value = arr.item()
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_checkpoint(path):
    """Split a --save checkpoint into (model state, optimiser state, meta dict)."""
    from .checkpoint import load

    state = load(path)
    model_state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    optim_state = {k[len("optim."):]: v for k, v in state.items() if k.startswith("optim.")}
    if not model_state or "meta.epoch" not in state:
        raise ValueError(f"{path} is not a training checkpoint written by --save (it needs "
                         f"'model.*' and 'meta.epoch' entries; found "
                         f"{', '.join(sorted(state)[:5]) or 'no entries'})")
    meta = {name: _scalar(state, f"meta.{name}", kind) for name, kind in _META.items()}
    for name, choices in (("optimizer", ("sgd", "adam")), ("schedule", ("cosine", "constant")),
                          ("augment", tuple(AUGMENTATIONS))):
        if meta[name] is not None and meta[name] not in choices:
            raise ValueError(f"meta.{name} is {meta[name]!r}, expected one of {choices}")
    if meta["batch_size"] == 0:
        raise ValueError("meta.batch_size must be >= 1")
    meta["history"] = {}
    prefix = "meta.history."
    for key, value in state.items():
        if key.startswith(prefix) and value.ndim == 1:
            meta["history"][key[len(prefix):]] = value.tolist()
    return model_state, optim_state, meta


def _checkpoint_state(model, optimizer, settings, epoch, history):
    import numpy as np

    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    state.update({f"optim.{k}": v for k, v in optimizer.state_dict().items()})
    for name, kind in _META.items():
        value = epoch if name == "epoch" else settings[name]
        state[f"meta.{name}"] = np.array(value, dtype=np.int64 if kind is int else None)
    for key, values in history.items():
        state[f"meta.history.{key}"] = np.asarray(values, dtype=np.float64)
    return state


def _merge_history(previous, current):
    """``previous`` (from a checkpoint) followed by ``current`` (this run), key by key."""
    from .train import HISTORY_KEYS

    n_prev = len(previous.get("epoch", []))
    out = {}
    for key in HISTORY_KEYS:
        old = list(previous.get(key, []))
        if len(old) != n_prev:  # an incomplete curve in the checkpoint: pad with NaN
            old = [float("nan")] * n_prev
        out[key] = old + list(current.get(key, []))
    return out


def _check_output_path(parser, option, path):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        parser.error(f"{option}: directory {directory!r} does not exist")
    if os.path.isdir(path):
        parser.error(f"{option}: {path!r} is a directory")


def _first(*values):
    return next(v for v in values if v is not None)


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------

def _train(args, parser) -> int:
    # ---- checks that need nothing heavy
    if args.dataset == "mnist" and not args.data_dir:
        parser.error("--dataset mnist needs --data-dir DIR (the directory holding the MNIST "
                     "IDX files)")
    if args.dataset != "mnist" and args.data_dir:
        parser.error("--data-dir is only used with --dataset mnist")
    if args.save:
        _check_output_path(parser, "--save", args.save)
    if args.plot:
        _check_output_path(parser, "--plot", args.plot)
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install tinygrad-cnn[plot]")

    model_state = optim_state = None
    meta = dict.fromkeys(_META)
    meta["history"] = {}
    if args.resume:
        try:
            model_state, optim_state, meta = _read_checkpoint(args.resume)
        except (OSError, ValueError) as exc:
            parser.error(f"--resume: cannot use {args.resume!r}: {_describe(exc)}")

    # ---- settings: explicit option > checkpoint (with --resume) > default
    opt_name = _first(args.optimizer, meta["optimizer"], DEFAULT_OPTIMIZER)
    if meta["optimizer"] and opt_name != meta["optimizer"]:
        parser.error(f"--optimizer {opt_name} does not match the checkpoint, which was trained "
                     f"with {meta['optimizer']}")
    if args.momentum is not None and opt_name != "sgd":
        parser.error("--momentum applies to --optimizer sgd only")
    settings = {
        "optimizer": opt_name,
        "dataset": args.dataset,
        "seed": _first(args.seed, meta["seed"], DEFAULT_SEED),
        "lr": _first(args.lr, meta["lr"], DEFAULT_LR[opt_name]),
        "schedule": _first(args.schedule, meta["schedule"], DEFAULT_SCHEDULE),
        "augment": _first(args.augment, meta["augment"], DEFAULT_AUGMENT),
        "batch_size": _first(args.batch_size, meta["batch_size"], DEFAULT_BATCH_SIZE),
    }

    # ---- threads
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    threads = args.threads if args.threads is not None else min(_default_threads(), available)
    if threads > available:
        parser.error(f"--threads {threads} is more than the {available} threads Numba may use "
                     f"here (NUMBA_NUM_THREADS)")
    previous_threads = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        return _run_training(args, parser, settings, threads, model_state, optim_state, meta)
    finally:
        numba.set_num_threads(previous_threads)


def _run_training(args, parser, settings, threads, model_state, optim_state, meta):
    from . import data, nn, optim
    from .checkpoint import save
    from .models import LeNet5
    from .train import cosine_schedule, fit, plot_history, random_affine, random_shift

    # ---- data
    try:
        if args.dataset == "digits":
            x_train, y_train, x_test, y_test = data.load_digits(size=32)
        else:
            x_train, y_train, x_test, y_test = data.load_mnist(args.data_dir, size=32)
    except (OSError, ValueError) as exc:
        parser.error(f"cannot load {args.dataset}: {_describe(exc)}")
    if args.limit is not None:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        x_test, y_test = x_test[:args.limit], y_test[:args.limit]

    # ---- model and optimiser
    opt_name, seed, lr = settings["optimizer"], settings["seed"], settings["lr"]
    weight_decay = _first(args.weight_decay, DEFAULT_WEIGHT_DECAY[opt_name])
    nn.manual_seed(seed)
    model = LeNet5()
    if opt_name == "adam":
        optimizer = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        optimizer = optim.SGD(model.parameters(), lr=lr,
                              momentum=_first(args.momentum, DEFAULT_MOMENTUM),
                              weight_decay=weight_decay)
    start_epoch = 0
    if model_state is not None:
        try:
            model.load_state_dict(model_state)
            if optim_state:
                optimizer.load_state_dict(optim_state)
        except (TypeError, ValueError) as exc:
            parser.error(f"--resume: {args.resume!r} does not fit LeNet-5 / {opt_name}: "
                         f"{_describe(exc)}")
        # explicit options override the hyperparameters restored from the checkpoint
        if args.momentum is not None:
            optimizer.momentum = args.momentum
        if args.weight_decay is not None:
            optimizer.weight_decay = args.weight_decay
        start_epoch = meta["epoch"]
    last_epoch = start_epoch + args.epochs
    if settings["schedule"] == "cosine":
        # epoch e of a plan of last_epoch epochs gets the same rate whether or not the run
        # was interrupted and resumed in between
        lr_schedule = cosine_schedule(lr, last_epoch)
    else:
        def lr_schedule(epoch):
            return lr
    augment = {"affine": random_affine(10.0, 0.1, 2.0), "shift": random_shift(2),
               "none": None}[settings["augment"]]

    count = getattr(model, "trainable_parameter_count", None)
    n_params = count() if callable(count) else sum(p.data.size for p in model.parameters())
    hyper = f"lr {lr:g} ({settings['schedule']})"
    if opt_name == "sgd":
        hyper += f", momentum {optimizer.momentum:g}"
    if getattr(optimizer, "weight_decay", 0):
        hyper += f", weight decay {optimizer.weight_decay:g}"
    aug = "no augmentation" if settings["augment"] == "none" else \
        f"{settings['augment']} augmentation"
    print(f"LeNet-5 ({n_params:,} trainable parameters) on {args.dataset}: "
          f"{len(x_train)} train / {len(x_test)} test images; {opt_name} {hyper}, "
          f"batch {settings['batch_size']}, {aug}, seed {seed}, "
          f"{threads} thread{'s' if threads != 1 else ''}", flush=True)
    if model_state is not None:
        print(f"resumed from {args.resume} after epoch {start_epoch}", flush=True)

    previous_history = meta["history"]
    saved_epoch = [None]

    def on_epoch(epoch, history):
        if args.save:
            merged = _merge_history(previous_history, history)
            save(_checkpoint_state(model, optimizer, settings, epoch, merged), args.save)
            saved_epoch[0] = epoch

    def log(line):
        print(line, flush=True)

    try:
        history = fit(model, optimizer, x_train, y_train, x_test, y_test, epochs=args.epochs,
                      batch_size=settings["batch_size"], seed=seed, start_epoch=start_epoch,
                      augment=augment, lr_schedule=lr_schedule, progress=not args.no_progress,
                      log=log, on_epoch=on_epoch)
    except KeyboardInterrupt:
        where = f"; checkpoint of epoch {saved_epoch[0]} in {args.save}" if saved_epoch[0] else ""
        print(f"error: interrupted{where}", file=sys.stderr)
        return 130
    except FloatingPointError as exc:
        print(f"error: {exc} (try a smaller --lr)", file=sys.stderr)
        return 1
    except OSError as exc:  # writing the checkpoint failed (disk full, permissions, ...)
        print(f"error: cannot write checkpoint {args.save!r}: {_describe(exc)}", file=sys.stderr)
        return 1

    if args.save:
        print(f"saved checkpoint (epoch {saved_epoch[0]}) to {args.save}")
    if args.plot:
        try:
            plot_history(_merge_history(previous_history, history), args.plot,
                         title=f"LeNet-5 on {args.dataset}")
        except (OSError, ValueError) as exc:
            print(f"error: cannot write plot {args.plot!r}: {_describe(exc)}", file=sys.stderr)
            return 1
        print(f"saved plot to {args.plot}")
    print(f"test accuracy: {history['test_acc'][-1]:.4f}")
    return 0


# --------------------------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------------------------

def _bench(argv, parser) -> int:
    try:
        from . import benchmark
    except ModuleNotFoundError as exc:
        if exc.name not in ("tinygrad_cnn.benchmark", __package__ + ".benchmark"):
            raise
        parser.error("bench: the benchmark module (tinygrad_cnn.benchmark) is not available")
    result = benchmark.main(list(argv))
    return result if isinstance(result, int) else 0


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Argument errors raise ``SystemExit(2)`` after a one-line ``error: ...`` on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "bench":  # everything after 'bench' belongs to the benchmark
        return _bench(argv[1:], parser)
    args = parser.parse_args(argv)
    return args.handler(args, args.subparser)


if __name__ == "__main__":
    sys.exit(main())
