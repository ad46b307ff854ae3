"""The training loop: :func:`fit` and :func:`evaluate`.

::

    from tinygrad_cnn.recipe import TrainingRecipe
    from tinygrad_cnn.train import fit

    recipe = TrainingRecipe()                          # the command line's defaults
    x_train, y_train, x_test, y_test = recipe.load_data()
    model, opt = recipe.build()                        # seeded LeNet-5 and its SGD
    history = fit(model, opt, x_train, y_train, x_test, y_test, epochs=recipe.epochs,
                  batch_size=recipe.batch_size, seed=recipe.seed,
                  augment=recipe.augmentation(), scheduler=recipe.scheduler(opt))

That is what ``TrainingRecipe().run()`` does (:mod:`tinygrad_cnn.recipe`); any model, any
optimiser with ``zero_grad()``/``step()`` and any scheduler with ``step()`` work the same way.

Batches come from a :class:`~tinygrad_cnn.data.DataLoader` over a
:class:`~tinygrad_cnn.data.TensorDataset` of the training arrays.

Reproducibility: the order of the mini-batches of epoch ``e`` is a permutation drawn from
``numpy.random.default_rng((seed, e))`` (the loader's ``generator``), so it depends only on the seed and the epoch number.
With the same initial weights (``nn.manual_seed``), the same seed and the same number of
Numba threads, two runs give bit-identical weights and histories, and a run resumed from a
checkpoint of epoch ``k`` (``start_epoch=k``, optimiser state restored) continues exactly as
the uninterrupted run would have.

Memory: nothing of a step's graph outlives the step (the loss is read with ``.item()``, the
backward pass releases the graph and evaluation runs under ``no_grad``), so the resident
memory stays flat from epoch to epoch.

``random_shift``, ``random_affine`` (now in :mod:`tinygrad_cnn.data.augment`),
``cosine_schedule`` (:mod:`tinygrad_cnn.optim.lr_scheduler`) and ``plot_history``
(:mod:`tinygrad_cnn.plots`) are still importable from here.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from . import _checks
from . import functional as F
from .data import DataLoader, TensorDataset
from .data.augment import random_affine, random_shift
from .optim.lr_scheduler import cosine_schedule
from .plots import plot_history
from .tensor import Tensor, no_grad

__all__ = ["fit", "evaluate", "HISTORY_KEYS",
           # kept here for existing imports; they live in data.augment, optim.lr_scheduler, plots
           "random_shift", "random_affine", "cosine_schedule", "plot_history"]

#: keys of the history dict returned by :func:`fit`, one list entry per epoch
HISTORY_KEYS = ("epoch", "loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------

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
    batch_size = _checks.positive_int(batch_size, "batch_size")
    training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    total_loss, correct = 0.0, 0
    try:
        with no_grad():
            for xb, yb in DataLoader(TensorDataset(x, y), batch_size):
                logits = model(xb)
                total_loss += F.cross_entropy(logits, yb).item() * len(yb)
                correct += int((logits.data.argmax(axis=1) == yb.data).sum())
    finally:
        _restore_mode(model, training)
    n = len(y)
    return total_loss / n, correct / n


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------

def _progress_bar(total, desc, enabled):
    if not enabled:  # tqdm.auto imports asyncio: 25 ms of a 1.5 s training run, for a bar nobody sees
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, leave=False, dynamic_ncols=True)


class _NoBar:
    """What ``fit`` calls on a progress bar, doing nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def set_postfix_str(self, *args, **kwargs):
        pass

    def update(self, n=1):
        pass


def fit(model, optimizer, x_train, y_train, x_test=None, y_test=None, epochs=10,
        batch_size=32, seed=0, *, start_epoch=0, augment=None, scheduler=None, lr_schedule=None,
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
    scheduler : LRScheduler or None
        A learning-rate scheduler of ``optimizer`` (e.g.
        :class:`~tinygrad_cnn.optim.lr_scheduler.CosineAnnealingLR`); its ``step()`` is called
        once at the end of every epoch, after the evaluation, as in PyTorch.
    lr_schedule : callable or None
        The older form: ``lr_schedule(epoch) -> learning rate``, set as ``optimizer.lr``
        before each epoch (e.g. :func:`cosine_schedule`). Give at most one of ``scheduler``
        and ``lr_schedule``; with neither the learning rate is left alone.
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
    epochs = _checks.positive_int(epochs, "epochs")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    seed = _checks.nonneg_int(seed, "seed")
    start_epoch = _checks.nonneg_int(start_epoch, "start_epoch")
    eval_batch_size = _checks.positive_int(eval_batch_size, "eval_batch_size")
    for name, fn in (("augment", augment), ("lr_schedule", lr_schedule), ("log", log),
                     ("on_epoch", on_epoch)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    if scheduler is not None:
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler must have a step() method, got {type(scheduler).__name__}")
        if lr_schedule is not None:
            raise ValueError("fit: give a scheduler or an lr_schedule, not both")
    if log is None:
        def log(_line):
            return None

    history = {key: [] for key in HISTORY_KEYS}
    train_set = TensorDataset(x_train, y_train)
    n = len(train_set)
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
            # one generator per epoch: the loader's permutation first, then the augmentation
            rng = np.random.default_rng((seed, epoch))
            loader = DataLoader(train_set, batch_size, shuffle=True, generator=rng)
            total_loss, correct = 0.0, 0
            with _progress_bar(n_batches, f"epoch {epoch:>{width}}/{last}", progress) as bar:
                seen = 0
                for i, (xb, yb) in enumerate(loader):
                    if augment is not None:
                        xb = Tensor(augment(xb.data, rng))
                    optimizer.zero_grad()
                    logits = model(xb)
                    loss = F.cross_entropy(logits, yb)
                    value = loss.item()
                    if stop_on_nan and not math.isfinite(value):  # before it spoils the weights
                        raise FloatingPointError(
                            f"training loss became {value} at epoch {epoch}, batch {i + 1}/"
                            f"{n_batches}; the learning rate is probably too large")
                    loss.backward()
                    optimizer.step()
                    total_loss += value * len(yb)
                    correct += int((logits.data.argmax(axis=1) == yb.data).sum())
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
            if scheduler is not None:
                scheduler.step()  # the next epoch's rate
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
