"""Training loop: :func:`fit`, :func:`evaluate` and :func:`plot_history`.

::

    from tinygrad_cnn import nn, optim
    from tinygrad_cnn.data import load_digits
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.train import cosine_schedule, fit, plot_history, random_affine

    x_train, y_train, x_test, y_test = load_digits(size=32)
    nn.manual_seed(0)
    model = LeNet5()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    history = fit(model, opt, x_train, y_train, x_test, y_test, epochs=25, batch_size=32, seed=0,
                  augment=random_affine(10, 0.1, 2), lr_schedule=cosine_schedule(0.05, 25))
    plot_history(history, "curves.png")     # test accuracy ~0.98-0.99 (the CLI's defaults)

Reproducibility: the order of the mini-batches of epoch ``e`` is a permutation drawn from
``numpy.random.default_rng((seed, e))``, so it depends only on the seed and the epoch number.
With the same initial weights (``nn.manual_seed``), the same seed and the same number of
Numba threads, two runs give bit-identical weights and histories, and a run resumed from a
checkpoint of epoch ``k`` (``start_epoch=k``, optimiser state restored) continues exactly as
the uninterrupted run would have.

Memory: nothing of a step's graph outlives the step (the loss is read with ``.item()``, the
backward pass releases the graph and evaluation runs under ``no_grad``), so the resident
memory stays flat from epoch to epoch.
"""

from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np

from . import functional as F
from .data import batches
from .tensor import Tensor, no_grad

__all__ = ["fit", "evaluate", "plot_history", "random_shift", "random_affine", "cosine_schedule",
           "HISTORY_KEYS"]

#: keys of the history dict returned by :func:`fit`, one list entry per epoch
HISTORY_KEYS = ("epoch", "loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------

def _int_at_least(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _arrays(x, y, name):
    """(x, y) as numpy arrays with matching, non-zero sample counts and integer labels."""
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if x.ndim == 0 or y.ndim != 1:
        raise ValueError(f"{name}: x must have a leading sample axis and y must be 1-D labels, "
                         f"got shapes x {x.shape} and y {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{name}: x and y must have the same number of samples, got shapes "
                         f"x {x.shape} and y {y.shape}")
    if len(x) == 0:
        raise ValueError(f"{name}: no samples (x has shape {x.shape})")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integer class indices, got dtype {y.dtype}")
    return x, y


def _restore_mode(model, training):
    if training is not None and hasattr(model, "train"):
        model.train(training)


# --------------------------------------------------------------------------------------------
# augmentation and learning-rate schedule
# --------------------------------------------------------------------------------------------

def random_shift(max_shift=2):
    """Data augmentation for :func:`fit`: translate each image by a random whole number of
    pixels in ``[-max_shift, max_shift]`` along each of the last two axes, independently per
    image; the vacated border is filled by replicating the edge pixels (background for digits).

    Returns ``augment(x_batch, rng) -> new batch`` (same shape and dtype; the input is not
    modified). ``max_shift=0`` returns the batch unchanged.
    """
    max_shift = _int_at_least(max_shift, "max_shift", 0)

    def augment(xb, rng):
        if max_shift == 0:
            return xb
        xb = np.asarray(xb)
        if xb.ndim < 2:
            raise ValueError(f"random_shift: images must have at least 2 axes (N, ..., H, W), "
                             f"got shape {xb.shape}")
        s = max_shift
        n, (h, w) = xb.shape[0], xb.shape[-2:]
        pad = [(0, 0)] * (xb.ndim - 2) + [(s, s), (s, s)]
        padded = np.pad(xb, pad, mode="edge")
        dy = rng.integers(0, 2 * s + 1, size=n)
        dx = rng.integers(0, 2 * s + 1, size=n)
        rows = (dy[:, None] + np.arange(h))  # (n, h)
        cols = (dx[:, None] + np.arange(w))  # (n, w)
        # move the sample axis next to the spatial ones, gather, move it back
        p = np.moveaxis(padded, 0, -3)  # (..., n, H+2s, W+2s)
        out = p[..., np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return np.ascontiguousarray(np.moveaxis(out, -3, 0))

    augment.max_shift = max_shift
    return augment


def _nonneg_float(value, name, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0 or (high is not None and value >= high):
        bound = f"in [0, {high})" if high is not None else "finite and >= 0"
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    return float(value)


def random_affine(max_rotation=10.0, max_scale=0.1, max_shift=2.0):
    """Data augmentation for :func:`fit`: a random affine distortion of each image.

    Each image (all its channels alike) is rotated about its centre by an angle drawn
    uniformly from ``[-max_rotation, max_rotation]`` degrees, scaled by a factor from
    ``[1 - max_scale, 1 + max_scale]`` and translated by ``[-max_shift, max_shift]`` pixels
    (real-valued) along each axis, then resampled bilinearly; points that fall outside the
    image take the nearest edge pixel (the background for digits).

    Returns ``augment(x_batch, rng) -> new batch`` of the same shape and dtype (the input is not
    modified); the images are the last two axes, the first axis indexes them. With all three
    ranges 0 the batch is returned unchanged.
    """
    max_rotation = _nonneg_float(max_rotation, "max_rotation")
    max_scale = _nonneg_float(max_scale, "max_scale", high=1.0)
    max_shift = _nonneg_float(max_shift, "max_shift")

    def augment(xb, rng):
        if max_rotation == max_scale == max_shift == 0:
            return xb
        xb = np.asarray(xb)
        if xb.ndim < 3:
            raise ValueError(f"random_affine: images must be (N, ..., H, W), got shape {xb.shape}")
        shape = xb.shape
        n, h, w = shape[0], shape[-2], shape[-1]
        x = xb.reshape(n, -1, h, w)
        angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
        scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, n)
        ty = rng.uniform(-max_shift, max_shift, n)
        tx = rng.uniform(-max_shift, max_shift, n)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        yy, xx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
        cos = (np.cos(angle) / scale)[:, None, None]
        sin = (np.sin(angle) / scale)[:, None, None]
        # output pixel (i, j) samples the input at the inverse transform of (i, j)
        sy = np.clip(cos * yy - sin * xx + cy - ty[:, None, None], 0, h - 1)
        sx = np.clip(sin * yy + cos * xx + cx - tx[:, None, None], 0, w - 1)
        y0 = np.floor(sy).astype(np.intp)
        x0 = np.floor(sx).astype(np.intp)
        y1 = np.minimum(y0 + 1, h - 1)
        x1 = np.minimum(x0 + 1, w - 1)
        fy = (sy - y0)[:, None]
        fx = (sx - x0)[:, None]
        ni = np.arange(n)[:, None, None]

        def gather(yi, xi):  # (n, C, h, w)
            return np.moveaxis(x[ni, :, yi, xi], -1, 1)

        out = (gather(y0, x0) * (1 - fy) * (1 - fx) + gather(y0, x1) * (1 - fy) * fx
               + gather(y1, x0) * fy * (1 - fx) + gather(y1, x1) * fy * fx)
        return np.ascontiguousarray(out.astype(xb.dtype, copy=False).reshape(shape))

    augment.params = (max_rotation, max_scale, max_shift)
    return augment


def cosine_schedule(lr, total_epochs, min_lr=0.0):
    """Cosine learning-rate decay for :func:`fit`'s ``lr_schedule``.

    Returns ``schedule(epoch) -> learning rate`` for epochs numbered from 1:
    ``min_lr + (lr - min_lr) * (1 + cos(pi * (epoch - 1) / total_epochs)) / 2``, i.e. ``lr`` in
    the first epoch, decreasing smoothly towards ``min_lr`` in the last.
    """
    total_epochs = _int_at_least(total_epochs, "total_epochs", 1)
    lr, min_lr = float(lr), float(min_lr)

    def schedule(epoch):
        return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / total_epochs))

    return schedule


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------

def evaluate(model, x, y, batch_size=500):
    """Mean cross-entropy loss and accuracy of ``model`` on ``(x, y)``: ``(loss, accuracy)``.

    Runs in evaluation mode (``model.eval()``; the previous mode is restored afterwards) and
    under :class:`no_grad`, ``batch_size`` examples at a time, in order. The loss is the mean
    over all examples (batches weighted by their size); the accuracy is the fraction of
    examples whose largest logit is at the true label. Both are Python floats.
    """
    x, y = _arrays(x, y, "evaluate")
    batch_size = _int_at_least(batch_size, "batch_size", 1)
    training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    total_loss, correct = 0.0, 0
    try:
        with no_grad():
            for xb, yb in batches(x, y, batch_size, shuffle=False):
                logits = model(Tensor(xb))
                total_loss += F.cross_entropy(logits, yb).item() * len(yb)
                correct += int((logits.data.argmax(axis=1) == yb).sum())
    finally:
        _restore_mode(model, training)
    n = len(y)
    return total_loss / n, correct / n


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------

def _progress_bar(total, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, leave=False,
                disable=not enabled, dynamic_ncols=True)


def fit(model, optimizer, x_train, y_train, x_test=None, y_test=None, epochs=10,
        batch_size=32, seed=0, *, start_epoch=0, augment=None, lr_schedule=None,
        eval_batch_size=500, progress=True, log=print, on_epoch=None, stop_on_nan=True):
    """Train ``model`` with ``optimizer`` on ``(x_train, y_train)`` for ``epochs`` epochs.

    Each epoch: the training set is shuffled into mini-batches of ``batch_size`` (the last may
    be smaller) with ``numpy.random.default_rng((seed, epoch))``; for each batch the model
    runs forward, :func:`functional.cross_entropy` gives the loss, ``backward()`` the
    gradients and ``optimizer.step()`` the update (gradients are cleared before each
    backward). Then the test set, if given, is evaluated with :func:`evaluate`.

    Parameters
    ----------
    model : Module
        Called on a ``Tensor`` batch, returns logits ``(N, classes)``.
    optimizer
        Has ``zero_grad()`` and ``step()`` (``optim.SGD``, ``optim.Adam``).
    x_train, y_train, x_test, y_test : arrays
        Inputs and integer labels; the test pair is optional (``None``).
    epochs, batch_size : int >= 1
    seed : int >= 0
        Seeds the shuffling (not the weights: use ``nn.manual_seed`` before building the model).
    start_epoch : int >= 0
        Number of epochs already done (when resuming): epochs are numbered
        ``start_epoch + 1 .. start_epoch + epochs`` and shuffled accordingly.
    augment : callable or None
        ``augment(x_batch, rng) -> x_batch`` applied to every training batch (e.g.
        :func:`random_affine`, :func:`random_shift`); ``rng`` is the epoch's generator, so
        training stays reproducible.
    lr_schedule : callable or None
        ``lr_schedule(epoch) -> learning rate``, set as ``optimizer.lr`` before each epoch
        (e.g. :func:`cosine_schedule`); ``None`` leaves the learning rate alone.
    eval_batch_size : int >= 1
        Batch size of the evaluation pass.
    progress : bool
        Show a tqdm progress bar (on stderr) over each epoch's batches with the running loss.
    log : callable or None
        Receives one summary line per epoch, e.g.
        ``epoch 3/10  loss 0.1234  train acc 0.9876  test acc 0.9750  4.2s``
        (default ``print``, i.e. stdout; ``None`` for silence).
    on_epoch : callable or None
        ``on_epoch(epoch, history)`` after each epoch (``epoch`` counts from
        ``start_epoch + 1``); if it returns ``True`` training stops after that epoch.
    stop_on_nan : bool
        Raise ``FloatingPointError`` as soon as the training loss is not finite (a learning
        rate that is too large), instead of training on NaNs.

    Returns
    -------
    dict
        ``history`` with one entry per epoch of this call in each list: ``epoch``,
        ``loss`` (mean training loss over the epoch), ``train_acc`` (accuracy on the training
        batches as they were seen during the epoch, before each update), ``test_loss`` and
        ``test_acc`` (``nan`` without a test set), ``lr`` (the optimiser's learning rate during
        the epoch, ``nan`` if it has none) and ``seconds`` (wall time of the epoch, evaluation
        included).
    """
    x_train, y_train = _arrays(x_train, y_train, "fit (training set)")
    has_test = x_test is not None or y_test is not None
    if has_test:
        if x_test is None or y_test is None:
            raise ValueError("fit: pass both x_test and y_test, or neither")
        x_test, y_test = _arrays(x_test, y_test, "fit (test set)")
    epochs = _int_at_least(epochs, "epochs", 1)
    batch_size = _int_at_least(batch_size, "batch_size", 1)
    seed = _int_at_least(seed, "seed", 0)
    start_epoch = _int_at_least(start_epoch, "start_epoch", 0)
    eval_batch_size = _int_at_least(eval_batch_size, "eval_batch_size", 1)
    for name, fn in (("augment", augment), ("lr_schedule", lr_schedule), ("log", log),
                     ("on_epoch", on_epoch)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    if log is None:
        def log(_line):
            return None

    history = {key: [] for key in HISTORY_KEYS}
    n = len(x_train)
    n_batches = math.ceil(n / batch_size)
    last = start_epoch + epochs
    width = len(str(last))
    training = getattr(model, "training", None)
    try:
        for epoch in range(start_epoch + 1, last + 1):
            t0 = time.perf_counter()
            if hasattr(model, "train"):
                model.train()
            if lr_schedule is not None:
                lr = float(lr_schedule(epoch))
                if not (math.isfinite(lr) and lr >= 0):
                    raise ValueError(f"lr_schedule({epoch}) returned {lr!r}; a learning rate "
                                     f"must be finite and >= 0")
                optimizer.lr = lr
            lr = float(getattr(optimizer, "lr", float("nan")))
            rng = np.random.default_rng((seed, epoch))
            total_loss, correct = 0.0, 0
            with _progress_bar(n_batches, f"epoch {epoch:>{width}}/{last}", progress) as bar:
                seen = 0
                for i, (xb, yb) in enumerate(batches(x_train, y_train, batch_size, rng=rng)):
                    if augment is not None:
                        xb = augment(xb, rng)
                    optimizer.zero_grad()
                    logits = model(Tensor(xb))
                    loss = F.cross_entropy(logits, yb)
                    value = loss.item()
                    if stop_on_nan and not math.isfinite(value):  # before it spoils the weights
                        raise FloatingPointError(
                            f"training loss became {value} at epoch {epoch}, batch {i + 1}/"
                            f"{n_batches}; the learning rate is probably too large")
                    loss.backward()
                    optimizer.step()
                    total_loss += value * len(yb)
                    correct += int((logits.data.argmax(axis=1) == yb).sum())
                    seen += len(yb)
                    del logits, loss  # nothing of this step's graph survives it
                    bar.set_postfix_str(f"loss {total_loss / seen:.4f}", refresh=False)
                    bar.update(1)
            optimizer.zero_grad()  # do not keep the last step's gradients alive
            train_loss, train_acc = total_loss / n, correct / n
            if has_test:
                test_loss, test_acc = evaluate(model, x_test, y_test, eval_batch_size)
            else:
                test_loss = test_acc = float("nan")
            seconds = time.perf_counter() - t0
            for key, value in zip(HISTORY_KEYS,
                                  (epoch, train_loss, train_acc, test_loss, test_acc, lr,
                                   seconds)):
                history[key].append(value)
            line = (f"epoch {epoch:>{width}}/{last}  loss {train_loss:.4f}  "
                    f"train acc {train_acc:.4f}")
            if has_test:
                line += f"  test acc {test_acc:.4f}"
            log(line + f"  {seconds:.1f}s")
            if on_epoch is not None and on_epoch(epoch, history) is True:
                break
    finally:
        _restore_mode(model, training)
    return history


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------

def plot_history(history, path=None, title=None):
    """Loss and accuracy curves of a :func:`fit` history, side by side; saved as PNG at ``path``.

    Left panel: training loss (and test loss when present); right panel: training and test
    accuracy, both against the epoch. The format follows the suffix of ``path`` (PNG when it has
    none). Uses Matplotlib's object API with the Agg canvas (no
    pyplot, no change to the global backend). Returns the ``matplotlib.figure.Figure``.
    Needs Matplotlib: ``pip install tinygrad-cnn[plot]``.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plot_history needs matplotlib; install it with "
                          "`pip install tinygrad-cnn[plot]` (or `pip install matplotlib`)") from exc
    if not hasattr(history, "get") or not history.get("loss"):
        raise ValueError("plot_history: history must be the dict returned by fit, with at least "
                         "one epoch of 'loss'")
    loss = np.asarray(history["loss"], dtype=float)
    epochs = np.asarray(history.get("epoch") or range(1, len(loss) + 1), dtype=float)
    if len(epochs) != len(loss):
        raise ValueError(f"plot_history: {len(epochs)} epochs but {len(loss)} loss values")

    def series(key):
        values = history.get(key)
        if values is None or len(values) != len(loss):
            return None
        values = np.asarray(values, dtype=float)
        return None if np.all(np.isnan(values)) else values

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    marker = "o" if len(loss) <= 30 else None
    ax_loss.plot(epochs, loss, marker=marker, label="train")
    test_loss = series("test_loss")
    if test_loss is not None:
        ax_loss.plot(epochs, test_loss, marker=marker, label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    for key, label in (("train_acc", "train"), ("test_acc", "test")):
        values = series(key)
        if values is not None:
            ax_acc.plot(epochs, values, marker=marker, label=label)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=100)  # format from the suffix; PNG when there is none
    return fig
